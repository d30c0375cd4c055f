// metrics: see metrics.hpp.
#include "metrics/metrics.hpp"

#include <CivetServer.h>
#include <civetweb.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace synscope::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

constexpr double kNs = 1e-9;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

std::string str(std::string_view v) { return std::string(v); }

}  // namespace

std::vector<MetricFamily> Collector::Collect() const {
  const live::Snapshot s = plane_.snapshot();
  const engine::EngineCounters t = live::merged_engine_counters(s);
  std::vector<MetricFamily> out;

  auto info = family("synscope_build_info", "Build and DPDK version (value is always 1)", MetricType::Gauge);
  add(info, {{"version", SYNSCOPE_VERSION}, {"dpdk", rte_version()}}, 1);
  out.push_back(std::move(info));
  auto start = family("synscope_start_time_seconds", "When the data plane started (Unix time)", MetricType::Gauge);
  add(start, {}, static_cast<double>(s.started_ns) * kNs);
  out.push_back(std::move(start));

  // Per RX queue, counted by the lcore that polls it.
  auto rx_pkts = family("synscope_rx_packets_total", "Packets received, by port and RX queue", MetricType::Counter);
  auto rx_bytes = family("synscope_rx_bytes_total", "Bytes received (frame length), by port and RX queue",
                         MetricType::Counter);
  for (const auto& c : s.cores) {
    for (size_t q = 0; q < c.queues.size(); ++q) {
      Labels l = {{"port", std::to_string(c.queues[q].port_id)}, {"queue", std::to_string(c.queues[q].queue)},
                  {"core", std::to_string(c.lcore)}};
      add(rx_pkts, l, static_cast<double>(c.stats.rx_packets[q]));
      add(rx_bytes, l, static_cast<double>(c.stats.rx_bytes[q]));
    }
  }
  out.push_back(std::move(rx_pkts));
  out.push_back(std::move(rx_bytes));

  auto frames = family("synscope_frames_total",
                       "Received frames by what they turned out to be (class: tcp, not_tcp, fragment, malformed); "
                       "with synscope_drops_total{reason=~\"ring_full|table_full\"} it sums to synscope_rx_packets_total",
                       MetricType::Counter);
  for (size_t v = 0; v < packet::kFrameClassCount; ++v) {
    const auto verdict = static_cast<packet::FrameClass>(v);
    add(frames, {{"class", str(packet::frame_category(verdict))}, {"reason", str(packet::frame_class_name(verdict))}},
        static_cast<double>(t.by_frame_class[v]));
  }
  out.push_back(std::move(frames));

  const live::RxTotals rx = live::rx_totals(s);
  auto drops = family("synscope_drops_total",
                      "Losses by reason: imissed/rx_nombuf/rx_errors are the NIC's (never reached synscope); "
                      "ring_full and table_full are received packets not tracked; evicted counts flows cut short "
                      "to make room in a full flow table (sessions, not packets)",
                      MetricType::Counter);
  add(drops, {{"reason", "imissed"}}, static_cast<double>(rx.imissed));
  add(drops, {{"reason", "rx_nombuf"}}, static_cast<double>(rx.rx_nombuf));
  add(drops, {{"reason", "rx_errors"}}, static_cast<double>(rx.rx_errors));
  add(drops, {{"reason", "ring_full"}}, static_cast<double>(rx.ring_full));
  add(drops, {{"reason", "table_full"}}, static_cast<double>(t.dropped_table_full));
  add(drops, {{"reason", "evicted"}}, static_cast<double>(t.evicted_syn_only + t.evicted_other));
  out.push_back(std::move(drops));
  auto evictions = family("synscope_flow_evictions_total", "Flow-table entries evicted when full, SYN-only first",
                          MetricType::Counter);
  add(evictions, {{"kind", "syn_only"}}, static_cast<double>(t.evicted_syn_only));
  add(evictions, {{"kind", "other"}}, static_cast<double>(t.evicted_other));
  out.push_back(std::move(evictions));

  auto sessions = family("synscope_sessions_total",
                         "TCP sessions by Zeek conn_state and perspective, counted once when the connection closes "
                         "on the wire (RST or both FINs) or else when it ends (timeout, reuse, eviction, shutdown)",
                         MetricType::Counter);
  auto failed = family("synscope_failed_sessions_total",
                       "Failed sessions (attempts whose handshake never completed: S0, REJ, RSTOS0, RSTRH, SH, SHR) "
                       "by reason and perspective",
                       MetricType::Counter);
  for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
    const auto state = static_cast<tcp_session::ConnState>(st);
    for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
      const std::string persp = str(buckets::perspective_name(static_cast<buckets::Perspective>(p)));
      add(sessions, {{"conn_state", str(tcp_session::conn_state_name(state))}, {"perspective", persp}},
          static_cast<double>(t.by_state[st][p]));
      if (tcp_session::is_failed(state)) {
        add(failed, {{"reason", str(tcp_session::failure_reason(state))}, {"conn_state", str(tcp_session::conn_state_name(state))},
                     {"perspective", persp}},
            static_cast<double>(t.by_state[st][p]));
      }
    }
  }
  out.push_back(std::move(sessions));
  out.push_back(std::move(failed));

  auto teardowns = family("synscope_teardowns_total",
                          "Sessions by how each side ended them (a session with FIN then RST counts in both)",
                          MetricType::Counter);
  add(teardowns, {{"teardown", "fin"}, {"side", "originator"}}, static_cast<double>(t.teardown[0]));
  add(teardowns, {{"teardown", "fin"}, {"side", "responder"}}, static_cast<double>(t.teardown[1]));
  add(teardowns, {{"teardown", "rst"}, {"side", "originator"}}, static_cast<double>(t.teardown[2]));
  add(teardowns, {{"teardown", "rst"}, {"side", "responder"}}, static_cast<double>(t.teardown[3]));
  out.push_back(std::move(teardowns));

  auto simple = [&](const char* name, const char* help, uint64_t v) {
    auto f = family(name, help, MetricType::Counter);
    add(f, {}, static_cast<double>(v));
    out.push_back(std::move(f));
  };
  auto simple_gauge = [&](const char* name, const char* help, double v) {
    auto f = family(name, help, MetricType::Gauge);
    add(f, {}, v);
    out.push_back(std::move(f));
  };
  simple("synscope_rst_without_connection_total", "RSTs that matched no connection (a lone RST opened the session)",
         t.rst_without_connection);
  simple("synscope_syn_retransmissions_total", "SYNs repeating an attempt's sequence number", t.syn_retransmits);
  simple("synscope_verdicts_changed_after_close_total",
         "Sessions whose final conn_state differs from the one counted at close (Zeek's close delay added letters)",
         t.verdict_changed_after_close);

  auto rtt = family("synscope_handshake_rtt_seconds", "Time from the originator's SYN to its ACK of the SYN-ACK",
                    MetricType::Histogram);
  {
    ClientMetric m;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < t.handshake_rtt_hist.size(); ++b) {
      cumulative += t.handshake_rtt_hist[b];
      ClientMetric::Bucket bucket;
      bucket.cumulative_count = cumulative;
      bucket.upper_bound = b < engine::kRttBoundsNs.size() ? static_cast<double>(engine::kRttBoundsNs[b]) * kNs
                                                           : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back(bucket);
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = static_cast<double>(t.handshake_rtt_ns_sum) * kNs;
    rtt.metric.push_back(std::move(m));
  }
  out.push_back(std::move(rtt));

  auto entries = family("synscope_flow_table_entries", "Live flow-table entries, by engine core", MetricType::Gauge);
  auto capacity = family("synscope_flow_table_capacity", "Flow-table capacity, by engine core", MetricType::Gauge);
  auto waits = family("synscope_session_ring_waits_total",
                      "Times an engine core waited because the stats core had not taken its finished sessions",
                      MetricType::Counter);
  auto busy = family("synscope_core_busy_polls_total", "Poll rounds that found work, by core and role",
                     MetricType::Counter);
  auto polls = family("synscope_core_polls_total", "Poll rounds, by core and role", MetricType::Counter);
  for (const auto& c : s.cores) {
    Labels core = {{"core", std::to_string(c.lcore)}};
    if (c.role != "rx") {
      add(entries, core, static_cast<double>(c.stats.active_flows));
      add(capacity, core, static_cast<double>(c.stats.flow_capacity));
      add(waits, core, static_cast<double>(c.stats.session_ring_waits));
    }
    core.push_back({"role", c.role});
    add(busy, core, static_cast<double>(c.stats.busy_polls));
    add(polls, core, static_cast<double>(c.stats.polls));
  }
  out.push_back(std::move(entries));
  out.push_back(std::move(capacity));
  out.push_back(std::move(waits));
  out.push_back(std::move(busy));
  out.push_back(std::move(polls));

  const live::StatsCoreStats& st = s.stats_core;
  auto lag = family("synscope_bucket_lag_seconds",
                    "Wall-clock time since the end of the newest emitted bucket (buckets wait --bucket-settle for "
                    "sessions still running)",
                    MetricType::Gauge);
  if (st.last_bucket_start_ns != 0) {
    const uint64_t end = st.last_bucket_start_ns + st.last_bucket_span_ns;
    add(lag, {}, s.now_ns > end ? static_cast<double>(s.now_ns - end) * kNs : 0.0);
  }
  out.push_back(std::move(lag));
  auto last_failed = family("synscope_bucket_failed_sessions", "Failed sessions in the newest emitted bucket",
                            MetricType::Gauge);
  auto last_attempts = family("synscope_bucket_attempts", "Connection attempts in the newest emitted bucket",
                              MetricType::Gauge);
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
    const Labels l = {{"perspective", str(buckets::perspective_name(static_cast<buckets::Perspective>(p)))}};
    add(last_failed, l, static_cast<double>(st.last_bucket_failed[p]));
    add(last_attempts, l, static_cast<double>(st.last_bucket_attempts[p]));
  }
  out.push_back(std::move(last_failed));
  out.push_back(std::move(last_attempts));
  if (st.detector_enabled != 0) {
    auto firing = family("synscope_alerts_firing", "Alerts firing now: perspectives, per-server series and clients", MetricType::Gauge);
    add(firing, {}, static_cast<double>(st.alerts_firing));
    out.push_back(std::move(firing));
    simple("synscope_alert_transitions_total", "Alert lines written (firing, escalated, resolved)", st.alert_transitions);
    auto expected = family("synscope_failed_sessions_expected",
                           "Detector: failed sessions expected in the newest bucket, by perspective", MetricType::Gauge);
    auto upper = family("synscope_failed_sessions_upper",
                        "Detector: upper band (expected + 3 scales) for the newest bucket", MetricType::Gauge);
    auto score = family("synscope_failed_sessions_anomaly_score",
                        "Detector: anomaly score 0-100 of the newest bucket (warning 3, minor 25, major 50, critical 75)",
                        MetricType::Gauge);
    for (size_t p = 0; p < alerts::kPerspectiveSeries; ++p) {
      const Labels l = {{"perspective", str(alerts::series_name(p))}};
      add(expected, l, st.expected[p]);
      add(upper, l, st.upper[p]);
      add(score, l, st.score[p]);
    }
    out.push_back(std::move(expected));
    out.push_back(std::move(upper));
    out.push_back(std::move(score));
    simple_gauge("synscope_alert_server_series", "Per-server failed-session series in use (the servers with the most "
                 "failed sessions)", static_cast<double>(st.server_series));
    simple_gauge("synscope_alert_server_series_capacity", "Per-server series the detector may keep (--alert-servers)",
                 static_cast<double>(st.server_series_capacity));
    simple_gauge("synscope_alert_partitions_firing", "Server and client alerts firing now (the first 64 are "
                 "exported as synscope_alert_partition_* series)", static_cast<double>(st.partitions_firing));
    // Per-partition series exist only while their alert fires, so the label set stays bounded.
    auto p_actual = family("synscope_alert_partition_failed_sessions",
                           "Firing server/client alert: failed sessions in the bucket that fired or escalated it",
                           MetricType::Gauge);
    auto p_typical = family("synscope_alert_partition_expected", "Firing server/client alert: expected failed sessions",
                            MetricType::Gauge);
    auto p_upper = family("synscope_alert_partition_upper", "Firing server/client alert: upper band", MetricType::Gauge);
    auto p_score = family("synscope_alert_partition_anomaly_score", "Firing server/client alert: score 0-100",
                          MetricType::Gauge);
    const size_t shown = std::min<size_t>(st.partitions_firing, live::kMaxExportedPartitions);
    for (size_t i = 0; i < shown; ++i) {
      const alerts::FiringPartition& f = st.partitions[i];
      const Labels l = {{"metric", f.client != 0 ? "failed_sessions_client" : "failed_sessions"},
                        {"perspective", str(buckets::perspective_name(static_cast<buckets::Perspective>(f.perspective)))},
                        {"partition", alerts::partition_text(f)}};
      add(p_actual, l, f.actual);
      add(p_typical, l, f.typical);
      add(p_upper, l, f.upper);
      add(p_score, l, f.score);
    }
    for (auto* fam : {&p_actual, &p_typical, &p_upper, &p_score}) {
      if (!fam->metric.empty()) out.push_back(std::move(*fam));
    }
  }
  simple("synscope_buckets_emitted_total", "Time buckets settled and emitted by the stats core", st.buckets_emitted);
  simple("synscope_session_records_total", "Finished sessions taken by the stats core (records written)",
         st.sessions_written);
  simple("synscope_late_sessions_total", "Sessions that ended after their bucket was emitted (counted in a later one)",
         st.late_sessions);
  return out;
}

// ---- HTTP endpoint ------------------------------------------------------------------------------------

namespace {

constexpr const char* kLandingPage =
    "<!doctype html><html><head><title>synscope</title></head><body>"
    "<h1>synscope</h1><p>TCP session verdicts and failed-session counts from the live data plane.</p>"
    "<ul><li><a href=\"/metrics\">/metrics</a> (Prometheus text format)</li>"
    "<li>rte_telemetry: <code>/synscope/stats</code> (dpdk-telemetry.py)</li></ul></body></html>\n";

int serve_landing_page(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  if (ri == nullptr || ri->local_uri == nullptr || std::strcmp(ri->local_uri, "/") != 0) return 0;  // not ours
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n%s",
            std::strlen(kLandingPage), kLandingPage);
  return 200;
}

}  // namespace

struct MetricsServer::Impl {
  std::string listen;
  std::shared_ptr<Collector> collector;
  std::unique_ptr<prometheus::Exposer> exposer;
  CivetCallbacks callbacks;
  std::mutex mutex;
  std::condition_variable cv;
  bool ready = false, stop = false;
  std::string error;
  int port = 0;
  pthread_t thread{};

  static void* control_main(void* arg) {
    auto* self = static_cast<Impl*>(arg);
    try {
      self->callbacks.begin_request = &serve_landing_page;
      self->exposer = std::make_unique<prometheus::Exposer>(
          std::vector<std::string>{"listening_ports", self->listen, "num_threads", "2"}, &self->callbacks);
      self->exposer->RegisterCollectable(self->collector);
      const std::vector<int> ports = self->exposer->GetListeningPorts();
      self->port = ports.empty() ? 0 : ports.front();
    } catch (const std::exception& e) {
      self->error = e.what();
      self->exposer.reset();
    }
    std::unique_lock lock(self->mutex);
    self->ready = true;
    self->cv.notify_all();
    self->cv.wait(lock, [self] { return self->stop; });
    self->exposer.reset();  // joins civetweb's threads on the thread that started them
    return nullptr;
  }
};

MetricsServer::MetricsServer(const std::string& listen, const live::DataPlane& plane) : impl_(std::make_unique<Impl>()) {
  impl_->listen = listen;
  impl_->collector = std::make_shared<Collector>(plane);
  // A control thread (DPDK's control-thread CPU set, never an RX lcore) starts the Exposer, so civetweb's
  // threads inherit its affinity instead of the main lcore's.
  const int ret = rte_ctrl_thread_create(&impl_->thread, "synscope-http", nullptr, &Impl::control_main, impl_.get());
  if (ret != 0) throw std::runtime_error("--metrics-listen: cannot start the HTTP control thread");
  std::unique_lock lock(impl_->mutex);
  impl_->cv.wait(lock, [this] { return impl_->ready; });
  if (!impl_->error.empty()) {
    impl_->stop = true;
    impl_->cv.notify_all();
    lock.unlock();
    pthread_join(impl_->thread, nullptr);
    throw std::runtime_error("--metrics-listen " + listen + ": cannot listen (" + impl_->error + ")");
  }
  port_ = impl_->port;
}

MetricsServer::~MetricsServer() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  pthread_join(impl_->thread, nullptr);
}

// ---- rte_telemetry ------------------------------------------------------------------------------------

namespace {

const live::DataPlane* g_telemetry_plane = nullptr;  // set once before the EAL telemetry thread can call us

int telemetry_stats(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
  if (g_telemetry_plane == nullptr) return -1;
  const live::Snapshot s = g_telemetry_plane->snapshot();
  const engine::EngineCounters t = live::merged_engine_counters(s);
  const live::RxTotals rx = live::rx_totals(s);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "rx_packets", rx.packets);
  rte_tel_data_add_dict_u64(d, "dropped_ring_full", rx.ring_full);
  rte_tel_data_add_dict_u64(d, "dropped_table_full", t.dropped_table_full);
  for (size_t v = 0; v < packet::kFrameClassCount; ++v) {
    const std::string key = "frames_" + str(packet::frame_class_name(static_cast<packet::FrameClass>(v)));
    rte_tel_data_add_dict_u64(d, key.c_str(), t.by_frame_class[v]);
  }
  rte_tel_data_add_dict_u64(d, "sessions", t.sessions);
  for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
    uint64_t n = 0;
    for (uint64_t v : t.by_state[st]) n += v;
    const std::string key = "sessions_" + str(tcp_session::conn_state_name(static_cast<tcp_session::ConnState>(st)));
    rte_tel_data_add_dict_u64(d, key.c_str(), n);
  }
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
    const std::string key = "failed_" + str(buckets::perspective_name(static_cast<buckets::Perspective>(p)));
    rte_tel_data_add_dict_u64(d, key.c_str(), t.failed[p]);
  }
  rte_tel_data_add_dict_u64(d, "evicted", t.evicted_syn_only + t.evicted_other);
  rte_tel_data_add_dict_u64(d, "rst_without_connection", t.rst_without_connection);
  rte_tel_data_add_dict_u64(d, "syn_retransmissions", t.syn_retransmits);
  rte_tel_data_add_dict_u64(d, "handshakes", t.handshakes);
  uint64_t flows = 0;
  for (const auto& c : s.cores) flows += c.stats.active_flows;
  rte_tel_data_add_dict_u64(d, "flow_table_entries", flows);
  rte_tel_data_add_dict_u64(d, "buckets_emitted", s.stats_core.buckets_emitted);
  if (s.stats_core.detector_enabled != 0) {
    rte_tel_data_add_dict_u64(d, "alerts_firing", s.stats_core.alerts_firing);
    rte_tel_data_add_dict_u64(d, "alert_partitions_firing", s.stats_core.partitions_firing);
    rte_tel_data_add_dict_u64(d, "alert_server_series", s.stats_core.server_series);
  }
  return 0;
}

}  // namespace

bool register_telemetry(const live::DataPlane& plane) {
  g_telemetry_plane = &plane;
  return rte_telemetry_register_cmd("/synscope/stats", telemetry_stats,
                                    "synscope live counters (packets, frames by reason, sessions by conn_state, "
                                    "failed by perspective, drops). No parameters") == 0;
}

}  // namespace synscope::metrics
