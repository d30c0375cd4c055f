// live: see live.hpp.
#include "live/live.hpp"

#include <rte_launch.h>
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <variant>

#include "channel/channel.hpp"
#include "error/error.hpp"
#include "lcore/engine_core.hpp"
#include "lcore/rx_core.hpp"
#include "output/output.hpp"

namespace synscope::live {

/// One worker lcore and the role object it runs.
struct DataPlane::Role {
  using Core = std::variant<std::unique_ptr<lcore::RxCore>, std::unique_ptr<lcore::SpreadRxCore>,
                            std::unique_ptr<lcore::EngineCore>>;
  Role(unsigned id, Core c) noexcept : lcore(id), core(std::move(c)) {}

  unsigned lcore = 0;
  Core core;

  [[nodiscard]] std::string name() const {
    static const char* const kNames[] = {"rx+engine", "rx", "engine"};
    return kNames[core.index()];
  }
  [[nodiscard]] std::vector<QueueRef> queues() const {
    if (const auto* rx = std::get_if<0>(&core)) return (*rx)->queues();
    if (const auto* rx = std::get_if<1>(&core)) return (*rx)->queues();
    return {};
  }
  [[nodiscard]] bool owns_engine_only() const noexcept { return core.index() == 2; }
  [[nodiscard]] CoreStats read() const {
    if (const auto* rx = std::get_if<1>(&core)) return (*rx)->read();
    return std::visit([](const auto& c) { return c->mirror.read(); }, core);
  }
  void publish() noexcept {
    std::visit([](auto& c) { c->publish(); }, core);
  }
  /// Launches the role's run() on its lcore; false when the lcore is busy.
  bool launch() noexcept {
    return rte_eal_remote_launch(
               [](void* self) {
                 auto* role = static_cast<Role*>(self);
                 std::visit([](auto& c) { c->run(); }, role->core);
                 role->finished.store(true, std::memory_order_release);
                 return 0;
               },
               this, lcore) == 0;
  }
  /// After rte_eal_mp_wait_lcore(): everything run() wrote is visible to this thread. EAL's wait already
  /// guarantees that, but inside librte_eal, which ThreadSanitizer does not see; this acquire pairs with the
  /// release above so it does (scripts/tsan.sh), and costs one load per lcore at shutdown.
  void joined() const noexcept { (void)finished.load(std::memory_order_acquire); }

  std::atomic<bool> finished{false};
};

namespace {

uint64_t wall_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

DataPlane::DataPlane(const LiveConfig& config) : config_(config), started_ns_(wall_ns()) {
  std::vector<unsigned> lcores;
  unsigned id = 0;
  RTE_LCORE_FOREACH_WORKER(id) lcores.push_back(id);
  const uint32_t spread = config.spread_workers;
  if (lcores.size() < spread + 1) {
    throw Error(ErrorKind::kUsage, "need at least " + std::to_string(spread + 1) +
                                       " worker lcore(s) besides the main " + "lcore (" + std::to_string(spread) +
                                       " engine + 1 RX), EAL gave " + std::to_string(lcores.size()) +
                                       ": add lcores with -l (e.g. -l 0-" + std::to_string(spread + 1) + ")");
  }
  config_.ports.lcores = static_cast<uint32_t>(lcores.size());
  config_.ports.rx_timestamps = config.packet_clock;
  ports_ = std::make_unique<dpdk_port::Ports>(config_.ports);
  if (config_.pace > 0) {
    pace_ = std::make_unique<lcore::Pace>();
    pace_->factor = config_.pace;
  }
  rx_context_ = std::make_unique<lcore::RxContext>(
      lcore::RxContext{clock_, ports_->rx_timestamp(), config_.parse, config_.packet_clock, pace_.get()});

  std::vector<QueueRef> queues;
  for (size_t pi = 0; pi < ports_->ports().size(); ++pi) {
    const dpdk_port::Port& p = ports_->ports()[pi];
    for (uint16_t q = 0; q < p.rx_queues; ++q) queues.push_back({static_cast<uint16_t>(pi), p.id, q});
  }
  const size_t rx_lcores = std::min(lcores.size() - spread, queues.size());
  if ((queues.size() + rx_lcores - 1) / rx_lcores > kMaxQueuesPerCore) {
    throw Error(ErrorKind::kUsage, std::to_string(queues.size()) + " RX queues on " + std::to_string(rx_lcores) +
                                       " lcore(s) is more than " + std::to_string(kMaxQueuesPerCore) + " per lcore");
  }
  std::vector<std::vector<QueueRef>> queues_of(rx_lcores);
  for (size_t i = 0; i < queues.size(); ++i) queues_of[i % rx_lcores].push_back(queues[i]);

  // One FlowOwner per flow-owning role: the RX cores with RSS, the engine cores when spreading.
  const size_t engines = spread == 0 ? rx_lcores : spread;
  for (size_t e = 0; e < engines; ++e) {
    auto owner = std::make_unique<lcore::FlowOwner>();
    owner->sessions = std::make_unique<channel::SessionChannel>(config_.session_ring);
    engine::EngineConfig ec = config_.engine;
    ec.core_id = static_cast<uint16_t>(e);
    owner->engine = std::make_unique<engine::SessionEngine>(ec, *owner->sessions);
    if (!owner->engine->ok()) {
      throw Error(ErrorKind::kResource, "engine " + std::to_string(e) + ": cannot reserve memory for --flow-capacity " +
                                            std::to_string(config_.engine.flow_capacity) + " flows");
    }
    owners_.push_back(std::move(owner));
  }

  if (spread == 0) {
    for (size_t r = 0; r < rx_lcores; ++r) {
      roles_.push_back(std::make_unique<Role>(
          lcores[r], std::make_unique<lcore::RxCore>(queues_of[r], *rx_context_, *owners_[r], stop_rx_)));
    }
  } else {
    // Every (RX core, engine core) pair has a channel; the engine reads the RX core's FeedState.
    std::vector<std::vector<lcore::EngineCore::Input>> inputs(spread);
    std::vector<lcore::SpreadRxCore*> rx_cores;
    for (size_t r = 0; r < rx_lcores; ++r) {
      std::vector<lcore::Spreader::Channel*> out;
      for (uint32_t w = 0; w < spread; ++w) {
        burst_channels_.push_back(std::make_unique<channel::BurstChannel<channel::Burst>>(config_.burst_ring));
        out.push_back(burst_channels_.back().get());
      }
      auto core = std::make_unique<lcore::SpreadRxCore>(
          queues_of[r], *rx_context_, lcore::Spreader(std::move(out), config_.engine.hasher, config_.lossless),
          stop_rx_);
      rx_cores.push_back(core.get());
      roles_.push_back(std::make_unique<Role>(lcores[r], std::move(core)));
    }
    for (uint32_t w = 0; w < spread; ++w) {
      std::vector<lcore::EngineCore::Input> in;
      for (size_t r = 0; r < rx_lcores; ++r)
        in.push_back({burst_channels_[r * spread + w].get(), &rx_cores[r]->feed()});
      roles_.push_back(std::make_unique<Role>(lcores[lcores.size() - spread + w],
                                              std::make_unique<lcore::EngineCore>(std::move(in), *owners_[w], clock_)));
    }
  }
  std::vector<lcore::FlowOwner*> owners;
  for (auto& o : owners_) owners.push_back(o.get());
  consumers::ConsumerConfig cc = config_.consumers;
  cc.bucket_span_ns = config_.engine.bucket_span_ns;
  cc.bucket_settle_ns = config_.engine.bucket_settle_ns;
  cc.top = true;  // the live drill-down (/api/v1/top, synscope_top_*)
  stats_ = std::make_unique<StatsCore>(cc, std::move(owners), clock_);
  for (auto& r : roles_) r->publish();
  stats_->publish();
}

DataPlane::~DataPlane() { stop(); }

void DataPlane::start() {
  for (auto& r : roles_) {
    if (!r->launch()) throw Error(ErrorKind::kStartup, "cannot launch lcore " + std::to_string(r->lcore) + ": busy");
  }
  launched_ = true;
}

void DataPlane::run(consumers::Requests& requests, const RunLimits& limits) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto last_change = started;
  uint64_t last_received = 0;
  auto next_check = started;
  channel::Backoff backoff;
  uint32_t busy_polls = 0;
  while (!requests.stopping()) {
    if (stats_->poll_once()) {
      backoff.reset();
      // A loop that always finds work still looks at the clock now and then: the limits, SIGHUP and the
      // service manager's watchdog must not wait for a quiet moment.
      if (++busy_polls % 64 != 0) continue;
    } else {
      backoff.pause();
    }
    const auto now = Clock::now();
    if (now < next_check) continue;
    next_check = now + std::chrono::milliseconds(10);
    if (limits.on_tick) limits.on_tick();
    if (requests.take_reopen()) stats_->reopen_files();
    if (requests.take_report()) std::fprintf(stderr, "%s%s", summary().c_str(), stats_->progress().c_str());
    if (limits.duration_s > 0 && now - started >= std::chrono::duration<double>(limits.duration_s)) break;
    if (limits.idle_exit_s > 0) {
      const uint64_t received = packets_received();
      if (received != last_received) {
        last_received = received;
        last_change = now;
      } else if (now - last_change >= std::chrono::duration<double>(limits.idle_exit_s)) {
        for (auto& o : owners_) o->cut.store(engine::EndReason::kEndOfInput, std::memory_order_relaxed);
        break;
      }
    }
  }
  if (limits.on_stopping) limits.on_stopping();
  stop();
}

void DataPlane::stop() noexcept {
  if (stopped_) return;
  stopped_ = true;
  stop_rx_.store(true, std::memory_order_release);  // publishes each owner's `cut` (FlowOwner::finish)
  if (launched_) {
    // Engines finish() into their session rings; keep draining so none of them waits on a full ring.
    channel::Backoff backoff;
    while (!stats_->engines_done()) {
      if (stats_->poll_once()) {
        backoff.reset();
      } else {
        backoff.pause();
      }
    }
    rte_eal_mp_wait_lcore();
    for (const auto& r : roles_) r->joined();
  }
  stats_->finish();
}

bool DataPlane::close(std::string& error) { return stats_->close(error); }

Snapshot DataPlane::snapshot() const {
  Snapshot s;
  s.started_ns = started_ns_;
  s.now_ns = clock_.now_ns();
  s.packet_clock = config_.packet_clock;
  s.sensor = config_.consumers.sensor;
  // Engine cores first, the RX cores that feed them after: every packet an engine has counted was
  // counted by its RX core before it was handed over (SpreadRxCore::counts), so in the snapshot
  // received >= frames + drops, the difference being the packets in flight between them.
  std::vector<CoreStats> read(roles_.size());
  for (size_t i = 0; i < roles_.size(); ++i) {
    if (roles_[i]->owns_engine_only()) read[i] = roles_[i]->read();
  }
  for (size_t i = 0; i < roles_.size(); ++i) {
    if (!roles_[i]->owns_engine_only()) read[i] = roles_[i]->read();
  }
  for (size_t i = 0; i < roles_.size(); ++i)
    s.cores.push_back({roles_[i]->lcore, roles_[i]->name(), roles_[i]->queues(), read[i]});
  for (size_t i = 0; i < ports_->ports().size(); ++i) s.ports.push_back(ports_->stats(i));
  s.stats_core = stats_->mirror.read();
  auto top = std::make_shared<top::View>();
  stats_->top.read_into(*top);
  s.top = std::move(top);
  return s;
}

uint64_t DataPlane::packets_received() const noexcept {
  uint64_t n = 0;
  for (const auto& r : roles_) {
    const CoreStats st = r->read();
    for (uint64_t q : st.rx_packets) n += q;  // unpolled slots stay zero
  }
  return n;
}

engine::EngineCounters merged_engine_counters(const Snapshot& snapshot) noexcept {
  engine::EngineCounters t;
  for (const auto& c : snapshot.cores) t += c.stats.engine;  // RX-only cores hold zeros
  return t;
}

RxTotals rx_totals(const Snapshot& snapshot) noexcept {
  RxTotals t;
  for (const auto& c : snapshot.cores) {
    for (size_t q = 0; q < c.queues.size(); ++q) t.packets += c.stats.rx_packets[q];
    t.ring_full += c.stats.dropped_ring_full;
  }
  for (const auto& p : snapshot.ports) {
    t.imissed += p.imissed;
    t.rx_nombuf += p.rx_nombuf;
    t.rx_errors += p.ierrors;
  }
  return t;
}

std::string DataPlane::describe() const {
  std::string out = ports_->link_report();
  for (const auto& r : roles_) {
    out += "lcore " + std::to_string(r->lcore) + ": " + r->name();
    for (const QueueRef& q : r->queues()) out += " port" + std::to_string(q.port_id) + "/q" + std::to_string(q.queue);
    out += "\n";
  }
  out += "mempool: " + std::to_string(ports_->mbufs()) +
         " mbufs; flow table: " + std::to_string(config_.engine.flow_capacity) + " entries per engine\n";
  return out;
}

std::string DataPlane::summary() const {
  const Snapshot s = snapshot();
  const RxTotals rx = rx_totals(s);
  std::string per_queue;
  for (const auto& c : s.cores) {
    for (size_t q = 0; q < c.queues.size(); ++q) {
      per_queue += " port" + std::to_string(c.queues[q].port_id) + "/q" + std::to_string(c.queues[q].queue) + "@lcore" +
                   std::to_string(c.lcore) + "=" + std::to_string(c.stats.rx_packets[q]);
    }
  }
  std::string out = "rx: " + std::to_string(rx.packets) + " packets on " + std::to_string(s.ports.size()) +
                    " port(s); dropped: ring_full " + std::to_string(rx.ring_full) + ", NIC imissed " +
                    std::to_string(rx.imissed) + ", rx_nombuf " + std::to_string(rx.rx_nombuf) + "\n";
  out += "rx by queue:" + per_queue + "\n";
  out += output::format_summary(merged_engine_counters(s), s.stats_core.late_sessions);
  return out;
}

}  // namespace synscope::live
