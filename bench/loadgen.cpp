// synscope-loadgen: synthesises TCP sessions on the fly into a DPDK port and/or a pcap, and writes the truth
// of what it sent (sessions per conn_state and perspective, failed sessions per perspective and bucket).
//
//   synscope-loadgen [EAL options] -- [options]   (a port: the first ethdev, e.g. --vdev net_memif0,...)
//   synscope-loadgen [options] --pcap-out FILE    (no "--": no EAL, a pcap only)
//
// Flow slots: `--flows` C slots each run one session after another, so C sessions are always in flight. A
// round visits every slot once and sends the next segment of its session; slot s starts at round s mod L
// (L = the longest session's segments), which staggers the handshakes. Session n = generation * C + slot
// is a pure function of (seed, n) (loadgen_sessions.hpp), so nothing is stored per flow or per packet. A run
// ends at a generation boundary: every session it starts it finishes, and the truth is exact.
//
// One thread (the EAL main lcore) does everything: build frames straight into mbufs taken in bursts from a
// mempool made at start, pace each burst on the TSC, rte_eth_tx_burst with bounded retries (each refusal
// counted), optional pcap copy through a stdio buffer set at start. No allocation or exception after start.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "finite_range.hpp"
#include "loadgen_sessions.hpp"
#include "tcp_frame.hpp"

namespace synscope::bench {
namespace {

constexpr int kExitOk = 0, kExitUsage = 1, kExitRuntime = 2, kExitInterrupted = 3;
constexpr uint32_t kBurst = 32;
constexpr uint16_t kMaxQueues = 16;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

/// A start-up failure with its exit code.
struct StartError : std::runtime_error {
  int code;
  StartError(int c, const std::string& what) : std::runtime_error(what), code(c) {}
};

struct Options {
  double rate_pps = 0;      ///< 0 = as fast as the port takes them
  double session_rate = 0;  ///< new sessions per second (sets rate_pps from the mix)
  uint64_t flows = 10000;
  uint64_t sessions = 0;  ///< 0 = until --duration
  double duration_s = 0;
  std::string mix = "normal=70,refused=8,unanswered=7,client_reset=5,server_reset=6,half_open=4,syn_flood=0";
  std::string frame_size = "64";
  double ipv6_share = 0.1;
  double client_internal = 0.6, server_internal = 0.3;
  uint16_t vlan = 0;
  uint16_t tx_queues = 1;
  uint16_t port = 0;
  uint32_t exchanges = 1;
  uint32_t servers = 1024;
  uint64_t seed = 1;
  int64_t tx_retries = -1;  ///< -1: retry until accepted (backpressure); N: then drop and count
  uint32_t mbufs = 8191;
  double link_wait_s = 10;
  double linger_s = 1;
  double start_delay_s = 0;
  std::string pcap_out, truth_out;
  double bucket_s = 60;
  double start_s = 1700000000;
  double pcap_rate = 1e6;  ///< timestamps when --rate is 0
  double max_round_s = 2;
  bool allow_slow_rounds = false;
  bool cut = false;  ///< stop at --duration mid-session (rate measurements; the truth is then inexact)
};

/// What the run sent, by kind, perspective and time bucket.
struct Truth {
  uint64_t packets = 0, bytes = 0, sessions = 0;
  std::array<std::array<uint64_t, kPerspectiveCount>, kSessionKindCount> by_kind{};
  std::vector<std::array<uint64_t, kPerspectiveCount>> bucket_sessions, bucket_failed;  ///< sized at start
  uint64_t first_bucket = 0;
  uint64_t tx_refused = 0;  ///< packets rte_eth_tx_burst did not take on a burst's first attempt
  uint64_t tx_retries = 0;  ///< further rte_eth_tx_burst calls for the rest of a burst
  uint64_t tx_dropped = 0;  ///< packets given up after --tx-retries
  uint64_t alloc_waits = 0;
  bool interrupted = false;
  bool cut = false;
};

class PcapSink {
 public:
  explicit PcapSink(const std::string& path) {
    f_ = std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) throw StartError(kExitRuntime, "cannot write " + path + ": " + std::strerror(errno));
    buf_.resize(1 << 22);
    std::setvbuf(f_, buf_.data(), _IOFBF, buf_.size());
    const uint32_t hdr[6] = {0xa1b23c4du, 0x00040002, 0, 0, 65535, 1};  // nanosecond pcap, Ethernet
    std::fwrite(hdr, 1, sizeof(hdr), f_);
  }
  PcapSink(const PcapSink&) = delete;
  PcapSink& operator=(const PcapSink&) = delete;
  ~PcapSink() {
    if (f_ != nullptr) std::fclose(f_);
  }
  void write(uint64_t ts_ns, const uint8_t* frame, size_t len) noexcept {
    const uint32_t rec[4] = {static_cast<uint32_t>(ts_ns / 1'000'000'000ULL),
                             static_cast<uint32_t>(ts_ns % 1'000'000'000ULL), static_cast<uint32_t>(len),
                             static_cast<uint32_t>(len)};
    ok_ &= std::fwrite(rec, 1, sizeof(rec), f_) == sizeof(rec);
    ok_ &= std::fwrite(frame, 1, len, f_) == len;
  }
  [[nodiscard]] bool close() noexcept {
    const bool ok = std::fclose(f_) == 0 && ok_;
    f_ = nullptr;
    return ok;
  }

 private:
  std::FILE* f_ = nullptr;
  std::vector<char> buf_;
  bool ok_ = true;
};

/// The DPDK side: one port, its TX queues, a burst of mbufs being filled per queue.
class TxPort {
 public:
  TxPort(uint16_t port, uint16_t queues, uint32_t mbufs, double link_wait_s) : port_(port), queues_(queues) {
    if (!rte_eth_dev_is_valid_port(port)) {
      throw StartError(kExitRuntime, "no DPDK port " + std::to_string(port) + " (give one with --vdev or -a)");
    }
    pool_ = rte_pktmbuf_pool_create("loadgen_pool", mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
    if (pool_ == nullptr) throw StartError(kExitRuntime, std::string("mbuf pool: ") + rte_strerror(rte_errno));
    rte_eth_dev_info info{};
    int ret = rte_eth_dev_info_get(port, &info);
    if (ret != 0) throw StartError(kExitRuntime, std::string("port info: ") + rte_strerror(-ret));
    if (queues > info.max_tx_queues) {
      throw StartError(kExitUsage, "port " + std::to_string(port) + " has at most " +
                                       std::to_string(info.max_tx_queues) + " TX queues");
    }
    rte_eth_conf conf{};
    ret = rte_eth_dev_configure(port, 1, queues, &conf);
    if (ret != 0) throw StartError(kExitRuntime, std::string("configure port: ") + rte_strerror(-ret));
    ret = rte_eth_rx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), nullptr, pool_);
    if (ret != 0) throw StartError(kExitRuntime, std::string("RX queue: ") + rte_strerror(-ret));
    for (uint16_t q = 0; q < queues; ++q) {
      ret = rte_eth_tx_queue_setup(port, q, 1024, rte_eth_dev_socket_id(port), nullptr);
      if (ret != 0) throw StartError(kExitRuntime, std::string("TX queue: ") + rte_strerror(-ret));
    }
    ret = rte_eth_dev_start(port);
    if (ret != 0) throw StartError(kExitRuntime, std::string("start port: ") + rte_strerror(-ret));
    started_ = true;
    // A memif link comes up when the peer connects; a NIC when the cable trains. Bounded wait.
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(link_wait_s);
    rte_eth_link link{};
    while (true) {
      rte_eth_link_get_nowait(port, &link);
      if (link.link_status == RTE_ETH_LINK_UP) break;
      if (std::chrono::steady_clock::now() >= until || g_stop) {
        throw StartError(kExitRuntime, "port " + std::to_string(port) + " link still down after " +
                                           std::to_string(link_wait_s) + " s (is the peer running?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  TxPort(const TxPort&) = delete;
  TxPort& operator=(const TxPort&) = delete;
  ~TxPort() {
    if (started_) {
      (void)rte_eth_dev_stop(port_);
      (void)rte_eth_dev_close(port_);
    }
  }

  /// The next mbuf of queue `q`'s burst (allocating a burst when empty); nullptr once stopped.
  rte_mbuf* next(uint16_t q, Truth& truth) noexcept {
    Burst& b = bursts_[q];
    if (b.filled == 0 && !b.have) {
      while (rte_pktmbuf_alloc_bulk(pool_, b.m.data(), kBurst) != 0) {
        ++truth.alloc_waits;  // the port still holds mbufs it has not sent
        if (g_stop) return nullptr;
        rte_pause();
      }
      b.have = true;
    }
    return b.m[b.filled];
  }
  /// Commits the mbuf next() returned; sends the burst when full. Returns false when stopped.
  bool commit(uint16_t q, Truth& truth, int64_t retries, uint64_t& next_tsc, uint64_t cycles_per_pkt) noexcept {
    Burst& b = bursts_[q];
    if (++b.filled < kBurst) return true;
    return flush(q, truth, retries, next_tsc, cycles_per_pkt);
  }
  /// Sends queue `q`'s partial burst, paced: waits until the TSC reaches `next_tsc`.
  bool flush(uint16_t q, Truth& truth, int64_t retries, uint64_t& next_tsc, uint64_t cycles_per_pkt) noexcept {
    Burst& b = bursts_[q];
    const uint32_t n = b.filled;
    if (n == 0) {
      if (b.have) rte_pktmbuf_free_bulk(b.m.data(), kBurst);
      b.have = false;
      return !g_stop;
    }
    if (cycles_per_pkt != 0) {
      uint64_t now = rte_rdtsc();
      // Never more than 1 ms behind: a stall is not paid back by a burst at line rate.
      if (now > next_tsc + rte_get_tsc_hz() / 1000) next_tsc = now;
      while (now < next_tsc) {
        rte_pause();
        now = rte_rdtsc();
      }
      next_tsc += n * cycles_per_pkt;
    }
    uint32_t sent = 0;
    int64_t attempts = 0;
    while (true) {
      sent += rte_eth_tx_burst(port_, q, b.m.data() + sent, static_cast<uint16_t>(n - sent));
      if (sent == n) break;
      if (attempts == 0) truth.tx_refused += n - sent;
      if ((retries >= 0 && attempts >= retries) || g_stop) {
        rte_pktmbuf_free_bulk(b.m.data() + sent, n - sent);
        truth.tx_dropped += n - sent;
        break;
      }
      ++attempts;
      ++truth.tx_retries;
      rte_pause();
    }
    if (b.have && n < kBurst) rte_pktmbuf_free_bulk(b.m.data() + n, kBurst - n);  // the unused rest
    b.filled = 0;
    b.have = false;
    return !g_stop;
  }
  [[nodiscard]] uint16_t queues() const noexcept { return queues_; }

 private:
  struct Burst {
    std::array<rte_mbuf*, kBurst> m{};
    uint32_t filled = 0;
    bool have = false;
  };
  uint16_t port_;
  uint16_t queues_;
  rte_mempool* pool_ = nullptr;
  bool started_ = false;
  std::array<Burst, kMaxQueues> bursts_{};
};

std::array<double, kSessionKindCount> parse_mix(const std::string& text) {
  std::array<double, kSessionKindCount> shares{};
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, end - pos);
    const size_t eq = item.find('=');
    bool known = false;
    if (eq != std::string::npos) {
      for (size_t k = 0; k < kSessionKindCount; ++k) {
        if (item.substr(0, eq) != kind_name(static_cast<SessionKind>(k))) continue;
        char* stop = nullptr;
        const double v = std::strtod(item.c_str() + eq + 1, &stop);
        if (stop == item.c_str() + eq + 1 || *stop != '\0' || !(v >= 0 && v <= 1e9)) break;
        shares[k] = v;
        known = true;
      }
    }
    if (!known) {
      throw StartError(kExitUsage, "--mix: '" + item +
                                       "' is not KIND=SHARE (kinds: normal, refused, unanswered, client_reset, "
                                       "server_reset, half_open, syn_flood)");
    }
    pos = end + 1;
  }
  double total = 0;
  for (double s : shares) total += s;
  if (total <= 0) throw StartError(kExitUsage, "--mix: every share is zero");
  return shares;
}

FrameSizes parse_sizes(const std::string& text) {
  FrameSizes s;
  if (text == "imix") {
    s.imix = true;
    return s;
  }
  char* stop = nullptr;
  const long v = std::strtol(text.c_str(), &stop, 10);
  if (stop == text.c_str() || *stop != '\0' || v < 64 || v > 1518) {
    throw StartError(kExitUsage, "--frame-size: '" + text + "' is not 64..1518 or imix");
  }
  s.fixed = static_cast<uint16_t>(v);
  return s;
}

void write_truth(const Options& o, const SessionPlanner& planner, const Truth& t, double elapsed_s, bool port,
                 bool generated_times) {
  std::FILE* f = std::fopen(o.truth_out.c_str(), "w");
  if (f == nullptr) throw StartError(kExitRuntime, "cannot write " + o.truth_out + ": " + std::strerror(errno));
  const bool exact = !t.interrupted && !t.cut && t.tx_dropped == 0;
  std::fprintf(f, "{\n  \"exact\": %s,\n  \"seed\": %llu,\n  \"flows\": %llu,\n  \"packets\": %llu,\n",
               exact ? "true" : "false", (unsigned long long)o.seed, (unsigned long long)o.flows,
               (unsigned long long)t.packets);
  std::fprintf(f, "  \"bytes\": %llu,\n  \"sessions\": %llu,\n  \"tx_refused\": %llu,\n  \"tx_retries\": %llu,\n",
               (unsigned long long)t.bytes, (unsigned long long)t.sessions, (unsigned long long)t.tx_refused,
               (unsigned long long)t.tx_retries);
  std::fprintf(f, "  \"tx_dropped\": %llu,\n  \"interrupted\": %s,\n", (unsigned long long)t.tx_dropped,
               t.interrupted ? "true" : "false");
  std::fprintf(f, "  \"tsc_hz\": %llu,\n", (unsigned long long)(port ? rte_get_tsc_hz() : 0));
  std::fprintf(f, "  \"elapsed_s\": %.6f,\n  \"sent_to_port\": %s,\n  \"segments_per_flow_slot\": %u,\n", elapsed_s,
               port ? "true" : "false", planner.max_steps());
  std::fprintf(f, "  \"packets_per_s\": %.1f,\n  \"sessions_per_s\": %.1f,\n",
               elapsed_s > 0 ? static_cast<double>(t.packets) / elapsed_s : 0.0,
               elapsed_s > 0 ? static_cast<double>(t.sessions) / elapsed_s : 0.0);
  std::fprintf(f, "  \"sessions_by_kind\": {");
  for (size_t k = 0; k < kSessionKindCount; ++k) {
    uint64_t n = 0;
    for (uint64_t v : t.by_kind[k]) n += v;
    std::fprintf(f, "%s\"%s\": %llu", k ? ", " : "", std::string(kind_name(static_cast<SessionKind>(k))).c_str(),
                 (unsigned long long)n);
  }
  // States: kinds that share a verdict (unanswered and syn_flood: S0) are summed.
  static constexpr const char* kStates[] = {"SF", "REJ", "S0", "RSTO", "RSTR", "SH"};
  std::fprintf(f, "},\n  \"sessions_by_state\": {");
  for (size_t s = 0; s < std::size(kStates); ++s) {
    std::fprintf(f, "%s\"%s\": {", s ? ", " : "", kStates[s]);
    for (size_t p = 0; p < kPerspectiveCount; ++p) {
      uint64_t n = 0;
      for (size_t k = 0; k < kSessionKindCount; ++k) {
        if (expected_state(static_cast<SessionKind>(k)) == kStates[s]) n += t.by_kind[k][p];
      }
      std::fprintf(f, "%s\"%s\": %llu", p ? ", " : "",
                   std::string(perspective_name(static_cast<Perspective>(p))).c_str(), (unsigned long long)n);
    }
    std::fprintf(f, "}");
  }
  std::fprintf(f, "},\n  \"failed_by_perspective\": {");
  uint64_t failed = 0;
  for (size_t p = 0; p < kPerspectiveCount; ++p) {
    uint64_t n = 0;
    for (size_t k = 0; k < kSessionKindCount; ++k) {
      if (expected_failed(static_cast<SessionKind>(k))) n += t.by_kind[k][p];
    }
    failed += n;
    std::fprintf(f, "%s\"%s\": %llu", p ? ", " : "", std::string(perspective_name(static_cast<Perspective>(p))).c_str(),
                 (unsigned long long)n);
  }
  std::fprintf(f, "},\n  \"failed\": %llu,\n  \"bucket_seconds\": %g,\n  \"buckets\": [", (unsigned long long)failed,
               o.bucket_s);
  // Buckets only when the times are the generated ones (a pcap): live, synscope's clock places sessions.
  bool first = true;
  for (size_t b = 0; generated_times && b < t.bucket_sessions.size(); ++b) {
    for (size_t p = 0; p < kPerspectiveCount; ++p) {
      if (t.bucket_sessions[b][p] == 0) continue;
      std::fprintf(f, "%s\n    {\"ts\": %.3f, \"perspective\": \"%s\", \"sessions\": %llu, \"failed\": %llu}",
                   first ? "" : ",", static_cast<double>(t.first_bucket + b) * o.bucket_s,
                   std::string(perspective_name(static_cast<Perspective>(p))).c_str(),
                   (unsigned long long)t.bucket_sessions[b][p], (unsigned long long)t.bucket_failed[b][p]);
      first = false;
    }
  }
  std::fprintf(f, "%s]\n}\n", first ? "" : "\n  ");
  if (std::fclose(f) != 0) throw StartError(kExitRuntime, "cannot write " + o.truth_out);
}

int run(int argc, char** argv) {
  // EAL arguments before "--", the generator's after; no "--": no EAL (a pcap only).
  int split = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      split = i;
      break;
    }
  }
  Options o;
  CLI::App app{"synscope-loadgen: synthesise TCP sessions into a DPDK port and/or a pcap, with their truth"};
  app.add_option("--rate", o.rate_pps, "Offered packets per second (0 = as fast as the port takes them)")
      ->check(app::finite_range(0.0, 1e9));
  app.add_option("--session-rate", o.session_rate,
                 "New sessions per second (sets --rate from the mix's mean segments per session)")
      ->check(app::finite_range(0.0, 1e9));
  app.add_option("--flows", o.flows, "Concurrent flows: sessions in flight at once")->check(CLI::Range(1, 10'000'000));
  app.add_option("--sessions", o.sessions, "Sessions to send (0 = until --duration)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1'000'000'000'000}));
  app.add_option("--duration", o.duration_s,
                 "Seconds after which no new generation of sessions starts (pcap only: of packet time)")
      ->check(app::finite_range(0.0, 1e7));
  app.add_option("--mix", o.mix,
                 "Session shares KIND=SHARE,... (normal, refused, unanswered, client_reset, "
                 "server_reset, half_open, syn_flood)")
      ->capture_default_str();
  app.add_option("--frame-size", o.frame_size, "On-wire size of data segments, FCS included: 64..1518 or imix")
      ->capture_default_str();
  app.add_option("--ipv6-share", o.ipv6_share, "Fraction of sessions over IPv6")->check(app::finite_range(0.0, 1.0));
  app.add_option("--client-internal", o.client_internal, "Fraction of clients in 10/8 or fd00::/8")
      ->check(app::finite_range(0.0, 1.0));
  app.add_option("--server-internal", o.server_internal, "Fraction of servers in 10/8 or fd00::/8")
      ->check(app::finite_range(0.0, 1.0));
  app.add_option("--vlan", o.vlan, "802.1Q VLAN id on every frame (0 = untagged)")->check(CLI::Range(0, 4094));
  app.add_option("--tx-queues", o.tx_queues, "TX queues; flows spread by a symmetric 5-tuple hash")
      ->check(CLI::Range(1, static_cast<int>(kMaxQueues)));
  app.add_option("--port", o.port, "DPDK port id to send on")->check(CLI::Range(0, 1023));
  app.add_option("--exchanges", o.exchanges, "Request/response pairs in a normal session")->check(CLI::Range(1u, 8u));
  app.add_option("--servers", o.servers, "Distinct servers")->check(CLI::Range(1u, 65536u));
  app.add_option("--seed", o.seed, "Seed: the same seed and options give the same traffic");
  app.add_option("--tx-retries", o.tx_retries,
                 "Retries of a burst the port refused before its rest is dropped and counted (-1 = until accepted: "
                 "backpressure, the truth stays exact)")
      ->check(CLI::Range(int64_t{-1}, int64_t{1'000'000'000}));
  app.add_option("--mbufs", o.mbufs, "Mbufs in the TX pool")->check(CLI::Range(1023u, 1u << 22));
  app.add_option("--link-wait", o.link_wait_s, "Seconds to wait for the link (memif peer) to come up")
      ->check(app::finite_range(0.0, 3600.0));
  app.add_option("--start-delay", o.start_delay_s,
                 "Seconds to wait after the link is up before sending (the receiver may still be starting: a ring "
                 "filled before it polls is loss that says nothing about its rate)")
      ->check(app::finite_range(0.0, 3600.0));
  app.add_option("--linger", o.linger_s,
                 "Seconds to keep the port open after the last burst: a memif ring is gone once its server closes, "
                 "with what the peer had not read yet")
      ->check(app::finite_range(0.0, 3600.0));
  app.add_option("--pcap-out", o.pcap_out, "Also write the traffic to this pcap (nanosecond timestamps)");
  app.add_option("--truth-out", o.truth_out, "Write what was sent as JSON to this file");
  app.add_option("--bucket-seconds", o.bucket_s, "Bucket span of the truth's failed-per-bucket counts")
      ->check(app::finite_range(0.001, 86400.0));
  app.add_option("--start", o.start_s, "Epoch seconds of the first generated timestamp")
      ->check(app::finite_range(0.0, 4e9));
  app.add_option("--pcap-rate", o.pcap_rate, "Packets per second of the generated timestamps when --rate is 0")
      ->check(app::finite_range(1.0, 1e9));
  app.add_option("--max-round", o.max_round_s,
                 "Longest allowed round (flows / rate, seconds): a session's segments are a round apart, and a "
                 "handshake slower than synscope's 5 s attempt timer changes its verdict")
      ->check(app::finite_range(0.001, 1e6));
  app.add_flag("--allow-slow-rounds", o.allow_slow_rounds, "Run even when a round is longer than --max-round");
  app.add_flag("--cut", o.cut,
               "Stop as soon as --duration is up, sessions unfinished (for rate measurements: the truth is marked "
               "inexact)");
  try {
    if (split < 0) {
      app.parse(argc, argv);
    } else {
      std::vector<const char*> args{argv[0]};
      for (int i = split + 1; i < argc; ++i) args.push_back(argv[i]);
      app.parse(static_cast<int>(args.size()), args.data());
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const bool use_port = split >= 0;
  if (!use_port && o.pcap_out.empty()) {
    throw StartError(kExitUsage, "nothing to send to: give EAL options and a port before \"--\", or --pcap-out");
  }
  if (o.sessions == 0 && o.duration_s <= 0) throw StartError(kExitUsage, "give --sessions or --duration");
  TrafficModel model;
  model.seed = o.seed;
  model.shares = parse_mix(o.mix);
  model.ipv6_share = o.ipv6_share;
  model.client_internal_share = o.client_internal;
  model.server_internal_share = o.server_internal;
  model.exchanges = o.exchanges;
  model.servers = o.servers;
  model.sizes = parse_sizes(o.frame_size);
  model.shape.vlan = o.vlan;
  const SessionPlanner planner(model);
  double mean_steps = 0, total_share = 0;
  for (size_t k = 0; k < kSessionKindCount; ++k) {
    mean_steps += model.shares[k] * planner.steps_of(static_cast<SessionKind>(k));
    total_share += model.shares[k];
  }
  mean_steps /= total_share;
  if (o.session_rate > 0) o.rate_pps = o.session_rate * mean_steps;
  const double ts_rate = o.rate_pps > 0 ? o.rate_pps : o.pcap_rate;
  const uint32_t period = planner.max_steps();
  // A round sends about flows * mean_steps / period segments.
  const double round_s = static_cast<double>(o.flows) * mean_steps / period / ts_rate;
  if (round_s > o.max_round_s && !o.allow_slow_rounds) {
    throw StartError(kExitUsage, "a round of " + std::to_string(o.flows) + " flows at " + std::to_string(ts_rate) +
                                     " pps takes " + std::to_string(round_s) + " s > --max-round " +
                                     std::to_string(o.max_round_s) +
                                     " s: raise --rate or lower --flows (or --allow-slow-rounds)");
  }

  if (use_port) {
    std::vector<char*> eal{argv[0]};
    for (int i = 1; i < split; ++i) eal.push_back(argv[i]);
    if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
      throw StartError(kExitRuntime, std::string("EAL init: ") + rte_strerror(rte_errno));
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  // The truth's buckets, sized for the whole run's generated time before the loop starts.
  Truth truth;
  const uint64_t ts_step_ns = static_cast<uint64_t>(1e9 / ts_rate);
  const uint64_t start_ns = static_cast<uint64_t>(o.start_s * 1e9);
  const uint64_t bucket_ns = static_cast<uint64_t>(o.bucket_s * 1e9);
  const uint64_t max_gens = o.sessions != 0 ? (o.sessions + o.flows - 1) / o.flows : UINT64_MAX;
  {
    const double gen_s = static_cast<double>(o.flows) * period / ts_rate;  // upper bound of a generation
    const double gens = o.sessions != 0 ? static_cast<double>(max_gens) : o.duration_s / gen_s + 1;
    const double span_s = (gens + 2) * gen_s + 1;
    const double nb = span_s / o.bucket_s + 2;
    if (!use_port || !o.pcap_out.empty()) {
      if (nb > 10'000'000) throw StartError(kExitUsage, "too many truth buckets: raise --bucket-seconds");
      truth.bucket_sessions.assign(static_cast<size_t>(nb), {});
      truth.bucket_failed.assign(static_cast<size_t>(nb), {});
    }
    truth.first_bucket = start_ns / bucket_ns;
  }
  std::unique_ptr<PcapSink> pcap;
  if (!o.pcap_out.empty()) pcap = std::make_unique<PcapSink>(o.pcap_out);
  std::unique_ptr<TxPort> port;
  if (use_port) port = std::make_unique<TxPort>(o.port, o.tx_queues, o.mbufs, o.link_wait_s);

  if (port) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.start_delay_s);
    while (!g_stop && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const uint64_t hz = use_port ? rte_get_tsc_hz() : 0;
  const uint64_t cycles_per_pkt = use_port && o.rate_pps > 0 ? static_cast<uint64_t>(hz / o.rate_pps) : 0;
  const uint64_t t0_tsc = use_port ? rte_rdtsc() : 0;
  const uint64_t end_tsc =
      use_port && o.duration_s > 0 ? t0_tsc + static_cast<uint64_t>(o.duration_s * hz) : UINT64_MAX;
  uint64_t next_tsc = t0_tsc;
  const auto wall0 = std::chrono::steady_clock::now();
  std::array<uint8_t, kMaxFrame> local{};
  uint64_t last_gen = max_gens == UINT64_MAX ? UINT64_MAX : max_gens - 1;  // lowered when --duration is up
  const uint64_t flows = o.flows;
  bool duration_up = false;
  for (uint64_t round = 0;; ++round) {
    // Slot s runs generation (round - s mod period) / period; the run ends once every slot has finished
    // generation last_gen.
    if (last_gen != UINT64_MAX && round >= (last_gen + 2) * period) break;
    if (o.duration_s > 0 && !duration_up) {
      const uint64_t now_ns = truth.packets * ts_step_ns;
      if ((use_port && rte_rdtsc() >= end_tsc) || (!use_port && now_ns >= static_cast<uint64_t>(o.duration_s * 1e9))) {
        last_gen = std::min(last_gen, round / period);
        duration_up = true;
        if (o.cut) {
          truth.cut = true;
          break;
        }
      }
    }
    if (g_stop) {
      truth.interrupted = true;
      break;
    }
    for (uint64_t s = 0; s < flows; ++s) {
      const uint64_t lag = s % period;
      if (round < lag) continue;
      const uint64_t t = round - lag;
      const uint64_t gen = t / period;
      if (gen > last_gen) continue;
      const uint64_t n = gen * flows + s;
      if (o.sessions != 0 && n >= o.sessions) continue;
      const auto step = static_cast<uint32_t>(t % period);
      const SessionDesc d = planner.describe(n);
      if (step >= d.steps) continue;
      const Segment seg = planner.segment(d, step);
      const uint64_t ts = start_ns + truth.packets * ts_step_ns;
      uint8_t* frame = local.data();
      rte_mbuf* m = nullptr;
      uint16_t q = 0;
      if (port) {
        q = port->queues() > 1 ? static_cast<uint16_t>(SessionPlanner::symmetric_hash(d.ends) % port->queues()) : 0;
        m = port->next(q, truth);
        if (m == nullptr) break;
        frame = rte_pktmbuf_mtod(m, uint8_t*);
      }
      const size_t len = build_frame(d.ends, seg, frame, model.shape);
      if (pcap) pcap->write(ts, frame, len);
      ++truth.packets;
      truth.bytes += len;
      if (step == 0) {
        ++truth.sessions;
        const auto p = static_cast<size_t>(d.perspective);
        ++truth.by_kind[static_cast<size_t>(d.kind)][p];
        if (!truth.bucket_sessions.empty()) {
          const uint64_t b = std::min<uint64_t>(ts / bucket_ns - truth.first_bucket, truth.bucket_sessions.size() - 1);
          ++truth.bucket_sessions[b][p];
          truth.bucket_failed[b][p] += expected_failed(d.kind) ? 1 : 0;
        }
      }
      if (port) {
        m->data_len = static_cast<uint16_t>(len);
        m->pkt_len = static_cast<uint32_t>(len);
        if (!port->commit(q, truth, o.tx_retries, next_tsc, cycles_per_pkt)) break;
      }
    }
  }
  if (port) {
    for (uint16_t q = 0; q < port->queues(); ++q) (void)port->flush(q, truth, o.tx_retries, next_tsc, cycles_per_pkt);
  }
  if (g_stop) truth.interrupted = true;
  const double elapsed = use_port ? static_cast<double>(rte_rdtsc() - t0_tsc) / static_cast<double>(hz)
                                  : std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (pcap && !pcap->close()) throw StartError(kExitRuntime, "cannot write " + o.pcap_out);
  pcap.reset();
  if (!o.truth_out.empty()) write_truth(o, planner, truth, elapsed, use_port, !truth.bucket_sessions.empty());
  std::fprintf(stderr,
               "synscope-loadgen: %llu packets, %llu bytes, %llu sessions in %.3f s (%.3f Mpps, %.0f sessions/s); "
               "tx refused %llu, dropped %llu%s\n",
               (unsigned long long)truth.packets, (unsigned long long)truth.bytes, (unsigned long long)truth.sessions,
               elapsed, elapsed > 0 ? static_cast<double>(truth.packets) / elapsed / 1e6 : 0.0,
               elapsed > 0 ? static_cast<double>(truth.sessions) / elapsed : 0.0, (unsigned long long)truth.tx_refused,
               (unsigned long long)truth.tx_dropped, truth.interrupted ? " (interrupted: truth incomplete)" : "");
  if (port) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.linger_s);
    while (!g_stop && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  port.reset();
  if (use_port) (void)rte_eal_cleanup();
  return truth.interrupted ? kExitInterrupted : kExitOk;
}

}  // namespace
}  // namespace synscope::bench

int main(int argc, char** argv) {
  try {
    return synscope::bench::run(argc, argv);
  } catch (const synscope::bench::StartError& e) {
    std::fprintf(stderr, "synscope-loadgen: error: %s\n", e.what());
    return e.code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synscope-loadgen: error: %s\n", e.what());
    return synscope::bench::kExitRuntime;
  }
}
