// table: the rows of the metric table (see table.hpp): every /metrics family and every /synscope/stats
// key, with the reader that takes its samples from a snapshot. docs/metrics.md describes each one.
//
// Constant data and pure readers: safe from any thread.
#include "metrics/table.hpp"

#include <rte_version.h>

#include <algorithm>
#include <limits>
#include <string>

namespace synscope::metrics {
namespace {

using prometheus::MetricType;

constexpr double kNs = 1e-9;

std::string str(std::string_view v) { return std::string(v); }

std::string perspective_text(size_t p) { return str(buckets::perspective_name(static_cast<buckets::Perspective>(p))); }

// Calls f(labels, partition) for each firing partition alert exported to Prometheus (the first
// live::kMaxExportedPartitions).
template <class F>
void for_each_exported_partition(const Reading& r, F&& f) {
  const live::StatsCoreStats& st = r.snapshot.stats_core;
  const size_t shown = std::min<size_t>(st.partitions_firing, live::kMaxExportedPartitions);
  for (size_t i = 0; i < shown; ++i) {
    const alerts::FiringPartition& p = st.partitions[i];
    f(Labels{{"metric", p.client != 0 ? "failed_sessions_client" : "failed_sessions"},
             {"perspective", perspective_text(p.perspective)},
             {"partition", alerts::partition_text(p)}},
      p);
  }
}

/// A detector gauge per series (the four perspectives and their total) for the newest bucket.
template <std::array<double, alerts::kPerspectiveSeries> live::StatsCoreStats::*Field>
void read_by_series(const Reading& r, Samples& out) {
  for (size_t p = 0; p < alerts::kPerspectiveSeries; ++p) {
    out.add({{"perspective", str(alerts::series_name(p))}}, (r.snapshot.stats_core.*Field)[p]);
  }
}

/// A per-partition gauge: one field of every exported firing partition.
template <double alerts::FiringPartition::*Field>
void read_partitions(const Reading& r, Samples& out) {
  for_each_exported_partition(r, [&](Labels l, const alerts::FiringPartition& f) { out.add(std::move(l), f.*Field); });
}

/// A per-capture-port count (tcp_session::ContentStats' port arrays) for every port some core polls.
void read_by_capture_port(const Reading& r, Samples& out,
                          const std::array<uint64_t, tcp_session::kCapturePorts>& by_port) {
  std::array<bool, tcp_session::kCapturePorts> polled{};
  for (const auto& c : r.snapshot.cores) {
    for (const auto& q : c.queues) polled[std::min<size_t>(q.port_id, tcp_session::kCapturePorts - 1)] = true;
  }
  for (size_t p = 0; p < by_port.size(); ++p) {
    if (polled[p]) out.add({{"port", std::to_string(p)}}, by_port[p]);
  }
}

constexpr size_t kTopExported = 5;

/// synscope_top_hits (or _error): the first kTopExported entries of every window and kind.
void read_top(const Reading& r, Samples& out, bool error) {
  if (!r.snapshot.top) return;
  for (size_t w = 0; w < top::kWindows; ++w) {
    for (size_t k = 0; k < top::kKinds; ++k) {
      const top::View::List& l = r.snapshot.top->lists[w][k];
      for (size_t i = 0; i < std::min<size_t>(l.size, kTopExported); ++i) {
        const top::Counter& c = l.entries[i];
        out.add(Labels{{"window", str(top::window_name(static_cast<top::Window>(w)))},
                       {"kind", str(top::kind_name(static_cast<top::Kind>(k)))},
                       {"rank", std::to_string(i + 1)},
                       {"key", top::key_text(static_cast<top::Kind>(k), c.key)}},
                error ? c.error : c.count);
      }
    }
  }
}

constexpr Metric kTable[] = {
    {.name = "synscope_build_info",
     .help = "Build and DPDK version, and the sensor's name (--sensor; value is always 1)",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           out.add({{"version", SYNSCOPE_VERSION}, {"dpdk", rte_version()}, {"sensor", r.snapshot.sensor}}, 1.0);
         }},
    {.name = "synscope_start_time_seconds",
     .help = "When the data plane started (Unix time)",
     .type = MetricType::Gauge,
     .read = [](const Reading& r, Samples& out) { out.add({}, static_cast<double>(r.snapshot.started_ns) * kNs); }},

    // Per RX queue, counted by the lcore that polls it.
    {.name = "synscope_rx_packets_total",
     .help = "Packets received, by port and RX queue",
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores) {
             for (size_t q = 0; q < c.queues.size(); ++q) {
               out.add({{"port", std::to_string(c.queues[q].port_id)},
                        {"queue", std::to_string(c.queues[q].queue)},
                        {"core", std::to_string(c.lcore)}},
                       c.stats.rx_packets[q]);
             }
           }
         },
     .telemetry = {{{.key = "rx_packets"}}}},
    {.name = "synscope_rx_bytes_total",
     .help = "Bytes received (frame length), by port and RX queue",
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores) {
             for (size_t q = 0; q < c.queues.size(); ++q) {
               out.add({{"port", std::to_string(c.queues[q].port_id)},
                        {"queue", std::to_string(c.queues[q].queue)},
                        {"core", std::to_string(c.lcore)}},
                       c.stats.rx_bytes[q]);
             }
           }
         }},

    {.name = "synscope_frames_total",
     .help = "Received frames by what they turned out to be (class: tcp, not_tcp, fragment, malformed); "
             "with synscope_drops_total{reason=~\"ring_full|table_full|implausible_time\"} and "
             "synscope_spread_in_flight_packets it sums to synscope_rx_packets_total",
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t v = 0; v < packet::kFrameClassCount; ++v) {
             const auto c = static_cast<packet::FrameClass>(v);
             out.add({{"class", str(packet::frame_category(c))}, {"reason", str(packet::frame_class_name(c))}},
                     r.totals.by_frame_class[v]);
           }
         },
     .telemetry = {{{.key = "frames", .label = "reason"}}}},

    {.name = "synscope_encapsulated_frames_total",
     .help = "Received frames by each encapsulation they passed through on the way to their IP packet (a frame "
             "counts once in each): shows that a tap's tunnels and tags are decoded",
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t e = 0; e < packet::kEncapsulationCount; ++e) {
             out.add({{"encapsulation", str(packet::encapsulation_name(static_cast<packet::Encapsulation>(e)))}},
                     r.totals.by_encapsulation[e]);
           }
         },
     .telemetry = {{{.key = "encapsulated_frames", .label = "encapsulation"}}}},

    {.name = "synscope_drops_total",
     .help = "Losses by reason: imissed/rx_nombuf/rx_errors are the NIC's (never reached synscope); "
             "ring_full, table_full and implausible_time (a stray timestamp far ahead, not confirmed by the "
             "frames after it) are received packets not tracked; evicted counts flows cut short "
             "to make room in a full flow table (sessions, not packets)",
     .read =
         [](const Reading& r, Samples& out) {
           out.add({{"reason", "imissed"}}, r.rx.imissed);
           out.add({{"reason", "rx_nombuf"}}, r.rx.rx_nombuf);
           out.add({{"reason", "rx_errors"}}, r.rx.rx_errors);
           out.add({{"reason", "ring_full"}}, r.rx.ring_full);
           out.add({{"reason", "table_full"}}, r.totals.dropped_table_full);
           out.add({{"reason", "implausible_time"}}, r.totals.dropped_implausible_time);
           out.add({{"reason", "evicted"}}, r.totals.evicted_syn_only + r.totals.evicted_other);
         },
     .telemetry = {{{.key = "dropped_ring_full", .label = "reason", .value = "ring_full"},
                    {.key = "dropped_table_full", .label = "reason", .value = "table_full"},
                    {.key = "evicted", .label = "reason", .value = "evicted"}}}},
    {.name = "synscope_spread_in_flight_packets",
     .help = "Packets received that no engine has counted yet (spread mode: in the rings to the engines, or "
             "taken since an engine last published; any mode: held while a time jump waits to be confirmed). "
             "rx_packets_total = frames_total + drops_total{reason=~\"ring_full|table_full|implausible_time\"} "
             "+ this, at every scrape",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           uint64_t counted = r.rx.ring_full + r.totals.dropped_table_full + r.totals.dropped_implausible_time;
           for (uint64_t v : r.totals.by_frame_class) counted += v;
           // A signed difference: a negative value would be a broken identity, shown rather than hidden.
           out.add({}, static_cast<double>(static_cast<int64_t>(r.rx.packets - counted)));
         }},
    {.name = "synscope_time_jumps_total",
     .help = "Times packet time jumped ahead by more than --max-time-jump and the --time-jump-frames frames "
             "after the jump confirmed it, so the engines' clocks moved (unconfirmed jumps are "
             "synscope_drops_total{reason=\"implausible_time\"})",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.time_jumps); },
     .telemetry = {{{.key = "time_jumps"}}}},
    {.name = "synscope_flow_evictions_total",
     .help = "Flow-table entries evicted when full, SYN-only first",
     .read =
         [](const Reading& r, Samples& out) {
           out.add({{"kind", "syn_only"}}, r.totals.evicted_syn_only);
           out.add({{"kind", "other"}}, r.totals.evicted_other);
         }},

    {.help = "TCP sessions counted (telemetry only; /metrics has them by conn_state and perspective)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.sessions); },
     .telemetry = {{{.key = "sessions"}}}},
    {.name = "synscope_sessions_total",
     .help = "TCP sessions by Zeek conn_state and perspective, counted once when the connection closes "
             "on the wire (RST or both FINs) or else when it ends (timeout, reuse, eviction, shutdown)",
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
             for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
               out.add({{"conn_state", str(tcp_session::conn_state_name(static_cast<tcp_session::ConnState>(st)))},
                        {"perspective", perspective_text(p)}},
                       r.totals.by_state[st][p]);
             }
           }
         },
     .telemetry = {{{.key = "sessions", .label = "conn_state"}}}},
    {.name = "synscope_failed_sessions_total",
     .help = "Failed sessions (attempts whose handshake never completed: S0, REJ, RSTOS0, RSTRH, SH, SHR) "
             "by reason and perspective",
     .read =
         [](const Reading& r, Samples& out) {
           // In ConnState order, as the sessions family.
           for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
             const auto state = static_cast<tcp_session::ConnState>(st);
             if (!tcp_session::is_failed(state)) continue;
             for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
               out.add({{"reason", str(tcp_session::failure_reason(state))},
                        {"conn_state", str(tcp_session::conn_state_name(state))},
                        {"perspective", perspective_text(p)}},
                       r.totals.by_state[st][p]);
             }
           }
         }},
    {.help = "Failed sessions by perspective (telemetry only)",
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
             out.add({{"perspective", perspective_text(p)}}, r.totals.failed[p]);
           }
         },
     .telemetry = {{{.key = "failed", .label = "perspective"}}}},

    {.name = "synscope_teardowns_total",
     .help = "Sessions by how each side ended them (a session with FIN then RST counts in both)",
     .read =
         [](const Reading& r, Samples& out) {
           out.add({{"teardown", "fin"}, {"side", "originator"}}, r.totals.teardown[0]);
           out.add({{"teardown", "fin"}, {"side", "responder"}}, r.totals.teardown[1]);
           out.add({{"teardown", "rst"}, {"side", "originator"}}, r.totals.teardown[2]);
           out.add({{"teardown", "rst"}, {"side", "responder"}}, r.totals.teardown[3]);
         }},
    {.name = "synscope_rst_without_connection_total",
     .help = "RSTs that matched no connection (a lone RST opened the session)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.rst_without_connection); },
     .telemetry = {{{.key = "rst_without_connection"}}}},
    {.name = "synscope_syn_retransmissions_total",
     .help = "SYNs repeating an attempt's sequence number",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.syn_retransmits); },
     .telemetry = {{{.key = "syn_retransmissions"}}}},
    // Capture loss as Zeek's capture-loss script measures it: of the ACKs that advanced a direction of an
    // established connection, those that acknowledged bytes the capture never carried.
    {.name = "synscope_capture_loss_acks_total",
     .help = "ACKs that advanced a direction of an established connection (Zeek's ack_events), by the port they "
             "arrived on",
     .read = [](const Reading& r, Samples& out) { read_by_capture_port(r, out, r.totals.content.port_ack_events); },
     .telemetry = {{{.key = "capture_loss_acks"}}}},
    {.name = "synscope_capture_loss_gaps_total",
     .help = "Of those ACKs, the ones that acknowledged bytes never seen (Zeek's gap_events): over "
             "synscope_capture_loss_acks_total, the loss of the capture feeding that port",
     .read = [](const Reading& r, Samples& out) { read_by_capture_port(r, out, r.totals.content.port_gap_events); },
     .telemetry = {{{.key = "capture_loss_gaps"}}}},
    {.name = "synscope_capture_loss_acked_bytes_total",
     .help = "Bytes those ACKs acknowledged (Zeek's ack_bytes)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.content.ack_bytes); }},
    {.name = "synscope_capture_loss_missing_bytes_total",
     .help = "Bytes acknowledged but never seen (Zeek's gap_bytes)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.content.gap_bytes); },
     .telemetry = {{{.key = "capture_loss_missing_bytes"}}}},
    {.name = "synscope_missed_bytes_total",
     .help = "Sum of finished sessions' missed_bytes (content gaps in established connections)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.missed_bytes); }},
    {.name = "synscope_content_tracking_lost_total",
     .help = "Content gaps not tracked: sessions that found no free content slot, and held ranges merged past "
             "the per-direction limit",
     .read =
         [](const Reading& r, Samples& out) {
           out.add({{"reason", "no_slot"}}, r.totals.content.slots_exhausted);
           out.add({{"reason", "ranges_merged"}}, r.totals.content.blocks_merged);
         }},

    {.name = "synscope_verdicts_changed_after_close_total",
     .help = "Sessions whose final conn_state differs from the one counted at close (Zeek's close delay added "
             "letters)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.verdict_changed_after_close); }},

    {.name = "synscope_handshake_rtt_seconds",
     .help = "Time from the originator's SYN to its ACK of the SYN-ACK",
     .type = MetricType::Histogram,
     .read =
         [](const Reading& r, Samples& out) {
           prometheus::ClientMetric::Histogram h;
           uint64_t cumulative = 0;
           for (size_t b = 0; b < r.totals.handshake_rtt_hist.size(); ++b) {
             cumulative += r.totals.handshake_rtt_hist[b];
             prometheus::ClientMetric::Bucket bucket;
             bucket.cumulative_count = cumulative;
             bucket.upper_bound = b < engine::kRttBoundsNs.size() ? static_cast<double>(engine::kRttBoundsNs[b]) * kNs
                                                                  : std::numeric_limits<double>::infinity();
             h.bucket.push_back(bucket);
           }
           h.sample_count = cumulative;
           h.sample_sum = static_cast<double>(r.totals.handshake_rtt_ns_sum) * kNs;
           out.add(std::move(h));
         }},
    {.help = "Completed three-way handshakes (telemetry only; /metrics counts them in the RTT histogram)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.totals.handshakes); },
     .telemetry = {{{.key = "handshakes"}}}},

    // Flow tables live on the cores that run an engine.
    {.name = "synscope_flow_table_entries",
     .help = "Live flow-table entries, by engine core",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores) {
             if (c.role != "rx") out.add({{"core", std::to_string(c.lcore)}}, c.stats.active_flows);
           }
         },
     .telemetry = {{{.key = "flow_table_entries"}}}},
    {.name = "synscope_flow_table_capacity",
     .help = "Flow-table capacity, by engine core",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores) {
             if (c.role != "rx") out.add({{"core", std::to_string(c.lcore)}}, c.stats.flow_capacity);
           }
         }},
    {.name = "synscope_engine_cycles_total",
     .help = "TSC cycles an engine core spent judging packet bursts; over synscope_engine_frames_total, the "
             "engine stage's cycles per packet",
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores) {
             if (c.role != "rx") out.add({{"core", std::to_string(c.lcore)}}, c.stats.engine_cycles);
           }
         }},
    {.name = "synscope_engine_frames_total",
     .help = "Frames an engine core received (tracked or not), by engine core",
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores) {
             if (c.role != "rx") out.add({{"core", std::to_string(c.lcore)}}, c.stats.engine.received);
           }
         }},
    {.name = "synscope_session_ring_waits_total",
     .help = "Times an engine core waited because the stats core had not taken its finished sessions",
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores) {
             if (c.role != "rx") out.add({{"core", std::to_string(c.lcore)}}, c.stats.session_ring_waits);
           }
         }},
    {.name = "synscope_core_busy_polls_total",
     .help = "Poll rounds that found work, by core and role",
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores)
             out.add({{"core", std::to_string(c.lcore)}, {"role", c.role}}, c.stats.busy_polls);
         }},
    {.name = "synscope_core_polls_total",
     .help = "Poll rounds, by core and role",
     .read =
         [](const Reading& r, Samples& out) {
           for (const auto& c : r.snapshot.cores)
             out.add({{"core", std::to_string(c.lcore)}, {"role", c.role}}, c.stats.polls);
         }},

    // The stats core's buckets.
    {.name = "synscope_bucket_lag_seconds",
     .help = "Time since the end of the newest emitted bucket (buckets wait --bucket-settle for sessions still "
             "running): wall-clock time, or packet time under --clock packet",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           const live::StatsCoreStats& st = r.snapshot.stats_core;
           if (st.last_bucket_start_ns == 0) return;
           const uint64_t end = st.last_bucket_start_ns + st.last_bucket_span_ns;
           // Under --clock packet the data plane's time is the packets' (the newest the stats core settled
           // to), not the wall clock: a replayed capture from last year is not a year behind.
           const uint64_t now = r.snapshot.packet_clock ? st.watermark_ns : r.snapshot.now_ns;
           out.add({}, now > end ? static_cast<double>(now - end) * kNs : 0.0);
         }},
    {.name = "synscope_bucket_span_seconds",
     .help = "Span of a record bucket (--bucket)",
     .type = MetricType::Gauge,
     .read = [](const Reading& r,
                Samples& out) { out.add({}, static_cast<double>(r.snapshot.stats_core.bucket_span_ns) * kNs); }},
    {.name = "synscope_bucket_settle_seconds",
     .help = "How long after its end a bucket waits for sessions still running (--bucket-settle)",
     .type = MetricType::Gauge,
     .read = [](const Reading& r,
                Samples& out) { out.add({}, static_cast<double>(r.snapshot.stats_core.bucket_settle_ns) * kNs); }},
    {.name = "synscope_bucket_failed_sessions",
     .help = "Failed sessions in the newest emitted bucket",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
             out.add({{"perspective", perspective_text(p)}}, r.snapshot.stats_core.last_bucket_failed[p]);
           }
         }},
    {.name = "synscope_bucket_attempts",
     .help = "Connection attempts in the newest emitted bucket",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
             out.add({{"perspective", perspective_text(p)}}, r.snapshot.stats_core.last_bucket_attempts[p]);
           }
         }},

    // The detector's, while it runs.
    {.name = "synscope_alerts_firing",
     .help = "Alerts firing now: perspectives, per-server series and clients",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.alerts_firing); },
     .telemetry = {{{.key = "alerts_firing"}}}},
    {.name = "synscope_alert_transitions_total",
     .help = "Alert lines written (firing, escalated, resolved)",
     .shown = Shown::kWithDetector,
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.alert_transitions); }},
    {.name = "synscope_failed_sessions_expected",
     .help = "Detector: failed sessions expected in the newest bucket, by perspective",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = read_by_series<&live::StatsCoreStats::expected>},
    {.name = "synscope_failed_sessions_upper",
     .help = "Detector: upper band (expected + 3 scales) for the newest bucket",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = read_by_series<&live::StatsCoreStats::upper>},
    {.name = "synscope_failed_sessions_anomaly_score",
     .help = "Detector: anomaly score 0-100 of the newest bucket (warning 3, minor 25, major 50, critical 75)",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = read_by_series<&live::StatsCoreStats::score>},
    {.name = "synscope_failed_sessions_alert_firing",
     .help = "1 while the detector's alert of this perspective (or of the total, 'all') fires: set at the fire "
             "score, cleared after --alert-resolve-buckets quiet buckets",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t p = 0; p < alerts::kPerspectiveSeries; ++p) {
             out.add({{"perspective", str(alerts::series_name(p))}}, r.snapshot.stats_core.firing[p]);
           }
         }},
    {.name = "synscope_failed_sessions_severity",
     .help = "The detector's severity band for the newest bucket: 0 none, 1 warning, 2 minor, 3 major, 4 critical",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t p = 0; p < alerts::kPerspectiveSeries; ++p) {
             out.add({{"perspective", str(alerts::series_name(p))}},
                     static_cast<double>(detector::severity_of(r.snapshot.stats_core.score[p])));
           }
         }},
    {.name = "synscope_detector_bucket_seconds",
     .help = "Span of the detector's bucket (--alert-bucket, a whole number of record buckets)",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = [](const Reading& r,
                Samples& out) { out.add({}, static_cast<double>(r.snapshot.stats_core.detector_bucket_ns) * kNs); }},
    {.name = "synscope_alert_server_series",
     .help = "Per-server failed-session series in use (the servers with the most failed sessions)",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.server_series); },
     .telemetry = {{{.key = "alert_server_series"}}}},
    {.name = "synscope_alert_server_series_capacity",
     .help = "Per-server series the detector may keep (--alert-servers)",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.server_series_capacity); }},
    {.name = "synscope_alert_partitions_firing",
     .help = "Server and client alerts firing now (the first 64 are exported as synscope_alert_partition_* series)",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetector,
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.partitions_firing); },
     .telemetry = {{{.key = "alert_partitions_firing"}}}},
    // Per-partition series exist only while their alert fires, so the label set stays bounded.
    {.name = "synscope_alert_partition_failed_sessions",
     .help = "Firing server/client alert: failed sessions in the bucket that fired or escalated it",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetectorSamples,
     .read = read_partitions<&alerts::FiringPartition::actual>},
    {.name = "synscope_alert_partition_expected",
     .help = "Firing server/client alert: expected failed sessions",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetectorSamples,
     .read = read_partitions<&alerts::FiringPartition::typical>},
    {.name = "synscope_alert_partition_upper",
     .help = "Firing server/client alert: upper band",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetectorSamples,
     .read = read_partitions<&alerts::FiringPartition::upper>},
    {.name = "synscope_alert_partition_anomaly_score",
     .help = "Firing server/client alert: score 0-100",
     .type = MetricType::Gauge,
     .shown = Shown::kWithDetectorSamples,
     .read = read_partitions<&alerts::FiringPartition::score>},

    {.name = "synscope_buckets_emitted_total",
     .help = "Time buckets settled and emitted by the stats core",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.buckets_emitted); },
     .telemetry = {{{.key = "buckets_emitted"}}}},
    // The live drill-down's first entries (the whole lists are at /api/v1/top): a fixed number per window and
    // kind, so the family has at most 4 x 7 x kTopExported series whatever the traffic.
    {.name = "synscope_top_hits",
     .help = "Top-N drill-down: count of the rank-th key of a kind over a window (an upper bound; the true "
             "count is at least this minus synscope_top_hits_error)",
     .type = MetricType::Gauge,
     .read = [](const Reading& r, Samples& out) { read_top(r, out, false); }},
    {.name = "synscope_top_hits_error",
     .help = "Top-N drill-down: the error bound of synscope_top_hits",
     .type = MetricType::Gauge,
     .read = [](const Reading& r, Samples& out) { read_top(r, out, true); }},
    {.name = "synscope_session_records_total",
     .help = "Session records written to --sessions-out (lines that reached the file; never a dropped one)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.sessions_written); }},
    {.name = "synscope_sessions_taken_total",
     .help = "Finished sessions the stats core took from the engines",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.sessions_taken); }},
    {.name = "synscope_output_records_total",
     .help = "Records each output wrote: lines that reached the file, IPFIX sessions whose message was sent",
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t i = 0; i < consumers::kOutputCount; ++i)
             out.add({{"output", consumers::kOutputNames[i]}}, r.snapshot.stats_core.outputs.written[i]);
         }},
    {.name = "synscope_output_dropped_records_total",
     .help = "Records an output dropped because its file did not take them (a write error, or a reader that "
             "stopped taking data for longer than the bounded wait); ipfix: sessions the collector did not take "
             "or the exporter's ring had no room for",
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t i = 0; i < consumers::kOutputCount; ++i)
             out.add({{"output", consumers::kOutputNames[i]}}, r.snapshot.stats_core.outputs.dropped[i]);
         },
     .telemetry = {{{.key = "output_dropped_records"}}}},
    {.name = "synscope_output_dropping",
     .help = "1 while an output is dropping records (from the first failed write to the next one that goes through)",
     .type = MetricType::Gauge,
     .read =
         [](const Reading& r, Samples& out) {
           for (size_t i = 0; i < consumers::kOutputCount; ++i)
             out.add({{"output", consumers::kOutputNames[i]}}, r.snapshot.stats_core.outputs.dropping[i]);
         }},
    {.name = "synscope_late_sessions_total",
     .help = "Sessions that ended after their bucket was emitted (counted in a later one)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.late_sessions); }},
    {.name = "synscope_consumer_errors_total",
     .help = "Sessions or buckets a consumer failed on (caught on the stats core, which carried on)",
     .read = [](const Reading& r, Samples& out) { out.add({}, r.snapshot.stats_core.consumer_errors); }},
};

}  // namespace

std::span<const Metric> metric_table() noexcept { return kTable; }

}  // namespace synscope::metrics
