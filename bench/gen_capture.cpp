// synscope-gen: writes a deterministic pcap of mixed TCP sessions for demos, tests and benchmarks.
//
// Sessions of known kinds (normal close, refused, unanswered with SYN retransmits, client reset, server
// reset, client half-close with no answer) between internal (10/8, fd00::/8) and public addresses, spread
// over a time window and interleaved as real traffic is; plus a share of UDP and truncated frames so the
// frame accounting is exercised. Every TCP checksum is correct. Single-threaded command-line tool.
#include <CLI/CLI.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "finite_range.hpp"
#include "tcp_frame.hpp"

namespace synscope {
namespace {

enum class Kind : uint8_t { kNormal, kRefused, kUnanswered, kClientReset, kServerReset, kHalfClose };
constexpr const char* kKindNames[] = {"normal(SF)",         "refused(REJ)",       "unanswered(S0)",
                                      "client_reset(RSTO)", "server_reset(RSTR)", "half_close(SH)"};

using bench::build_frame;
using bench::Endpoints;
using bench::FrameKind;
using bench::Segment;
using Session = Endpoints;

struct Pkt {
  uint64_t ts_ns;
  uint32_t session;
  Segment seg;
};

constexpr uint8_t FIN = bench::kFin, SYN = bench::kSyn, RST = bench::kRst, PSH = bench::kPsh, ACK = bench::kAck;

}  // namespace
}  // namespace synscope

using namespace synscope;  // NOLINT: a tool's main()

int main(int argc, char** argv) {
  CLI::App app{"synscope-gen: write a pcap of mixed TCP sessions"};
  std::string out;
  uint32_t sessions = 1000;
  uint64_t seed = 1;
  double window_s = 600;
  double start_s = 1700000000;
  uint32_t data_exchanges = 3;
  double ipv6_share = 0.1;
  uint32_t server_pool = 0;
  bool microseconds = false;
  app.add_option("-o,--out", out, "Output pcap path")->required();
  app.add_option("-n,--sessions", sessions, "Number of TCP sessions")->check(CLI::Range(1u, 50'000'000u));
  app.add_option("--seed", seed, "Random seed");
  app.add_option("--window", window_s, "Seconds over which sessions start")->check(app::finite_range(1.0, 1e7));
  app.add_option("--start", start_s, "Epoch seconds of the first session");
  app.add_option("--exchanges", data_exchanges, "Request/response pairs per normal session")
      ->check(CLI::Range(0u, 1000u));
  app.add_flag("--microseconds", microseconds, "Write a microsecond-resolution pcap (default: nanoseconds)");
  app.add_option("--ipv6-share", ipv6_share, "Fraction of sessions over IPv6")->check(app::finite_range(0.0, 1.0));
  app.add_option(
         "--servers", server_pool,
         "Sessions go to N servers with Zipf popularity (server k gets 1/k of server 1's share), so each "
         "server has its own baseline of failures and a surge ':one' hits the 10th most popular; 0 = every session "
         "its own random server")
      ->check(CLI::Range(0u, 1000000u));
  double diurnal = 0;
  app.add_option("--diurnal", diurnal,
                 "Daily cycle of the session rate: 0 flat, A in (0,1]: rate ∝ 1 + A·sin, peak 14:00, trough 02:00 UTC")
      ->check(app::finite_range(0.0, 1.0));
  double weekend = 1;
  app.add_option("--weekend", weekend, "Session rate on Saturdays and Sundays (UTC) relative to weekdays")
      ->check(app::finite_range(0.01, 1.0));
  std::vector<double> holidays;
  app.add_option("--holiday", holidays,
                 "Day (0 = the day of --start, UTC) whose session rate is the --weekend rate, as a public holiday. "
                 "Repeatable");
  std::vector<std::string> surges;
  app.add_option("--surge", surges,
                 "Extra sessions: START:DURATION:KIND:COUNT[:one] (seconds after --start; KIND normal, refused, "
                 "unanswered, client_reset, server_reset, half_close; 'one': all to one server; 'client': all from one "
                 "client to one server; 'new': all to one internal server that is not in the --servers population and "
                 "never had a session before; 'inbound', 'outbound', 'private', 'edge': every session in that "
                 "perspective, random servers). Repeatable");
  CLI11_PARSE(app, argc, argv);

  // A plan per session: its kind, its first packet's time, and (surges to one server) a shared server.
  struct Plan {
    Kind kind;
    double t_s;
    int server_of = -1;        ///< index of the session whose server it reuses
    bool same_client = false;  ///< also its client (one client hammering one server: brute force)
    int8_t client_internal = -1, server_internal = -1;  ///< forced perspective (-1: drawn)
    bool new_server = false;                            ///< a server outside the population (surge ':new')
  };
  const double first_day = std::floor(start_s / 86400.0);
  const auto is_holiday = [&](double t) {
    const double day = std::floor(t / 86400.0) - first_day;
    return std::find(holidays.begin(), holidays.end(), day) != holidays.end();
  };
  std::mt19937_64 plan_rng(seed ^ 0x5eed);
  std::uniform_real_distribution<double> p01(0, 1);
  std::vector<Plan> plans;
  for (uint32_t i = 0; i < sessions; ++i) {
    double t = start_s + p01(plan_rng) * window_s;
    if (diurnal > 0 || weekend < 1) {  // rejection sampling against the daily and weekly cycle
      while (true) {
        const double hour = std::fmod(t, 86400.0) / 3600.0;
        const auto weekday = (static_cast<int64_t>(t / 86400.0) + 4) % 7;  // 1970-01-01 was a Thursday (4)
        const double rate = (1 + diurnal * std::sin(2 * M_PI * (hour - 8) / 24)) / (1 + diurnal) *
                            (weekday == 0 || weekday == 6 || (!holidays.empty() && is_holiday(t)) ? weekend : 1.0);
        if (p01(plan_rng) < rate) break;
        t = start_s + p01(plan_rng) * window_s;
      }
    }
    const double r = p01(plan_rng);
    const Kind kind = r < 0.70   ? Kind::kNormal
                      : r < 0.78 ? Kind::kRefused
                      : r < 0.85 ? Kind::kUnanswered
                      : r < 0.90 ? Kind::kClientReset
                      : r < 0.96 ? Kind::kServerReset
                                 : Kind::kHalfClose;
    plans.push_back({kind, t});
  }
  static constexpr const char* kKindArgs[] = {"normal",       "refused",      "unanswered",
                                              "client_reset", "server_reset", "half_close"};
  for (const std::string& spec : surges) {
    double at = 0, dur = 0;
    char kind_buf[32] = {}, one[16] = {};
    unsigned count = 0;
    const int got = std::sscanf(spec.c_str(), "%lf:%lf:%31[a-z_]:%u:%15s", &at, &dur, kind_buf, &count, one);
    int kind = -1;
    for (int k = 0; k < 6; ++k) {
      if (got >= 4 && std::strcmp(kind_buf, kKindArgs[k]) == 0) kind = k;
    }
    const std::string target = got == 5 ? one : "";
    const bool new_server = target == "new";
    const bool one_server = target == "one" || target == "client" || new_server;
    // Forced perspective: {client internal, server internal}.
    int8_t ci = -1, si = -1;
    if (target == "inbound") ci = 0, si = 1;
    if (target == "outbound") ci = 1, si = 0;
    if (target == "private") ci = 1, si = 1;
    if (target == "edge") ci = 0, si = 0;
    if (kind < 0 || dur <= 0 || (got == 5 && !one_server && ci < 0)) {
      std::fprintf(stderr,
                   "synscope-gen: --surge '%s' is not START:DURATION:KIND:COUNT"
                   "[:one|:client|:new|:inbound|:outbound|:private|:edge]\n",
                   spec.c_str());
      return 1;
    }
    const int first = static_cast<int>(plans.size());
    const bool one_client = target == "client";
    for (unsigned c = 0; c < count; ++c) {
      Plan plan{static_cast<Kind>(kind), start_s + at + p01(plan_rng) * dur, one_server && c > 0 ? first : -1,
                one_client && c > 0};
      plan.client_internal = ci;
      plan.server_internal = si;
      plan.new_server = new_server && c == 0;
      plans.push_back(plan);
    }
  }
  sessions = static_cast<uint32_t>(plans.size());

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0, 1);
  std::vector<Session> ss(sessions + 1);
  // The server population (--servers): address, port and family per server, and Zipf weights.
  struct PoolServer {
    bool v6;
    bool internal;
    uint8_t addr[16];
    uint16_t port;
  };
  std::vector<PoolServer> pool;
  std::vector<double> weights;
  for (uint32_t k = 0; k < server_pool; ++k) {
    PoolServer ps{};
    ps.v6 = u01(rng) < ipv6_share;
    ps.internal = u01(rng) < 0.3;
    const uint32_t r = static_cast<uint32_t>(rng());
    if (!ps.v6) {
      ps.addr[0] = ps.internal ? 10 : static_cast<uint8_t>(11 + r % 100);
      ps.addr[1] = uint8_t(r >> 8), ps.addr[2] = uint8_t(r >> 16), ps.addr[3] = uint8_t(1 + (r >> 24) % 254);
    } else {
      ps.addr[0] = ps.internal ? 0xfd : 0x20, ps.addr[1] = ps.internal ? 0x00 : 0x01;
      for (int b = 8; b < 16; ++b) ps.addr[b] = static_cast<uint8_t>(rng());
    }
    static constexpr uint16_t kPoolPorts[] = {80, 443, 22, 25, 3306, 8080, 5432, 6379};
    ps.port = kPoolPorts[rng() % 8];
    pool.push_back(ps);
    weights.push_back(1.0 / (k + 1));
  }
  std::discrete_distribution<uint32_t> pick_server(weights.begin(), weights.end());
  std::vector<Pkt> pkts;
  pkts.reserve(static_cast<size_t>(sessions) * (8 + 4 * data_exchanges));
  uint64_t kind_count[6] = {};

  for (uint32_t i = 0; i < sessions; ++i) {
    Session& s = ss[i];
    s.v6 = u01(rng) < ipv6_share;
    bool client_internal = u01(rng) < 0.6, server_internal = u01(rng) < 0.3;
    if (plans[i].client_internal >= 0) client_internal = plans[i].client_internal == 1;
    if (plans[i].server_internal >= 0) server_internal = plans[i].server_internal == 1;
    if (plans[i].new_server) server_internal = true;
    auto addr = [&](uint8_t* a, bool internal) {
      std::memset(a, 0, 16);
      const uint32_t r = static_cast<uint32_t>(rng());
      if (!s.v6) {
        a[0] = internal ? 10 : static_cast<uint8_t>(11 + r % 100);  // 11-110: public, not RFC 1918
        a[1] = uint8_t(r >> 8), a[2] = uint8_t(r >> 16), a[3] = uint8_t(1 + (r >> 24) % 254);
      } else {
        a[0] = internal ? 0xfd : 0x20, a[1] = internal ? 0x00 : 0x01;
        for (int b = 8; b < 16; ++b) a[b] = static_cast<uint8_t>(rng());
      }
    };
    addr(s.client, client_internal);
    addr(s.server, server_internal);
    s.cport = static_cast<uint16_t>(32768 + rng() % 28000);
    static constexpr uint16_t kServerPorts[] = {80, 443, 22, 25, 3306, 8080, 5432, 6379};
    s.sport = kServerPorts[rng() % 8];
    const bool forced = plans[i].client_internal >= 0 || plans[i].new_server;
    if (!pool.empty() && plans[i].server_of < 0 && !forced) {  // a server of the population, by popularity
      // The first session of a surge at one server picks the server all its sessions go to: the 10th most
      // popular, known (its own small baseline of failures) but not one whose baseline hides the surge.
      const bool surge_target = i + 1 < sessions && plans[i + 1].server_of == static_cast<int>(i);
      const PoolServer& ps = pool[surge_target ? std::min<size_t>(9, pool.size() - 1) : pick_server(rng)];
      s.v6 = ps.v6;
      std::memcpy(s.server, ps.addr, 16);
      s.sport = ps.port;
      if (s.v6 != (s.client[0] == 0xfd || s.client[0] == 0x20)) addr(s.client, client_internal);
    }
    if (plans[i].server_of >= 0) {  // a surge aimed at one server
      const Session& o = ss[static_cast<size_t>(plans[i].server_of)];
      s.v6 = o.v6;
      std::memcpy(s.server, o.server, 16);
      s.sport = o.sport;
      if (s.v6 != (s.client[0] == 0xfd || s.client[0] == 0x20)) addr(s.client, client_internal);
      if (plans[i].same_client) std::memcpy(s.client, o.client, 16);
    }

    const Kind kind = plans[i].kind;
    ++kind_count[static_cast<int>(kind)];
    uint64_t t = static_cast<uint64_t>(plans[i].t_s * 1e9);
    const uint64_t rtt = static_cast<uint64_t>((0.2 + u01(rng) * 80) * 1e6);
    uint32_t cseq = static_cast<uint32_t>(rng()), sseq = static_cast<uint32_t>(rng());
    auto emit = [&](bool from_client, uint8_t flags, uint16_t payload, uint64_t dt) {
      t += dt;
      pkts.push_back(Pkt{t, i,
                         Segment{from_client ? cseq : sseq, (flags & ACK) ? (from_client ? sseq : cseq) : 0u, payload,
                                 flags, from_client, FrameKind::kTcp}});
      uint32_t& seq = from_client ? cseq : sseq;
      seq += payload + ((flags & (SYN | FIN)) ? 1 : 0);
    };
    emit(true, SYN, 0, 0);
    switch (kind) {
      case Kind::kRefused: emit(false, RST | ACK, 0, rtt / 2); break;
      case Kind::kUnanswered:
        cseq -= 1;  // retransmissions repeat the ISN
        emit(true, SYN, 0, 1'000'000'000);
        cseq -= 1;
        emit(true, SYN, 0, 2'000'000'000);
        break;
      case Kind::kHalfClose: emit(true, FIN | ACK, 0, 200'000'000); break;
      default: {
        emit(false, SYN | ACK, 0, rtt / 2);
        emit(true, ACK, 0, rtt / 2);
        const uint32_t n = kind == Kind::kNormal ? data_exchanges : 1;
        for (uint32_t x = 0; x < n; ++x) {
          emit(true, PSH | ACK, static_cast<uint16_t>(40 + rng() % 400), 1'000'000);
          emit(false, ACK, 0, rtt / 2);
          emit(false, PSH | ACK, static_cast<uint16_t>(100 + rng() % 1300), 2'000'000);
          emit(true, ACK, 0, rtt / 2);
        }
        if (kind == Kind::kNormal) {
          emit(true, FIN | ACK, 0, 5'000'000);
          emit(false, FIN | ACK, 0, rtt / 2);
          emit(true, ACK, 0, rtt / 2);
        } else {
          emit(kind == Kind::kClientReset, RST | ACK, 0, 3'000'000);
        }
      }
    }
    // About 3% of sessions get a UDP neighbour frame and 0.5% a truncated TCP frame, for frame accounting.
    if (u01(rng) < 0.03) pkts.push_back(Pkt{t + 1000, i, Segment{0, 0, 48, 0, true, FrameKind::kUdp}});
    if (u01(rng) < 0.005) pkts.push_back(Pkt{t + 2000, i, Segment{0, 0, 0, ACK, true, FrameKind::kTruncatedTcp}});
  }
  std::stable_sort(pkts.begin(), pkts.end(), [](const Pkt& a, const Pkt& b) { return a.ts_ns < b.ts_ns; });

  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "synscope-gen: cannot write %s: %s\n", out.c_str(), std::strerror(errno));
    return 2;
  }
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  // Nanosecond pcap by default; --microseconds writes the classic format (what net_pcap's libpcap hands
  // DPDK is microseconds either way, so live-vs-replay comparisons use it).
  const uint32_t hdr[6] = {microseconds ? 0xa1b2c3d4u : 0xa1b23c4du, 0x00040002, 0, 0, 65535, 1};
  const uint64_t unit = microseconds ? 1000 : 1;
  std::fwrite(hdr, 1, 24, f);
  uint8_t frame[2048];
  for (const Pkt& k : pkts) {
    const size_t len = build_frame(ss[k.session], k.seg, frame);
    const uint32_t rec[4] = {static_cast<uint32_t>(k.ts_ns / 1'000'000'000ULL),
                             static_cast<uint32_t>(k.ts_ns % 1'000'000'000ULL / unit), static_cast<uint32_t>(len),
                             static_cast<uint32_t>(len)};
    std::fwrite(rec, 1, 16, f);
    std::fwrite(frame, 1, len, f);
  }
  if (std::fclose(f) != 0) {
    std::fprintf(stderr, "synscope-gen: cannot write %s\n", out.c_str());
    return 2;
  }
  std::fprintf(stderr, "synscope-gen: %s: %zu frames, %u sessions:", out.c_str(), pkts.size(), sessions);
  for (int k = 0; k < 6; ++k) std::fprintf(stderr, " %s=%llu", kKindNames[k], (unsigned long long)kind_count[k]);
  std::fprintf(stderr, "\n");
  // The server each one-server surge went to, as synscope writes a partition ("ip:port", "[ipv6]:port"), in
  // --surge order: a test can check an alert names it.
  for (uint32_t i = 0; i + 1 < sessions; ++i) {
    if (plans[i + 1].server_of != static_cast<int>(i)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(ss[i].v6 ? AF_INET6 : AF_INET, ss[i].server, text, sizeof(text));
    std::fprintf(stderr, ss[i].v6 ? "synscope-gen: surge server: [%s]:%u\n" : "synscope-gen: surge server: %s:%u\n",
                 text, static_cast<unsigned>(ss[i].sport));
  }
  return 0;
}
