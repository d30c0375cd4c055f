// options: see options.hpp.
#include "options.hpp"

#include <cmath>
#include <sstream>

namespace synscope::app {
namespace {

// Raw values, converted by finalize_replay_options().
struct RawOptions {
  double bucket_s = 60;
  double settle_s = 360;
  double attempt_s = 5, close_s = 5, inactivity_s = 300;
  std::string internal_nets;
  std::string checksums = "verify";
  std::string server_ports = "zeek";
  uint32_t flow_capacity = 1u << 20;
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

}  // namespace

CLI::App* add_replay_command(CLI::App& app, ReplayOptions& out) {
  CLI::App* cmd = app.add_subcommand("replay", "Judge every TCP session in a pcap/pcapng capture");
  cmd->add_option("capture", out.capture, "Capture file (pcap or pcapng)")->required();
  cmd->add_option("--sessions-out", out.sessions_out,
                  "Write one conn.log-style JSON line per session to PATH ('-' = stdout)");
  cmd->add_option("--buckets-out", out.buckets_out,
                  "Write one JSON line per (time bucket, perspective) to PATH ('-' = stdout)");
  cmd->add_option("--bucket", raw.bucket_s, "Bucket span in seconds (sub-second allowed)")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  cmd->add_option("--bucket-settle", raw.settle_s,
                  "Seconds after its end a bucket waits for sessions still running")
      ->check(CLI::Range(0.0, 86400.0))
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
  cmd->add_option("--flow-capacity", raw.flow_capacity, "Flow-table entries allocated at start")
      ->check(CLI::Range(1u, 1u << 28))
      ->capture_default_str();
  cmd->add_option("--attempt-timeout", raw.attempt_s, "Seconds an unanswered SYN is kept (Zeek tcp_attempt_delay)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--close-timeout", raw.close_s, "Seconds a closed or reset session is kept (tcp_close_delay)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--inactivity-timeout", raw.inactivity_s, "Seconds an idle session is kept")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", out.quiet, "No progress line or summary on stderr");
  cmd->add_option("--threads", out.threads,
                  "1: one thread reads, classifies and judges; 2: a reader/classifier thread feeds an engine "
                  "thread over SP/SC rings (same verdicts; faster only with two free physical cores)")
      ->check(CLI::Range(1u, 2u))
      ->capture_default_str();
  return cmd;
}

void finalize_replay_options(ReplayOptions& out) {
  engine::EngineConfig& e = out.engine;
  e.bucket_span_ns = to_ns(raw.bucket_s);
  e.bucket_settle_ns = to_ns(raw.settle_s);
  e.flow_capacity = raw.flow_capacity;
  e.session.attempt_delay_ns = to_ns(raw.attempt_s);
  e.session.close_delay_ns = to_ns(raw.close_s);
  e.session.inactivity_ns = to_ns(raw.inactivity_s);
  out.parse.verify_checksums = raw.checksums == "verify";

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

}  // namespace synscope::app
