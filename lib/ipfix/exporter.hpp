// exporter: IPFIX export of finished sessions, off the consumer thread.
//
// An Exporter is one consumer in consumers::Consumers. offer() runs on the consumer thread (the replay
// reader, the live stats core): it copies what the templates need into a FlowRecord and pushes it into a
// bounded SP/SC ring, never waiting in live mode (a full ring drops the record and counts it) and, in
// replay, waiting until there is room or the replay is stopped (like its files, write_wait_ms -1). The
// exporter thread, started by the constructor, owns the Encoder (libfixbuf) and the Transport: it appends
// records, writes a message when it is full and at least every kFlushAfterMs, resends the templates over
// UDP every template_refresh_s, reconnects TCP with a bounded backoff, and counts a record written once
// the message holding it was sent and dropped when it could not be (a send error, a collector that did
// not take the message within the wait, no TCP connection). A loss is said on stderr once per episode,
// with the destination and errno. close() drains what is held within kCloseWaitMs (replay: as long as the
// collector takes data, until stopped) and counts the rest dropped. Counters are atomics: stats() may be
// called from the consumer thread at any time. No exception leaves the exporter thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "engine/engine.hpp"
#include "ipfix/destination.hpp"
#include "ipfix/encoder.hpp"
#include "ipfix/flow_record.hpp"
#include "ipfix/spsc_ring.hpp"
#include "ipfix/transport.hpp"

namespace synscope::ipfix {

struct ExporterConfig {
  Destination destination;
  Mode mode = Mode::kBiflow;
  uint32_t domain = 0;                ///< observation domain id (--ipfix-domain)
  uint32_t template_refresh_s = 600;  ///< UDP: templates resent this often (0: only at start)
  uint32_t ring_records = 16384;      ///< sessions in flight between the consumer and exporter threads
  /// How long one message may wait for a collector that does not take it before its records are dropped
  /// (ms); -1 waits until `cancel` is set (replay: a replay has no packets to lose).
  int wait_ms = 2000;
  const std::atomic<bool>* cancel = nullptr;
};

/// Sessions written and dropped (a uniflow session is two IPFIX records but counts once).
struct ExporterStats {
  uint64_t written = 0;
  uint64_t dropped = 0;
  bool dropping = false;  ///< a loss episode is under way
};

class Exporter {
 public:
  /// Most a message may hold over UDP: one datagram that an Ethernet MTU carries unfragmented (IPv6).
  static constexpr uint16_t kUdpMessageBytes = 1400;
  /// TCP and files: large messages, fewer writes.
  static constexpr uint16_t kStreamMessageBytes = 65000;
  static constexpr int kFlushAfterMs = 200;
  static constexpr int kCloseWaitMs = 2000;
  static constexpr int kConnectWaitMs = 1000;
  static constexpr uint64_t kMinBackoffMs = 100, kMaxBackoffMs = 5000;
  /// A loss episode ends after this long without a failed send (see recovered()).
  static constexpr uint64_t kRecoverAfterMs = 1000;

  /// Opens the transport (Transport: throws Error kOutput naming --ipfix-out and errno), builds the
  /// encoder (Error kResource) and the ring, and starts the exporter thread.
  explicit Exporter(const ExporterConfig& config);
  /// close(), if not called yet.
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// Consumer thread: hands one finished session to the exporter thread. Live: drops and counts it when
  /// the ring is full; replay (wait_ms < 0): waits for room until `cancel` is set.
  void offer(const engine::SessionRecord& record) noexcept;
  /// Consumer thread: hands over a prepared FlowRecord (offer() and the unit tests).
  void offer(const FlowRecord& record) noexcept;
  /// Consumer thread, once: no more records; the exporter sends what it holds (at most kCloseWaitMs, or
  /// while the collector takes data in replay until `cancel`), counts the rest dropped, and stops.
  void close() noexcept;
  /// Consumer thread (SIGHUP): a file export finishes its current message in the file it has, then opens
  /// the path again and starts it with the templates (after logrotate moved the file away). Network
  /// exports ignore it.
  void reopen() noexcept { reopen_.store(true, std::memory_order_release); }
  [[nodiscard]] ExporterStats stats() const noexcept;
  /// The memory an exporter with `config` allocates (start-up memory checks).
  [[nodiscard]] static uint64_t bytes_for(const ExporterConfig& config) noexcept;

 private:
  void run() noexcept;
  void handle(const FlowRecord& record, uint64_t now) noexcept;
  /// Writes the current message; false when it could not be sent (its sessions dropped).
  bool send_message(uint64_t now) noexcept;
  bool ensure_connected(uint64_t now) noexcept;
  [[nodiscard]] bool append_templates(uint64_t now) noexcept;
  [[nodiscard]] SendLimit limit(uint64_t now) const noexcept;
  void drop(uint64_t sessions, int err, const char* what) noexcept;
  void recovered(uint64_t now) noexcept;
  void note_ring_drops() noexcept;

  ExporterConfig config_;
  Transport transport_;
  Encoder encoder_;
  SpscRing<FlowRecord> ring_;
  // Written by the consumer thread.
  std::atomic<uint64_t> ring_dropped_{0};
  std::atomic<bool> reopen_{false};
  std::atomic<bool> closing_{false};
  std::atomic<uint64_t> close_deadline_ns_{0};  ///< 0: none (replay, still running)
  bool closed_ = false;
  // Written by the exporter thread.
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> dropping_{false};
  std::atomic<bool> done_{false};
  // Exporter thread only.
  uint64_t ring_dropped_seen_ = 0;
  uint64_t episode_dropped_ = 0;
  uint64_t sending_since_ns_ = 0;  ///< first send that went through since the last failure (0: none)
  uint32_t message_sessions_ = 0;
  uint64_t oldest_pending_ns_ = 0;
  uint64_t templates_sent_ns_ = 0;
  bool need_templates_ = true;
  uint64_t backoff_ms_ = kMinBackoffMs;
  uint64_t next_connect_ns_ = 0;
  int last_errno_ = 0;
  std::thread thread_;
};

}  // namespace synscope::ipfix
