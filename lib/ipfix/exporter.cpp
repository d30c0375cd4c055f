// exporter: see exporter.hpp.
#include "ipfix/exporter.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace synscope::ipfix {
namespace {

constexpr uint64_t kMs = 1'000'000;

void sleep_ns(long ns) noexcept {
  timespec ts{0, ns};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

Exporter::Exporter(const ExporterConfig& config)
    : config_(config),
      transport_(config.destination),
      encoder_(config.mode, config.domain,
               config.destination.kind == TransportKind::kUdp ? kUdpMessageBytes : kStreamMessageBytes),
      ring_(config.ring_records) {
  thread_ = std::thread([this] { run(); });
}

Exporter::~Exporter() { close(); }

uint64_t Exporter::bytes_for(const ExporterConfig& config) noexcept {
  uint64_t ring = 2;
  while (ring < config.ring_records) ring <<= 1;
  return sizeof(Exporter) + ring * sizeof(FlowRecord) + kStreamMessageBytes;
}

void Exporter::offer(const engine::SessionRecord& record) noexcept {
  FlowRecord r;
  make_flow_record(record, r);
  offer(r);
}

void Exporter::offer(const FlowRecord& record) noexcept {
  if (ring_.try_push(record)) return;
  if (config_.wait_ms < 0) {
    // Replay: wait for the exporter thread, which always makes progress (it sends, or drops what it cannot
    // send), until the replay is stopped.
    while (!done_.load(std::memory_order_acquire) &&
           !(config_.cancel != nullptr && config_.cancel->load(std::memory_order_relaxed))) {
      sleep_ns(50'000);
      if (ring_.try_push(record)) return;
    }
  }
  ring_dropped_.store(ring_dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Exporter::close() noexcept {
  if (closed_) return;
  closed_ = true;
  const bool bounded =
      config_.wait_ms >= 0 || (config_.cancel != nullptr && config_.cancel->load(std::memory_order_relaxed));
  if (bounded) close_deadline_ns_.store(monotonic_ns() + kCloseWaitMs * kMs, std::memory_order_relaxed);
  closing_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

ExporterStats Exporter::stats() const noexcept {
  ExporterStats s;
  s.written = written_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed) + ring_dropped_.load(std::memory_order_relaxed);
  s.dropping = dropping_.load(std::memory_order_relaxed);
  return s;
}

SendLimit Exporter::limit(uint64_t now) const noexcept {
  SendLimit l;
  l.cancel = config_.cancel;
  if (config_.wait_ms >= 0) l.deadline_ns = now + static_cast<uint64_t>(config_.wait_ms) * kMs;
  const uint64_t close_at = close_deadline_ns_.load(std::memory_order_relaxed);
  if (close_at != 0 && (l.deadline_ns == 0 || close_at < l.deadline_ns)) l.deadline_ns = close_at;
  return l;
}

void Exporter::drop(uint64_t sessions, int err, const char* what) noexcept {
  dropped_.store(dropped_.load(std::memory_order_relaxed) + sessions, std::memory_order_relaxed);
  episode_dropped_ += sessions;
  last_errno_ = err;
  sending_since_ns_ = 0;
  if (dropping_.load(std::memory_order_relaxed)) return;
  dropping_.store(true, std::memory_order_relaxed);
  std::fprintf(stderr,
               "synscope: warning: IPFIX export to %s: %s: %s; records are dropped until it works again "
               "(counted as output \"ipfix\" dropped)\n",
               config_.destination.text.c_str(), what, std::strerror(err));
}

void Exporter::recovered(uint64_t now) noexcept {
  if (!dropping_.load(std::memory_order_relaxed)) return;
  // A collector that accepts a connection and then stalls would flap between "dropping" and "works again"
  // on every reconnect: the episode ends only after kRecoverAfterMs of sends without a failure.
  if (sending_since_ns_ == 0) sending_since_ns_ = now;
  if (now - sending_since_ns_ < kRecoverAfterMs * kMs) return;
  dropping_.store(false, std::memory_order_relaxed);
  std::fprintf(stderr, "synscope: IPFIX export to %s works again after %llu dropped records\n",
               config_.destination.text.c_str(), static_cast<unsigned long long>(episode_dropped_));
  episode_dropped_ = 0;
}

void Exporter::note_ring_drops() noexcept {
  const uint64_t n = ring_dropped_.load(std::memory_order_relaxed);
  if (n == ring_dropped_seen_) return;
  const uint64_t fresh = n - ring_dropped_seen_;
  ring_dropped_seen_ = n;
  // Counted by the consumer thread already (stats() adds ring_dropped_): only the episode is ours.
  episode_dropped_ += fresh;
  sending_since_ns_ = 0;
  if (dropping_.load(std::memory_order_relaxed)) return;
  dropping_.store(true, std::memory_order_relaxed);
  std::fprintf(stderr,
               "synscope: warning: IPFIX export to %s: the exporter's ring of %zu records was full (%s); "
               "records are dropped until it drains (counted as output \"ipfix\" dropped)\n",
               config_.destination.text.c_str(), ring_.capacity(),
               last_errno_ != 0 ? std::strerror(last_errno_) : "the collector or the exporter thread is slow");
}

bool Exporter::ensure_connected(uint64_t now) noexcept {
  if (!transport_.stream() || transport_.connected()) return true;
  if (now < next_connect_ns_) return false;
  const int err = transport_.connect(kConnectWaitMs);
  if (err != 0) {
    last_errno_ = err;
    next_connect_ns_ = monotonic_ns() + backoff_ms_ * kMs;
    backoff_ms_ = backoff_ms_ * 2 < kMaxBackoffMs ? backoff_ms_ * 2 : kMaxBackoffMs;
    return false;
  }
  backoff_ms_ = kMinBackoffMs;
  need_templates_ = true;  // a new transport session knows no templates
  return true;
}

bool Exporter::send_message(uint64_t now) noexcept {
  const uint32_t sessions = message_sessions_;
  message_sessions_ = 0;
  oldest_pending_ns_ = 0;
  if (!encoder_.pending()) return true;
  const std::span<const uint8_t> bytes = encoder_.emit();
  if (bytes.empty()) {
    std::fprintf(stderr, "synscope: warning: IPFIX export to %s: encoding failed: %s\n",
                 config_.destination.text.c_str(), encoder_.error());
    drop(sessions, EIO, "encoding");
    return false;
  }
  const int err = transport_.send(bytes.data(), bytes.size(), limit(now));
  if (err != 0) {
    drop(sessions, err, transport_.stream() ? "send (reconnecting)" : "send");
    // Over TCP part of the message may have gone: the stream is out of step and must start again. Over
    // UDP the collector may have missed the templates: the next message carries them.
    transport_.disconnect();
    next_connect_ns_ = monotonic_ns() + backoff_ms_ * kMs;
    need_templates_ = true;
    return false;
  }
  written_.store(written_.load(std::memory_order_relaxed) + sessions, std::memory_order_relaxed);
  recovered(now);
  return true;
}

bool Exporter::append_templates(uint64_t now) noexcept {
  // The template set and the type records each want a message of their own (Encoder::append_templates):
  // a few kFull in a row are expected, not a loop.
  Encoder::Status s = encoder_.append_templates();
  for (int i = 0; i < 8 && s == Encoder::Status::kFull; ++i) {
    if (!send_message(now)) return false;
    s = encoder_.append_templates();
  }
  if (s != Encoder::Status::kOk) {
    std::fprintf(stderr, "synscope: warning: IPFIX export to %s: templates: %s\n", config_.destination.text.c_str(),
                 encoder_.error());
    return false;
  }
  need_templates_ = false;
  templates_sent_ns_ = now;
  return true;
}

void Exporter::handle(const FlowRecord& record, uint64_t now) noexcept {
  if (!ensure_connected(now)) {
    drop(1, last_errno_, "connect");
    return;
  }
  if (config_.template_refresh_s != 0 && config_.destination.kind == TransportKind::kUdp &&
      now - templates_sent_ns_ >= uint64_t{config_.template_refresh_s} * 1'000'000'000) {
    need_templates_ = true;
  }
  if (need_templates_ && !append_templates(now)) {
    drop(1, last_errno_ != 0 ? last_errno_ : EIO, "templates");
    return;
  }
  Encoder::Status s = encoder_.append(record);
  while (s == Encoder::Status::kFull) {
    // The message is full: send it and go on in a new one (after the templates, if the send failed and
    // the transport came back).
    (void)send_message(now);
    if (!ensure_connected(now) || (need_templates_ && !append_templates(now))) {
      drop(1, last_errno_ != 0 ? last_errno_ : EIO, "send");
      return;
    }
    s = encoder_.append(record);
  }
  if (s == Encoder::Status::kError) {
    std::fprintf(stderr, "synscope: warning: IPFIX export to %s: encoding failed: %s\n",
                 config_.destination.text.c_str(), encoder_.error());
    drop(1, EIO, "encoding");
    return;
  }
  ++message_sessions_;
  if (oldest_pending_ns_ == 0) oldest_pending_ns_ = now;
}

void Exporter::run() noexcept {
  try {
    for (;;) {
      const bool closing = closing_.load(std::memory_order_acquire);
      const uint64_t now = monotonic_ns();
      note_ring_drops();
      if (reopen_.exchange(false, std::memory_order_acq_rel) && config_.destination.kind == TransportKind::kFile) {
        (void)send_message(now);  // what the old file's last message holds goes there
        if (const int err = transport_.reopen_file(); err != 0) {
          std::fprintf(stderr, "synscope: error: IPFIX export: cannot reopen %s: %s (still writing the old file)\n",
                       config_.destination.path.c_str(), std::strerror(err));
        }
        need_templates_ = true;  // a new file starts with the templates, so it can be read on its own
      }
      const uint64_t close_at = close_deadline_ns_.load(std::memory_order_relaxed);
      const bool give_up = closing && close_at != 0 && now >= close_at;
      if (const FlowRecord* r = ring_.front()) {
        if (give_up) {
          uint64_t left = 0;
          while (ring_.front() != nullptr) {
            ring_.pop();
            ++left;
          }
          drop(left, ETIMEDOUT, "close");
          std::fprintf(stderr,
                       "synscope: warning: IPFIX export to %s: %llu sessions still queued after the %d ms close "
                       "wait were dropped\n",
                       config_.destination.text.c_str(), static_cast<unsigned long long>(left), kCloseWaitMs);
          continue;
        }
        handle(*r, now);
        ring_.pop();
        if (oldest_pending_ns_ != 0 && now - oldest_pending_ns_ >= kFlushAfterMs * kMs) (void)send_message(now);
        continue;
      }
      if (closing) break;
      if (oldest_pending_ns_ != 0 && now - oldest_pending_ns_ >= kFlushAfterMs * kMs) (void)send_message(now);
      sleep_ns(2'000'000);  // idle: a 2 ms nap keeps a quiet exporter off the shared CPUs
    }
    (void)send_message(monotonic_ns());
  } catch (...) {
    // Nothing here throws by design (libfixbuf is C, our code is noexcept); a surprise must not cross.
    std::fprintf(stderr, "synscope: error: IPFIX exporter thread stopped unexpectedly\n");
  }
  done_.store(true, std::memory_order_release);
}

}  // namespace synscope::ipfix
