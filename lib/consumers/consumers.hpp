// consumers: the one set of consumers of finished sessions that replay and live both own.
//
// A Consumers object is where session records leave the data path: it opens the outputs the options ask
// for (session JSON, bucket JSON, alert JSON, the top-N JSON, IPFIX export through ipfix::Exporter and its
// own thread), runs the alert engine and loads/saves its
// model, keeps the top-N views (top::TopViews), rebuilds
// the time buckets from the records (RecordBuckets), and fans each session and each settled bucket out to
// every consumer in a fixed order. The replay pipeline feeds it from its reader thread (or its only
// thread), the live data plane from the stats core. A new consumer (an exporter, a top-N view) is added
// here once and both modes have it.
//
// Owned and called by one thread (never a flow-owning core). The constructor and close() may throw or
// fail (start-up, shutdown); receive()/on_session()/settle() are called once per session or per settle
// step, never per packet.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "alerts/alerts.hpp"
#include "buckets/buckets.hpp"
#include "channel/channel.hpp"
#include "consumers/record_buckets.hpp"
#include "detector/detector.hpp"
#include "engine/engine.hpp"
#include "ipfix/exporter.hpp"
#include "output/output.hpp"
#include "top/top.hpp"

namespace synscope::consumers {

/// The outputs, in the order of OutputStats' arrays and of the `output` label.
enum class Output : uint8_t { kSessions, kBuckets, kAlerts, kTop, kIpfix };
inline constexpr size_t kOutputCount = 5;
inline constexpr const char* kOutputNames[kOutputCount] = {"sessions", "buckets", "alerts", "top", "ipfix"};

/// Each output's records written and dropped (zeros for an output that is off). IPFIX counts sessions (one
/// biflow record, or two uniflow records, each).
struct OutputStats {
  uint64_t written[kOutputCount] = {};
  uint64_t dropped[kOutputCount] = {};
  uint64_t dropping[kOutputCount] = {};  ///< 1 while a dropping episode lasts
};

/// What to consume and where to write it. Empty paths: that consumer is off.
struct ConsumerConfig {
  std::string sensor;        ///< this sensor's name: in synscope_build_info and every record line (fleets)
  std::string sessions_out;  ///< one JSON line per session ('-' = stdout)
  std::string buckets_out;   ///< one JSON line per (bucket, perspective)
  std::string alerts_out;    ///< non-empty: the seasonal detector runs and writes its transitions here
  std::string model_file;    ///< detector state loaded at start, saved by close()
  bool top = false;          ///< keep the top-N views (top::TopViews): live always, replay with top_out
  std::string top_out;       ///< non-empty: close() writes the top-N views here as JSON
  /// The session lines' flavour and Community ID seed (--sessions-format, --community-id-seed).
  output::SessionLineFormat session_format;
  detector::AlertPolicy alert_policy;
  /// How long an output write may wait for a slow reader before dropping lines (OutputFile::set_wait):
  /// live keeps the bounded default; replay waits (-1) until `write_cancel` (its stop request) is set.
  int write_wait_ms = output::OutputFile::kWriteWaitMs;
  const std::atomic<bool>* write_cancel = nullptr;
  /// Non-empty: IPFIX export of every finished session (ipfix::parse_destination: udp://HOST:PORT,
  /// tcp://HOST:PORT or file:PATH). Waits and cancel as write_wait_ms and write_cancel.
  std::string ipfix_out;
  ipfix::Mode ipfix_mode = ipfix::Mode::kBiflow;
  uint32_t ipfix_domain = 0;
  uint32_t ipfix_template_refresh_s = 600;
  uint32_t ipfix_ring_records = 16384;
  uint64_t bucket_span_ns = 60'000'000'000;
  uint64_t bucket_settle_ns = 360'000'000'000;
};

class Consumers final : public engine::SessionSink, public channel::SessionReceiver, private buckets::BucketSink {
 public:
  /// Checks the paths (check_output_paths: two outputs on one file, a model file that could not be
  /// saved), opens every output (outputs on stdout share one) and creates the alert engine, loading its
  /// model when one is configured (a missing, corrupt or mismatched model file is a warning on stderr and
  /// a fresh model). Throws Error naming the option and path: kUsage for a shared file, kOutput for a path
  /// that cannot be opened or a model that could not be saved.
  explicit Consumers(const ConsumerConfig& config);
  /// The memory a Consumers with `config` allocates (start-up memory checks, before any file is opened):
  /// the bucket ring, the alert engine when it runs, the output buffers.
  [[nodiscard]] static uint64_t bytes_for(const ConsumerConfig& config) noexcept;
  ~Consumers() override;
  Consumers(const Consumers&) = delete;
  Consumers& operator=(const Consumers&) = delete;

  /// A finished session: settles the buckets to its settled_ns, hands it to every consumer, counts it in
  /// its bucket.
  void on_session(const engine::SessionRecord& record) override { receive(record, {}); }
  /// The same, with the line another thread already wrote for it (channel::SessionChannel).
  void receive(const engine::SessionRecord& record, std::string_view prepared_line) override;
  /// Lets bucket time pass without a session (a live engine that is quiet up to `t`).
  void settle(uint64_t t);
  /// After the last session: emits every bucket still held.
  void finish();
  /// Pushes buffered lines to the files (periodically, so tail -f and shippers see them); errors surface
  /// in close().
  void flush_files() noexcept;
  /// Saves the model (when configured) and flushes every output, all of them even after a failure. False
  /// with `error` naming every output that failed: its path, the records dropped and the last errno. The
  /// IPFIX exporter drains (ipfix::Exporter::close) first; sessions it dropped are a warning on stderr, not
  /// a failure: a collector is a peer that may be away, and its loss is counted (output "ipfix").
  [[nodiscard]] bool close(std::string& error);
  /// Reopens every output file (SIGHUP, after logrotate moved them); a file that cannot be reopened is
  /// said on stderr and kept.
  void reopen_files() noexcept;
  /// Records written and dropped per output.
  [[nodiscard]] OutputStats output_stats() const noexcept;

  /// How a session line is written, for a producer thread that prepares lines while this one is behind
  /// (channel::SessionChannel::prepare_lines_when_pressed); nullptr when nobody writes session lines.
  [[nodiscard]] const channel::SessionChannel::LineRenderer* session_line_renderer() const noexcept;

  /// Sessions received (whether or not a session output took their lines).
  [[nodiscard]] uint64_t sessions() const noexcept { return sessions_; }
  [[nodiscard]] uint64_t buckets_emitted() const noexcept { return buckets_emitted_; }
  [[nodiscard]] uint64_t late_sessions() const noexcept { return buckets_.late_sessions(); }
  /// The time up to which buckets are settled.
  [[nodiscard]] uint64_t settled_ns() const noexcept { return buckets_.settled_ns(); }
  /// The newest emitted bucket (meaningful once buckets_emitted() > 0).
  [[nodiscard]] const buckets::Bucket& last_bucket() const noexcept { return last_bucket_; }
  /// The top-N views, or nullptr when they are not kept.
  [[nodiscard]] const top::TopViews* top_views() const noexcept { return top_.get(); }
  /// The alert engine, or nullptr when the detector is off.
  [[nodiscard]] const alerts::AlertEngine* alert_engine() const noexcept { return alert_engine_.get(); }

 private:
  void on_bucket(const buckets::Bucket& bucket) override;

  /// Opens `path` as output `o`, sharing stdout with an earlier output on "-".
  void open(Output o, const std::string& path);

  std::unique_ptr<output::OutputFile> owned_[kOutputCount];
  output::OutputFile* files_[kOutputCount] = {};  ///< each output's file (a shared stdout appears twice)
  /// The session writer's format for a producer thread: a copy of its plain values, so the two threads
  /// share nothing that changes.
  class SessionLines final : public channel::SessionChannel::LineRenderer {
   public:
    explicit SessionLines(const output::SessionLineFormat& format) noexcept : format_(format) {}
    size_t render(const engine::SessionRecord& record, char* buf, size_t capacity) const noexcept override {
      return output::SessionJsonWriter::render(record, format_, buf, capacity);
    }

   private:
    output::SessionLineFormat format_;
  };
  std::unique_ptr<output::SessionJsonWriter> session_writer_;
  std::unique_ptr<SessionLines> session_lines_;
  std::unique_ptr<output::BucketJsonWriter> bucket_writer_;
  std::unique_ptr<alerts::AlertEngine> alert_engine_;
  std::unique_ptr<top::TopViews> top_;
  std::unique_ptr<ipfix::Exporter> ipfix_;
  std::string model_file_;
  std::string ipfix_out_;
  int write_wait_ms_;
  const std::atomic<bool>* write_cancel_;
  RecordBuckets buckets_;
  buckets::Bucket last_bucket_;
  uint64_t sessions_ = 0;
  uint64_t buckets_emitted_ = 0;
};

}  // namespace synscope::consumers
