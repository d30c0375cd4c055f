// options: see options.hpp.
#include "options.hpp"

#include "error/error.hpp"
#include "finite_range.hpp"
#include "metrics/metrics.hpp"
#include "vdev_inputs.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace synscope::app {
namespace {

/// CPUs this process may run on (taskset/cgroup affinity), at least 1.
unsigned usable_cpus() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

// Raw values, converted by finalize_replay_options().
struct RawOptions {
  double bucket_s = 60;
  double settle_s = 360;
  double attempt_s = 5, close_s = 5, inactivity_s = 300;
  std::string internal_nets;
  std::string checksums = "verify";
  std::string server_ports = "zeek";
  uint32_t flow_capacity = 1u << 20;
  uint64_t flow_memory_mib = 0;
  std::vector<CLI::Option*> flow_capacity_options;  ///< one per command that takes engine options
  double max_time_jump_s = 300;
  uint32_t time_jump_frames = 8;
  std::string ipfix_mode = "biflow";
};
RawOptions raw;

uint64_t to_ns(double seconds) { return static_cast<uint64_t>(std::llround(seconds * 1e9)); }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) {
    const size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

void add_memory_budget_option(CLI::App* cmd, uint64_t& budget_mib) {
  cmd->add_option("--memory-budget", budget_mib,
                  "MiB the options may ask for (full flow tables, the buckets of the settle window, the alert "
                  "engine); 0 = MemAvailable from /proc/meminfo. Checked before anything is allocated")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40))
      ->capture_default_str();
}

/// This host's name, the default sensor name ("" when it has none).
std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

void add_sensor_option(CLI::App* cmd, std::string& sensor) {
  sensor = host_name();
  cmd->add_option("--sensor", sensor,
                  "This sensor's name, in synscope_build_info{sensor} and every session record, so a fleet's "
                  "metrics and records tell sensors apart (default: the host name)")
      ->check([](const std::string& v) {
        for (const char c : v) {
          if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\')
            return std::string("no quotes, backslashes or control characters");
        }
        return v.size() > output::kMaxSensorName ? "at most " + std::to_string(output::kMaxSensorName) + " characters"
                                                 : std::string();
      })
      ->capture_default_str();
}

void check_option_products(const detector::AlertPolicy& policy) {
  // Each bound keeps a product of two in-range options from sizing an array or a loop without limit: the
  // ring holds every bucket of the settle window (--bucket 0.001 --bucket-settle 86400 asked for 86 million
  // buckets, 62 GB), and a detector bucket sums record buckets one by one.
  if (raw.settle_s / raw.bucket_s > static_cast<double>(kMaxBucketsHeld)) {
    throw CLI::ValidationError("--bucket-settle", "--bucket-settle " + CLI::detail::to_string(raw.settle_s) +
                                                      " / --bucket " + CLI::detail::to_string(raw.bucket_s) +
                                                      " would hold more than " + std::to_string(kMaxBucketsHeld) +
                                                      " buckets open at once; use a longer --bucket");
  }
  if (policy.detector_bucket_s / raw.bucket_s > static_cast<double>(kMaxBucketsHeld)) {
    throw CLI::ValidationError("--alert-bucket", "--alert-bucket " + CLI::detail::to_string(policy.detector_bucket_s) +
                                                     " / --bucket " + CLI::detail::to_string(raw.bucket_s) +
                                                     " would sum more than " + std::to_string(kMaxBucketsHeld) +
                                                     " record buckets per detector bucket; use a longer --bucket");
  }
}

}  // namespace

void add_ipfix_options(CLI::App* cmd, consumers::ConsumerConfig& c) {
  cmd->add_option("--ipfix-out", c.ipfix_out,
                  "Export every finished session as IPFIX (libfixbuf) to udp://HOST:PORT, tcp://HOST:PORT or "
                  "file:PATH (IPv6 hosts as [ADDRESS]); records the collector does not take are dropped and "
                  "counted (output \"ipfix\")")
      ->check(
          [](const std::string& value) {
            if (value.empty()) return std::string();  // off (as --dump-config writes it when unset)
            ipfix::Destination d;
            std::string why;
            return ipfix::parse_destination(value, d, why) ? std::string() : "'" + value + "': " + why;
          },
          "URL");
  cmd->add_option("--ipfix-mode", raw.ipfix_mode,
                  "biflow: one record per session with RFC 5103 reverse counters; uniflow: two records per "
                  "session (originator->responder, responder->originator)")
      ->check(CLI::IsMember({"biflow", "uniflow"}))
      ->capture_default_str();
  cmd->add_option("--ipfix-template-refresh", c.ipfix_template_refresh_s,
                  "Seconds between template resends over UDP (0: only at start; TCP sends them on each "
                  "connection, a file once)")
      ->check(CLI::Range(0u, 86400u))
      ->capture_default_str();
  cmd->add_option("--ipfix-domain", c.ipfix_domain, "IPFIX observation domain id of the exported messages")
      ->capture_default_str();
}

void add_engine_options(CLI::App* cmd) {
  cmd->add_option("--bucket", raw.bucket_s, "Bucket span in seconds (sub-second allowed)")
      ->check(finite_range(0.001, 86400.0))
      ->capture_default_str();
  cmd->add_option("--bucket-settle", raw.settle_s, "Seconds after its end a bucket waits for sessions still running")
      ->check(finite_range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--internal-nets", raw.internal_nets,
                  "Comma-separated CIDRs that are internal (default: RFC 1918, 100.64.0.0/10, "
                  "169.254.0.0/16, fc00::/7, fe80::/10)");
  cmd->add_option("--checksums", raw.checksums,
                  "verify: ignore segments with a bad TCP checksum, as Zeek does; ignore: keep them (zeek -C)")
      ->check(CLI::IsMember({"verify", "ignore"}))
      ->capture_default_str();
  cmd->add_option("--likely-server-ports", raw.server_ports,
                  "Ports that decide the originator when the SYN was not seen: 'zeek' (Zeek's default set), "
                  "'none', or a comma-separated list")
      ->capture_default_str();
  raw.flow_capacity_options.push_back(
      cmd->add_option("--flow-capacity", raw.flow_capacity, "Flow-table entries allocated at start (per engine core)")
          ->check(CLI::Range(1u, 1u << 28))
          ->capture_default_str());
  cmd->add_option("--flow-memory", raw.flow_memory_mib,
                  "MiB of flow state per engine core (table, index and flood queue, reserved at start): sets "
                  "--flow-capacity to the most flows that fit; 0 = use --flow-capacity")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--attempt-timeout", raw.attempt_s, "Seconds an unanswered SYN is kept (Zeek tcp_attempt_delay)")
      ->check(finite_range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--close-timeout", raw.close_s, "Seconds a closed or reset session is kept (tcp_close_delay)")
      ->check(finite_range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--inactivity-timeout", raw.inactivity_s, "Seconds an idle session is kept")
      ->check(finite_range(1.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--max-time-jump", raw.max_time_jump_s,
                  "Seconds packet time may jump ahead at once: a frame further ahead of an engine's time is held "
                  "until --time-jump-frames frames confirm the jump (a gap in the capture), else dropped as a "
                  "stray timestamp and counted")
      ->check(finite_range(1.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--time-jump-frames", raw.time_jump_frames,
                  "Consecutive frames past --max-time-jump that confirm a jump in packet time (1: every jump is "
                  "taken at once)")
      ->check(CLI::Range(1u, engine::kMaxTimeJumpFrames))
      ->capture_default_str();
}

void add_alert_options(CLI::App* cmd, std::string& path, detector::AlertPolicy& policy, std::string& model_file) {
  cmd->add_option("--model-file", model_file,
                  "Load the detector's model from PATH at start (a missing, corrupt or mismatched file: warning, "
                  "fresh model) and save it there at the end, so a restart keeps its baseline");
  cmd->add_option("--alerts-out", path,
                  "Score failed sessions per bucket and perspective with the seasonal detector and write one JSON "
                  "line per alert transition (firing, escalated, resolved) to PATH ('-' = stdout)");
  cmd->add_option("--alert-fire-score", policy.fire_score, "Score (0-100) at which an alert fires")
      ->check(finite_range(1.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--alert-resolve-buckets", policy.resolve_buckets,
                  "Consecutive quiet buckets (score below 25) before an alert resolves")
      ->check(CLI::Range(1u, 10000u))
      ->capture_default_str();
  cmd->add_option("--alert-min-excess", policy.min_excess,
                  "Failed sessions above typical a bucket must exceed to fire (ignore tiny absolute rises)")
      ->check(finite_range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--alert-bucket", policy.detector_bucket_s,
                  "The detector's bucket in seconds: record buckets (--bucket) are summed into spans of about this "
                  "length before they are scored (a whole number of them, at least one)")
      ->check(finite_range(1.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--alert-servers", policy.server_series,
                  "Per-server failed-session series kept beside the per-perspective ones: the servers with the "
                  "most failed sessions (decayed, half-life a day), alerting with partition ip:port; 0 = none")
      ->check(CLI::Range(0u, 1000000u))
      ->capture_default_str();
}

namespace {

/// --sessions-format and --community-id-seed (replay and run): how session lines are written.
void add_session_format_options(CLI::App* cmd, output::SessionLineFormat& format) {
  // A text option whose callback sets the enum: --dump-config then shows "zeek"/"ecs", not a number.
  cmd->add_option_function<std::string>(
         "--sessions-format",
         [&format](const std::string& v) {
           format.flavour = v == "ecs" ? output::SessionFlavour::kEcs : output::SessionFlavour::kZeek;
         },
         "Field names of --sessions-out lines: zeek (conn.log JSON and synscope's fields) or ecs (Elastic "
         "Common Schema 8.x as nested objects, Zeek's verdict under zeek.*, synscope's fields under synscope.*)")
      ->check(CLI::IsMember({"zeek", "ecs"}))
      ->default_str("zeek");
  cmd->add_option("--community-id-seed", format.community_id_seed,
                  "Seed of the Community ID v1 hash in session lines (community_id, network.community_id); "
                  "sites that join their logs on it use the same seed")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
}

}  // namespace

CLI::App* add_replay_command(CLI::App& app, ReplayOptions& out) {
  CLI::App* cmd = app.add_subcommand("replay", "Judge every TCP session in a pcap/pcapng capture");
  cmd->add_option("capture", out.replay.capture, "Capture file (pcap or pcapng)")->required();
  cmd->add_option("--sessions-out", out.consumers.sessions_out,
                  "Write one JSON line per session to PATH ('-' = stdout; fields: --sessions-format)");
  add_session_format_options(cmd, out.consumers.session_format);
  cmd->add_option("--buckets-out", out.consumers.buckets_out,
                  "Write one JSON line per (time bucket, perspective) to PATH ('-' = stdout)");
  add_alert_options(cmd, out.consumers.alerts_out, out.consumers.alert_policy, out.consumers.model_file);
  add_ipfix_options(cmd, out.consumers);
  cmd->add_option("--top-out", out.consumers.top_out,
                  "Write the top servers, clients, ports and conversations by failed sessions, RSTs and SYN retries "
                  "(last bucket, 15 min, 1 h, 24 h before the capture's end) to PATH as JSON ('-' = stdout)");
  add_engine_options(cmd);
  add_memory_budget_option(cmd, out.memory_budget_mib);
  add_sensor_option(cmd, out.consumers.sensor);
  cmd->add_flag("-q,--quiet", out.quiet, "No progress line or summary on stderr");
  out.replay.threads = usable_cpus() >= 2 ? 2 : 1;
  cmd->add_option("--threads", out.replay.threads,
                  "1: one thread reads, classifies and judges; 2: a reader/classifier thread feeds an engine "
                  "thread over SP/SC rings (same output; default when 2 or more CPUs are usable)")
      ->check(CLI::Range(1u, 2u))
      ->capture_default_str();
  return cmd;
}

void finalize_engine_options(engine::EngineConfig& e, packet::ParseOptions& parse) {
  e.bucket_span_ns = to_ns(raw.bucket_s);
  e.bucket_settle_ns = to_ns(raw.settle_s);
  e.flow_capacity = raw.flow_capacity;
  if (raw.flow_memory_mib != 0) {
    // Only the command being run can have been given it.
    if (std::any_of(raw.flow_capacity_options.begin(), raw.flow_capacity_options.end(),
                    [](const CLI::Option* o) { return o->count() > 0; })) {
      throw CLI::ValidationError("--flow-memory", "give --flow-memory or --flow-capacity, not both");
    }
    const uint64_t capacity = engine::SessionEngine::capacity_for(raw.flow_memory_mib << 20);
    if (capacity == 0) {
      throw CLI::ValidationError("--flow-memory", "--flow-memory " + std::to_string(raw.flow_memory_mib) +
                                                      " MiB holds no flow; give at least 1 MiB");
    }
    e.flow_capacity = static_cast<uint32_t>(capacity);
  }
  e.session.attempt_delay_ns = to_ns(raw.attempt_s);
  e.session.close_delay_ns = to_ns(raw.close_s);
  e.session.inactivity_ns = to_ns(raw.inactivity_s);
  if (raw.close_s > raw.inactivity_s) {
    // A session keeps one last-packet time, which stops at the close (tcp_session::SessionConfig).
    throw CLI::ValidationError("--close-timeout", "--close-timeout " + CLI::detail::to_string(raw.close_s) +
                                                      " is longer than --inactivity-timeout " +
                                                      CLI::detail::to_string(raw.inactivity_s) +
                                                      ": a closed session would outlive an idle one");
  }
  e.max_time_jump_ns = to_ns(raw.max_time_jump_s);
  e.time_jump_frames = raw.time_jump_frames;
  parse.verify_checksums = raw.checksums == "verify";

  if (!raw.internal_nets.empty()) {
    engine::NetworkSet nets;
    for (const std::string& cidr : split(raw.internal_nets, ',')) {
      if (!nets.add(cidr)) {
        throw CLI::ValidationError("--internal-nets", "'" + cidr + "' is not a CIDR such as 10.0.0.0/8 or fc00::/7");
      }
    }
    e.internal = std::move(nets);
  }

  if (raw.server_ports == "zeek") {
    e.session.likely_server_ports = tcp_session::SessionConfig::zeek_full_server_ports();
  } else if (raw.server_ports == "none") {
    e.session.likely_server_ports.reset();
  } else {
    e.session.likely_server_ports.reset();
    for (const std::string& p : split(raw.server_ports, ',')) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(p.c_str(), &end, 10);
      if (p.empty() || *end != '\0' || v > 65535) {
        throw CLI::ValidationError("--likely-server-ports",
                                   "'" + p + "' is not 'zeek', 'none' or a port number 0-65535");
      }
      e.session.likely_server_ports.set(v);
    }
  }
}

void finalize_replay_options(ReplayOptions& out) {
  check_option_products(out.consumers.alert_policy);
  finalize_engine_options(out.replay.engine, out.replay.parse);
  out.replay.progress = !out.quiet;
  out.consumers.bucket_span_ns = out.replay.engine.bucket_span_ns;
  out.consumers.bucket_settle_ns = out.replay.engine.bucket_settle_ns;
  out.consumers.ipfix_mode = raw.ipfix_mode == "uniflow" ? ipfix::Mode::kUniflow : ipfix::Mode::kBiflow;
}

CLI::App* add_run_command(CLI::App& app, RunOptions& out) {
  CLI::App* cmd = app.add_subcommand(
      "run", "Live mode on DPDK ports: synscope [EAL options] -- run [options] (ports from -a PCI or --vdev)");
  cmd->fallthrough();  // --config belongs to the app (CLI11 reads config files there), given after `run`
  // Not itself configurable: the dump is read back by --config, where a dump-config key would be refused.
  cmd->add_flag("--dump-config", out.dump_config,
                "Print the effective configuration as a --config file (TOML, a [run] section, with descriptions) "
                "and exit")
      ->configurable(false);
  cmd->add_option("--sessions-out", out.live.consumers.sessions_out,
                  "Write one JSON line per session to PATH ('-' = stdout; fields: --sessions-format)");
  add_session_format_options(cmd, out.live.consumers.session_format);
  cmd->add_option("--buckets-out", out.live.consumers.buckets_out,
                  "Write one JSON line per (time bucket, perspective) to PATH ('-' = stdout)");
  add_alert_options(cmd, out.live.consumers.alerts_out, out.live.consumers.alert_policy, out.live.consumers.model_file);
  add_ipfix_options(cmd, out.live.consumers);
  add_engine_options(cmd);
  cmd->add_option("--rx-queues", out.live.ports.rx_queues,
                  "RX queues per port (symmetric RSS spreads flows; one RX lcore per queue, round-robin)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--mbufs", out.live.ports.mbufs,
                  "Mempool size (0 = sized from queues and descriptors; net_pcap with infinite_rx=1 holds the "
                  "whole capture in mbufs)")
      ->check(CLI::Range(0u, 1u << 26))
      ->capture_default_str();
  cmd->add_option("--rx-desc", out.live.ports.rx_desc, "RX descriptors per queue")
      ->check(CLI::Range(64, 32768))
      ->capture_default_str();
  cmd->add_option("--spread-workers", out.live.spread_workers,
                  "0: each RX lcore owns the flows of its queues (RSS); N: N more lcores own the flows and the RX "
                  "lcores spread packets to them by the symmetric flow hash (single-queue ports: net_pcap, "
                  "net_af_packet)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  cmd->add_flag("--lossless", out.live.lossless,
                "Spread mode: an RX lcore waits for a busy engine instead of dropping (counted as ring_full); "
                "for file-fed vdevs such as net_pcap, where waiting loses nothing");
  cmd->add_option("--session-ring", out.live.session_ring, "Finished sessions in flight per engine lcore")
      ->check(CLI::Range(64u, 1u << 22))
      ->capture_default_str();
  cmd->add_option("--clock", out.clock,
                  "tsc: live time from the TSC mapped to wall clock; packet: each packet's RX timestamp (net_pcap "
                  "delivers the capture's times, so verdicts equal replay's; the default for a net_pcap vdev reading "
                  "a file without infinite_rx=1)")
      ->check(CLI::IsMember({"tsc", "packet"}))
      ->capture_default_str();
  cmd->add_option("--pace", out.live.pace,
                  "Paced replay: hand packets on at this many times the capture's own pace (with --clock packet, "
                  "e.g. a net_pcap vdev: /metrics, alerts and the drill-down move as in a live run; 0 = as fast "
                  "as they come; --idle-exit then counts wall time between packets handed on, so set it above the "
                  "capture's longest gap divided by the pace)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--metrics-listen", out.metrics_listen,
                  "ADDRESS:PORT for /metrics and the landing page ('none' disables; port 0 picks one)")
      ->capture_default_str();
  cmd->add_option("--web-config", out.web_config_file,
                  "Prometheus-style web configuration file (the format of Prometheus's --web.config.file): "
                  "tls_server_config (cert_file, key_file, client_ca_file, client_auth_type, min_version) and "
                  "basic_auth_users (bcrypt hashes) for the --metrics-listen endpoint");
  cmd->add_option("--idle-exit", out.limits.idle_exit_s,
                  "Stop after this many seconds without a packet on any port (finite inputs; 0 = never)")
      ->check(finite_range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--duration", out.limits.duration_s, "Stop after this many seconds (0 = until SIGINT/SIGTERM)")
      ->check(finite_range(0.0, 1e9))
      ->capture_default_str();
  add_memory_budget_option(cmd, out.memory_budget_mib);
  add_sensor_option(cmd, out.live.consumers.sensor);
  cmd->add_flag("-q,--quiet", out.quiet, "No start-up report or summary on stderr");
  return cmd;
}

std::string packet_clock_for_pcap_vdevs(RunOptions& out, const std::vector<char*>& eal_args, bool clock_given) {
  if (clock_given || out.live.packet_clock) return "";
  for (const std::string_view a : vdev_specs(eal_args)) {
    if (a.rfind("net_pcap", 0) != 0 || a.find("rx_pcap=") == std::string_view::npos ||
        a.find("infinite_rx=1") != std::string_view::npos) {
      continue;
    }
    out.clock = "packet";
    out.live.packet_clock = true;
    return std::string(a.substr(0, a.find(',')));
  }
  return "";
}

void finalize_run_options(RunOptions& out) {
  check_option_products(out.live.consumers.alert_policy);
  finalize_engine_options(out.live.engine, out.live.parse);
  out.live.packet_clock = out.clock == "packet";
  out.live.consumers.ipfix_mode = raw.ipfix_mode == "uniflow" ? ipfix::Mode::kUniflow : ipfix::Mode::kBiflow;
  if (!std::isfinite(out.live.pace)) throw CLI::ValidationError("--pace", "must be a finite number");
  if (out.live.pace > 0 && !out.live.packet_clock) {
    throw CLI::ValidationError("--pace", "paces packets by their capture times: needs --clock packet");
  }
  if (out.metrics_listen != "none") {
    if (const std::string problem = metrics::listen_problem(out.metrics_listen); !problem.empty()) {
      throw CLI::ValidationError("--metrics-listen", problem);
    }
  }
  if (!out.web_config_file.empty()) {
    if (out.metrics_listen == "none") throw CLI::ValidationError("--web-config", "needs --metrics-listen");
    try {
      out.web = metrics::WebConfig::load(out.web_config_file);
    } catch (const Error& e) {
      throw CLI::ValidationError("--web-config", e.what());
    }
  }
}

}  // namespace synscope::app
