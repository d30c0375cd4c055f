// live: see live.hpp.
#include "live/live.hpp"

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace synscope::live {

// ---- TscClock -----------------------------------------------------------------------------------------

TscClock::TscClock() noexcept {
  const uint64_t hz = rte_get_tsc_hz();
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  base_tsc_ = rte_rdtsc();
  base_ns_ = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  mult_ = hz != 0 ? static_cast<uint64_t>((static_cast<__uint128_t>(1'000'000'000ull) << 32) / hz) : 0;
  ticks_per_ms_ = hz / 1000 != 0 ? hz / 1000 : 1;
}

uint64_t TscClock::now_ns() const noexcept {
  const uint64_t ticks = rte_rdtsc() - base_tsc_;
  return base_ns_ + static_cast<uint64_t>((static_cast<__uint128_t>(ticks) * mult_) >> 32);
}

// ---- cores --------------------------------------------------------------------------------------------

namespace {
constexpr uint16_t kRxBurst = channel::kBurstSize;
constexpr uint64_t kPublishMs = 2;   // counters reach scrapes within 2 ms (the REJ-visibility bar is 250 ms)
constexpr uint64_t kAdvanceMs = 1;   // an idle engine lets TSC time pass this often
}  // namespace

struct DataPlane::Core {
  enum class Role { kRxEngine, kRx, kEngine };

  Core(unsigned lcore_id, Role r, const LiveConfig& config, const TscClock& tsc, const dpdk_port::RxTimestamp& ts,
       const std::atomic<bool>& stop, uint16_t engine_index)
      : lcore(lcore_id), role(r), clock(tsc), rx_timestamp(ts), stop_rx(stop), packet_clock(config.packet_clock),
        lossless(config.lossless),
        classifier(config.parse), dispatcher(config.engine.hasher) {
    if (role != Role::kRx) {
      sessions = std::make_unique<channel::SessionChannel>(config.session_ring);
      engine::EngineConfig ec = config.engine;
      ec.core_id = engine_index;
      engine = std::make_unique<engine::SessionEngine>(ec, sessions.get(), nullptr);
      if (!engine->ok()) {
        throw std::runtime_error("lcore " + std::to_string(lcore) + ": cannot reserve memory for --flow-capacity " +
                                 std::to_string(config.engine.flow_capacity) + " flows");
      }
      stats.flow_capacity = engine->flow_capacity();
    }
  }

  [[nodiscard]] std::string role_name() const {
    return role == Role::kRxEngine ? "rx+engine" : role == Role::kRx ? "rx" : "engine";
  }

  /// RX roles: polls every queue once. Returns true if a packet arrived.
  bool poll_rx() noexcept {
    bool got = false;
    for (size_t qi = 0; qi < queues.size(); ++qi) {
      rte_mbuf* mbufs[kRxBurst];
      const uint16_t n = dpdk_port::receive(queues[qi].port_id, queues[qi].queue, mbufs, kRxBurst);
      if (n == 0) continue;
      got = true;
      const uint64_t now = clock.now_ns();  // once per burst
      uint64_t bytes = 0;
      // Prefetch the next frame's first line while this one parses: the header miss dominates parsing.
      rte_prefetch0(rte_pktmbuf_mtod(mbufs[0], const void*));
      for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(mbufs[i + 1], const void*));
        const rte_mbuf* m = mbufs[i];
        const uint64_t ts = packet_clock ? rx_timestamp.ns(m, last_packet_ns) : now;
        last_packet_ns = ts;
        // The checksum is resolved here, with the NIC's word when it gave one (the frame is freed below).
        packet::DeferredChecksum sum;
        classifier.parse(packet::LinkType::kEthernet, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, ts,
                            parsed[i], &sum);
        if (!sum.ok(dpdk_port::nic_checksum(m), parsed[i].meta.tunnel_depth)) {
          parsed[i].frame_class = packet::FrameClass::kBadChecksum;
        }
        bytes += m->pkt_len;
      }
      stats.rx_packets[qi] += n;
      stats.rx_bytes[qi] += bytes;
      if (engine) {
        engine->process_burst(parsed, n);
        time_ns.store(engine->settled_ns(), std::memory_order_release);
      } else {
        spread(n);
      }
      rte_pktmbuf_free_bulk(mbufs, n);
    }
    if (role == Role::kRx) {
      flush_open_bursts();  // latency: a partial burst never waits for more traffic
      if (got) time_ns.store(last_packet_ns, std::memory_order_release);
    }
    return got;
  }

  /// Spread mode: hands each parsed packet to the EngineCore that owns its flow (symmetric flow hash).
  void spread(uint16_t n) noexcept {
    const auto workers = static_cast<uint32_t>(out.size());
    for (uint16_t i = 0; i < n; ++i) {
      const engine::ParsedPacket& p = parsed[i];
      // Untracked frames are only counted; any engine may count them.
      uint32_t w = 0;
      if (workers > 1) w = engine::is_tracked(p.frame_class) ? dispatcher.dispatch(p.meta) % workers : i % workers;
      channel::Burst*& b = open[w];
      if (b == nullptr) {
        if ((b = out[w]->try_acquire()) == nullptr) {
          if (!lossless) {
            ++stats.dropped_ring_full;  // the engine is behind and all its bursts are in flight
            continue;
          }
          b = out[w]->acquire();  // file-fed port: wait for the engine rather than lose the packet
        }
        b->n = 0;
      }
      b->pkts[b->n++] = p;
      if (b->n == channel::kBurstSize) {
        out[w]->publish(b);
        b = nullptr;
      }
    }
  }

  void flush_open_bursts() noexcept {
    for (size_t w = 0; w < open.size(); ++w) {
      if (open[w] != nullptr && open[w]->n > 0) {
        out[w]->publish(open[w]);
        open[w] = nullptr;
      }
    }
  }

  /// Engine role: takes one burst from each feeding RX core. Returns true if any was waiting.
  bool poll_engine() noexcept {
    // Where every feeding RX core has got to (its last packet or, idle, the TSC). Read before looking
    // for bursts: each RX core stores it after publishing the bursts it covers, so if none is waiting
    // below, no packet older than `t` is still on its way.
    uint64_t t = UINT64_MAX;
    for (const Core* f : feeders) t = std::min(t, f->time_ns.load(std::memory_order_acquire));
    bool got = false;
    for (channel::BurstChannel* ch : in) {
      if (channel::Burst* b = ch->try_receive()) {
        engine->process_burst(b->pkts, b->n);
        ch->release(b);
        got = true;
      }
    }
    // Idle: let that time pass, so timers fire and the stats core's merge is not held back by a quiet engine.
    if (!got && t != UINT64_MAX && t > engine->watermark_ns()) engine->advance(t);
    time_ns.store(engine->settled_ns(), std::memory_order_release);
    return got;
  }

  /// Periodic work, every round: publish counters, let idle TSC time pass.
  void housekeeping(bool got) noexcept {
    ++stats.polls;
    stats.busy_polls += got;
    const uint64_t tsc = rte_rdtsc();
    if (!got && !packet_clock && tsc >= next_advance_tsc) {
      next_advance_tsc = tsc + kAdvanceMs * clock.ticks_per_ms();
      if (role == Role::kRxEngine) {
        engine->advance(clock.now_ns());
        time_ns.store(engine->settled_ns(), std::memory_order_release);
      } else if (role == Role::kRx) {
        time_ns.store(clock.now_ns(), std::memory_order_release);
      }
    }
    if (tsc >= next_publish_tsc) {
      next_publish_tsc = tsc + kPublishMs * clock.ticks_per_ms();
      publish();
    }
  }

  void publish() noexcept {
    if (engine) {
      stats.engine = engine->counters();
      stats.active_flows = engine->active_flows();
      stats.watermark_ns = engine->watermark_ns();
      stats.session_ring_waits = sessions->producer_waits();
    }
    mirror.publish(stats);
  }

  int run() noexcept {
    if (role != Role::kEngine) {
      while (!stop_rx.load(std::memory_order_relaxed)) housekeeping(poll_rx());
      flush_open_bursts();
      publish();
      rx_done.store(true, std::memory_order_release);
    } else {
      while (true) {
        bool feeders_done = true;
        for (const Core* f : feeders) feeders_done = feeders_done && f->rx_done.load(std::memory_order_acquire);
        const bool got = poll_engine();
        if (!got && feeders_done) break;  // every burst published before rx_done has been taken
        housekeeping(got);
      }
    }
    if (engine) {
      engine->finish();  // every open connection is reported, as at the end of a capture
      time_ns.store(UINT64_MAX, std::memory_order_release);
      publish();
      sessions->mark_done();
    }
    return 0;
  }

  static int launch(void* self) { return static_cast<Core*>(self)->run(); }

  unsigned lcore;
  Role role;
  const TscClock& clock;
  const dpdk_port::RxTimestamp& rx_timestamp;
  const std::atomic<bool>& stop_rx;
  bool packet_clock;
  bool lossless;
  engine::FrameParser classifier;
  flow::FlowHasher dispatcher;  ///< spread RX role: FlowHasher::dispatch picks the EngineCore of a flow
  std::vector<QueueRef> queues;
  std::unique_ptr<channel::SessionChannel> sessions;
  std::unique_ptr<engine::SessionEngine> engine;
  std::vector<std::unique_ptr<channel::BurstChannel>> out;  ///< RX role in spread mode: one per EngineCore
  std::vector<channel::Burst*> open;                        ///< the burst being filled for each EngineCore
  std::vector<channel::BurstChannel*> in;                   ///< engine role: one per RX core
  std::vector<const Core*> feeders;
  std::atomic<bool> rx_done{false};
  /// Engine roles: the engine's time (watermark); spread-mode RX role: its newest packet time. Stored
  /// with release once per burst, after the records and bursts it covers were enqueued.
  std::atomic<uint64_t> time_ns{0};
  engine::ParsedPacket parsed[kRxBurst];
  uint64_t last_packet_ns = 0;
  uint64_t next_publish_tsc = 0;
  uint64_t next_advance_tsc = 0;
  CoreStats stats;
  channel::Mirror<CoreStats> mirror;
};

// ---- stats core ---------------------------------------------------------------------------------------

class DataPlane::Stats final : public engine::SessionSink, public buckets::BucketSink {
 public:
  Stats(const LiveConfig& config, std::vector<Core*> engines)
      : engines_(std::move(engines)), buckets_(config.engine.bucket_span_ns, config.engine.bucket_settle_ns) {
    if (!config.sessions_out.empty()) {
      sessions_file_ = std::make_unique<output::OutputFile>(config.sessions_out);
      session_writer_ = std::make_unique<output::SessionJsonWriter>(*sessions_file_);
    }
    if (!config.buckets_out.empty()) {
      buckets_file_ = std::make_unique<output::OutputFile>(config.buckets_out);
      bucket_writer_ = std::make_unique<output::BucketJsonWriter>(*buckets_file_);
    }
    if (!config.alerts_out.empty()) {
      alerts_file_ = std::make_unique<output::OutputFile>(config.alerts_out);
      alert_engine_ = std::make_unique<alerts::AlertEngine>(
          alerts::alert_config(config.alert_policy, config.engine.bucket_span_ns, config.engine.bucket_settle_ns),
          *alerts_file_);
      stats_.detector_enabled = 1;
      stats_.server_series_capacity = config.alert_policy.server_series;
      model_file_ = config.model_file;
      std::string warning;
      if (!model_file_.empty() && !alert_engine_->load(model_file_, warning)) {
        std::fprintf(stderr, "synscope: warning: %s\n", warning.c_str());  // start-up, main lcore
      }
    }
  }

  /// One round: takes finished sessions from every engine in the order of the engine time at which they
  /// were written (a k-way merge over the SP/SC rings, one record of lookahead each), settling buckets as
  /// that time passes — for one engine exactly what replay's engine does, so bucket records match replay.
  /// An engine with nothing waiting holds the merge back only up to the time it last published (every
  /// record it writes later is at least that late); a ring filling up overrides that, so nothing stalls.
  bool poll() noexcept {
    const uint32_t taken = merge(/*final=*/false);
    const uint64_t tsc = rte_rdtsc();
    if (tsc >= next_publish_tsc_) {
      next_publish_tsc_ = tsc + 2 * ticks_per_ms_;
      publish();
    }
    if (tsc >= next_flush_tsc_) {  // JSON lines reach the files within a second (tail -f, shippers)
      next_flush_tsc_ = tsc + 1000 * ticks_per_ms_;
      if (sessions_file_) (void)sessions_file_->flush();
      if (buckets_file_) (void)buckets_file_->flush();
      if (alerts_file_) (void)alerts_file_->flush();
    }
    return taken > 0;
  }

  /// After the engines stopped: takes every session left and emits every bucket held.
  void finish() {
    while (merge(/*final=*/true) > 0) {
    }
    buckets_.flush(*this);
    publish();
  }

  [[nodiscard]] bool engines_done() const noexcept {
    return std::all_of(engines_.begin(), engines_.end(), [](const Core* c) { return c->sessions->producer_done(); });
  }

  void on_session(const engine::SessionRecord& r) override {
    if (session_writer_) session_writer_->on_session(r);
    if (alert_engine_) alert_engine_->on_session(r);
    buckets_.add(r);
    ++stats_.sessions_written;
  }

  void on_bucket(const buckets::Bucket& b) override {
    if (bucket_writer_) bucket_writer_->on_bucket(b);
    if (alert_engine_) {
      alert_engine_->on_bucket(b);
      stats_.alerts_firing = alert_engine_->firing();
      stats_.alert_transitions = alert_engine_->alerts_written();
      stats_.server_series = alert_engine_->server_series();
      stats_.partitions_firing = alert_engine_->firing_partitions(stats_.partitions.data(), kMaxExportedPartitions);
      for (size_t p = 0; p < alerts::kPerspectiveSeries; ++p) {
        const detector::Scored& sc = alert_engine_->last(p);
        stats_.expected[p] = sc.typical;
        stats_.upper[p] = sc.upper;
        stats_.score[p] = sc.score;
      }
    }
    ++stats_.buckets_emitted;
    stats_.last_bucket_start_ns = b.start_ns;
    stats_.last_bucket_span_ns = b.span_ns;
    for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
      stats_.last_bucket_attempts[p] = b.by_perspective[p].attempts;
      stats_.last_bucket_failed[p] = b.by_perspective[p].failed;
    }
  }

  void publish() noexcept {
    stats_.late_sessions = buckets_.late_sessions();
    mirror.publish(stats_);
  }

  bool flush(std::string& error) {
    if (alert_engine_ && !model_file_.empty() && !alert_engine_->save(model_file_, error)) return false;
    for (output::OutputFile* f : {sessions_file_.get(), buckets_file_.get(), alerts_file_.get()}) {
      if (f != nullptr && !f->flush()) {
        error = "cannot write " + f->path();
        return false;
      }
    }
    return true;
  }

  void set_ticks_per_ms(uint64_t t) noexcept { ticks_per_ms_ = t; }

 private:
  /// Up to 4096 records per call in merged order; returns how many were taken.
  uint32_t merge(bool final) noexcept {
    uint32_t taken = 0;
    for (; taken < 4096; ++taken) {
      Core* best = nullptr;
      uint64_t best_t = UINT64_MAX, bound = UINT64_MAX;
      bool pressed = false;
      for (Core* c : engines_) {
        const uint64_t published = c->time_ns.load(std::memory_order_acquire);  // before peek(): see above
        if (const engine::SessionRecord* r = c->sessions->peek()) {
          pressed = pressed || c->sessions->pressed();
          if (r->settled_ns < best_t) {
            best_t = r->settled_ns;
            best = c;
          }
        } else if (!final && published != 0 && !c->sessions->producer_done() && published < bound) {
          bound = published;
        }
      }
      // Records come out in settled_ns order, so settling the merged buckets to each record's settled_ns
      // before adding it reproduces replay's bucket records (engine::RecordBuckets).
      if (best == nullptr || (best_t > bound && !pressed)) {
        if (bound != UINT64_MAX) settle(bound);
        break;
      }
      settle(best_t);
      on_session(*best->sessions->peek());
      best->sessions->pop();
    }
    return taken;
  }

  void settle(uint64_t t) noexcept {
    buckets_.settle(t, *this);
    stats_.watermark_ns = buckets_.settled_ns();
  }

 public:

  channel::Mirror<StatsCoreStats> mirror;

 private:
  std::vector<Core*> engines_;
  engine::RecordBuckets buckets_;  ///< the engines' buckets, rebuilt from their merged records
  std::unique_ptr<output::OutputFile> sessions_file_, buckets_file_;
  std::unique_ptr<output::SessionJsonWriter> session_writer_;
  std::unique_ptr<output::BucketJsonWriter> bucket_writer_;
  std::unique_ptr<output::OutputFile> alerts_file_;
  std::unique_ptr<alerts::AlertEngine> alert_engine_;
  std::string model_file_;
  StatsCoreStats stats_;
  uint64_t ticks_per_ms_ = 1;
  uint64_t next_publish_tsc_ = 0;
  uint64_t next_flush_tsc_ = 0;
};

// ---- DataPlane ----------------------------------------------------------------------------------------

DataPlane::DataPlane(const LiveConfig& config) : config_(config) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  started_ns_ = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);

  std::vector<unsigned> lcores;
  unsigned id = 0;
  RTE_LCORE_FOREACH_WORKER(id) lcores.push_back(id);
  const uint32_t spread = config.spread_workers;
  if (lcores.size() < spread + 1) {
    throw std::runtime_error("need at least " + std::to_string(spread + 1) + " worker lcore(s) besides the main " +
                             "lcore (" + std::to_string(spread) + " engine + 1 RX), EAL gave " +
                             std::to_string(lcores.size()) + ": add lcores with -l (e.g. -l 0-" +
                             std::to_string(spread + 1) + ")");
  }
  config_.ports.lcores = static_cast<uint32_t>(lcores.size());
  config_.ports.rx_timestamps = config.packet_clock;
  ports_ = std::make_unique<dpdk_port::Ports>(config_.ports);

  std::vector<QueueRef> queues;
  for (size_t pi = 0; pi < ports_->ports().size(); ++pi) {
    const dpdk_port::Port& p = ports_->ports()[pi];
    for (uint16_t q = 0; q < p.rx_queues; ++q) queues.push_back({static_cast<uint16_t>(pi), p.id, q});
  }
  const size_t rx_lcores = std::min(lcores.size() - spread, queues.size());
  if ((queues.size() + rx_lcores - 1) / rx_lcores > kMaxQueuesPerCore) {
    throw std::runtime_error(std::to_string(queues.size()) + " RX queues on " + std::to_string(rx_lcores) +
                             " lcore(s) is more than " + std::to_string(kMaxQueuesPerCore) + " per lcore");
  }
  const Core::Role rx_role = spread == 0 ? Core::Role::kRxEngine : Core::Role::kRx;
  uint16_t engine_index = 0;
  for (size_t i = 0; i < rx_lcores; ++i) {
    cores_.push_back(std::make_unique<Core>(lcores[i], rx_role, config_, clock_, ports_->rx_timestamp(), stop_rx_,
                                            rx_role == Core::Role::kRxEngine ? engine_index++ : 0));
  }
  for (size_t i = 0; i < queues.size(); ++i) cores_[i % rx_lcores]->queues.push_back(queues[i]);
  std::vector<Core*> engines;
  if (spread == 0) {
    for (auto& c : cores_) engines.push_back(c.get());
  } else {
    for (uint32_t w = 0; w < spread; ++w) {
      cores_.push_back(std::make_unique<Core>(lcores[lcores.size() - spread + w], Core::Role::kEngine, config_, clock_,
                                              ports_->rx_timestamp(), stop_rx_, engine_index++));
      engines.push_back(cores_.back().get());
    }
    for (size_t r = 0; r < rx_lcores; ++r) {
      Core& rx = *cores_[r];
      for (Core* e : engines) {
        rx.out.push_back(std::make_unique<channel::BurstChannel>(config_.burst_ring));
        rx.open.push_back(nullptr);
        e->in.push_back(rx.out.back().get());
        e->feeders.push_back(&rx);
      }
    }
  }
  stats_ = std::make_unique<Stats>(config_, engines);
  stats_->set_ticks_per_ms(clock_.ticks_per_ms());
  for (auto& c : cores_) c->publish();
  stats_->publish();
}

DataPlane::~DataPlane() {
  try {
    stop();
  } catch (...) {  // a destructor must not throw; stop() only throws on an output error already reported
  }
}

void DataPlane::start() {
  for (auto& c : cores_) {
    const int ret = rte_eal_remote_launch(&Core::launch, c.get(), c->lcore);
    if (ret != 0) throw std::runtime_error("cannot launch lcore " + std::to_string(c->lcore) + ": busy");
  }
  launched_ = true;
}

bool DataPlane::poll_stats() noexcept { return stats_->poll(); }

void DataPlane::stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_rx_.store(true, std::memory_order_relaxed);
  if (launched_) {
    // Engines finish() into their session rings; keep draining so none of them waits on a full ring.
    channel::Backoff backoff;
    while (!stats_->engines_done()) {
      if (stats_->poll()) {
        backoff.reset();
      } else {
        backoff.pause();
      }
    }
    rte_eal_mp_wait_lcore();
  }
  stats_->finish();
}

bool DataPlane::flush_outputs(std::string& error) { return stats_->flush(error); }

Snapshot DataPlane::snapshot() const {
  Snapshot s;
  s.started_ns = started_ns_;
  s.now_ns = clock_.now_ns();
  for (const auto& c : cores_) s.cores.push_back({c->lcore, c->role_name(), c->queues, c->mirror.read()});
  for (size_t i = 0; i < ports_->ports().size(); ++i) s.ports.push_back(ports_->stats(i));
  s.stats_core = stats_->mirror.read();
  return s;
}

uint64_t DataPlane::packets_received() const noexcept {
  uint64_t n = 0;
  for (const auto& c : cores_) {
    const CoreStats st = c->mirror.read();
    for (size_t q = 0; q < c->queues.size(); ++q) n += st.rx_packets[q];
  }
  return n;
}

engine::EngineCounters merged_engine_counters(const Snapshot& snapshot) noexcept {
  engine::EngineCounters t;
  auto* dst = reinterpret_cast<uint64_t*>(&t);
  for (const auto& c : snapshot.cores) {
    const auto* src = reinterpret_cast<const uint64_t*>(&c.stats.engine);
    for (size_t i = 0; i < sizeof(t) / sizeof(uint64_t); ++i) dst[i] += src[i];  // RX-only cores hold zeros
  }
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
  for (const auto& c : cores_) {
    out += "lcore " + std::to_string(c->lcore) + ": " + c->role_name();
    for (const QueueRef& q : c->queues) out += " port" + std::to_string(q.port_id) + "/q" + std::to_string(q.queue);
    out += "\n";
  }
  out += "mempool: " + std::to_string(ports_->mbufs()) + " mbufs; flow table: " +
         std::to_string(config_.engine.flow_capacity) + " entries per engine\n";
  return out;
}

}  // namespace synscope::live
