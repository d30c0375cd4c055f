// channel: the pieces that move work between threads: the BurstChannel that carries parsed bursts from a
// receiving thread (replay reader, or a single-queue RX core spreading by flow hash) to the worker that
// owns those flows, the SessionChannel that carries finished sessions back to the thread that consumes
// them, so JSON formatting and file writes never run on a flow-owning core (a replay's worker may opt in to
// write lines while the consumer is behind: SessionChannel::prepare_lines_when_pressed), the Mirror that
// publishes a core's counters, and the Backoff every wait uses.
//
// Every channel has exactly one producer thread and one consumer thread (SP/SC). A BurstChannel owns a
// fixed pool of bursts allocated at construction; bursts circulate producer -> consumer over one rte_ring
// and back over another, so nothing is allocated, locked or copied per packet. rte_ring is used without
// EAL: the rings live in memory this library allocates (rte_ring_init), which works the same with or
// without rte_eal_init().
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>

#include "engine/engine.hpp"

struct rte_ring;

namespace synscope::channel {

/// How a thread waits for another stage: spin with a pause hint for a while, then yield. With spare cores
/// a wait lasts a few hundred nanoseconds; on an oversubscribed box (CI, a 2-core VM) yielding lets the
/// other stage run. Never sleeps on a lock.
class Backoff {
 public:
  void pause() noexcept;
  void reset() noexcept { spins_ = 0; }

 private:
  uint32_t spins_ = 0;
};

/// A single-writer snapshot of a struct made only of uint64_t counters (a seqlock over atomic words). The
/// owning core keeps its counters as plain data and publishes a copy now and then — never per packet —
/// and any thread (a Prometheus scrape, rte_telemetry) reads a consistent copy without ever blocking or
/// slowing the writer. Release stores and acquire loads of the words compile to plain moves on x86.
template <class T>
class Mirror {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % sizeof(uint64_t) == 0,
                "Mirror<T> copies T as an array of 64-bit words");

 public:
  /// Owner thread only.
  void publish(const T& value) noexcept {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&value);
    const uint64_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    // Word by word, so no copy of T sits on the stack (T may be tens of KB). Each word is a release store (a
    // plain move on x86, as relaxed would be): a reader that acquires a new word also sees the odd sequence
    // stored before it, and retries. No standalone fence: ThreadSanitizer does not model fences (GCC refuses
    // them under -fsanitize=thread), it does model these.
    for (size_t i = 0; i < kWords; ++i) {
      uint64_t w;
      std::memcpy(&w, bytes + i * sizeof(uint64_t), sizeof(w));
      words_[i].store(w, std::memory_order_release);
    }
    seq_.store(seq + 2, std::memory_order_release);
  }
  /// Any thread: the last published copy (retries while a publish is under way).
  [[nodiscard]] T read() const noexcept {
    T value;
    read_into(value);
    return value;
  }
  /// The same into `out`, for a T too large for the caller's stack (a civetweb thread's).
  void read_into(T& out) const noexcept {
    auto* bytes = reinterpret_cast<unsigned char*>(&out);
    while (true) {
      const uint64_t before = seq_.load(std::memory_order_acquire);
      if ((before & 1) != 0) continue;
      // Acquire loads (plain moves on x86) keep the second sequence load after every word load.
      for (size_t i = 0; i < kWords; ++i) {
        const uint64_t w = words_[i].load(std::memory_order_acquire);
        std::memcpy(bytes + i * sizeof(uint64_t), &w, sizeof(w));
      }
      if (seq_.load(std::memory_order_relaxed) == before) return;
    }
  }

 private:
  static constexpr size_t kWords = sizeof(T) / sizeof(uint64_t);
  alignas(64) std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> words_[kWords]{};
};

/// Frees an rte_ring made by make_spsc_ring() (the rings live in memory this library allocates).
struct RingDeleter {
  void operator()(rte_ring* r) const noexcept;
};
using RingPtr = std::unique_ptr<rte_ring, RingDeleter>;

/// An SP/SC rte_ring that accepts at least `depth` elements of `esize` bytes (a multiple of 4; pointers
/// for rte_ring_*enqueue, anything for the _elem calls) without refusing an enqueue. Initialised with
/// rte_ring_init on our own memory, so it works with or without EAL. Throws at start-up only.
RingPtr make_spsc_ring(const char* name, uint32_t depth, uint32_t esize);

/// The smallest power of two that is at least `depth` (and at least 2): ring and pool sizes.
[[nodiscard]] inline uint32_t round_up_pow2(uint32_t depth) noexcept {
  uint32_t count = 2;
  while (count < depth) count <<= 1;
  return count;
}

/// Packets per burst: DPDK's customary RX burst size.
inline constexpr uint32_t kBurstSize = 32;

/// A burst of parsed packets, filled by the producer and handed to the consumer whole (the live spread
/// path; the replay pipeline sends a burst type of its own, replay::ReplayBurst, with deferred checksums).
/// Calls `f` with each 64-byte step through `count` objects of type T at `objects`: the cache lines a burst
/// type's for_each_written_line() walks.
template <class T, class F>
void for_each_line(const T* objects, uint32_t count, F&& f) noexcept {
  const char* const p = reinterpret_cast<const char*>(objects);
  for (size_t off = 0; off < count * sizeof(T); off += 64) f(p + off);
}

/// Consumer side: asks for what the producer wrote into `burst` to be brought into cache. It was written on
/// the producer's core; call it for the next burst while processing this one.
template <class B>
void prefetch_burst(const B& burst) noexcept {
  burst.for_each_written_line([](const char* line) { __builtin_prefetch(line); });
}

struct Burst {
  uint32_t n = 0;
  engine::ParsedPacket pkts[kBurstSize];

  /// Calls `f` with each 64-byte step through what the producer wrote for the consumer (prefetch_burst() on
  /// one side, BurstChannel::publish's demotion on the other).
  template <class F>
  void for_each_written_line(F f) const noexcept {
    for_each_line(pkts, n, f);
  }
};

/// Moves a cache line from this core's private caches to the shared L3 (CLDEMOTE, 0F 1C /0, encoded by
/// hand as DPDK's rte_cldemote does: it needs no -mcldemote, and CPUs without it run it as a NOP). A line
/// written here and read next on another core is then found there without a cross-core snoop.
inline void demote_line(const void* p) noexcept {
#if defined(__x86_64__)
  asm volatile(".byte 0x0f, 0x1c, 0x06" ::"S"(p));
#else
  (void)p;
#endif
}

/// The pointer rings under a BurstChannel: objects circulate producer -> consumer over one SP/SC ring and
/// back over another. Untyped; BurstChannel<B> owns the objects and gives them their type.
class BurstRing {
 public:
  /// Room for `count` objects (a power of two). Throws at start-up only.
  explicit BurstRing(uint32_t count);

  // ---- producer thread ----
  [[nodiscard]] void* try_acquire() noexcept;
  [[nodiscard]] void* acquire() noexcept;
  void publish(void* object) noexcept;
  void close() noexcept;
  [[nodiscard]] uint32_t queued() const noexcept;

  // ---- consumer thread ----
  [[nodiscard]] void* try_receive() noexcept;
  [[nodiscard]] void* receive(const std::function<bool()>& idle_work) noexcept;
  void release(void* object) noexcept;

  [[nodiscard]] uint64_t producer_waits() const noexcept { return producer_waits_; }
  [[nodiscard]] uint64_t consumer_waits() const noexcept { return consumer_waits_; }

 private:
  RingPtr full_;
  RingPtr free_;
  std::atomic<bool> closed_{false};
  // Each side's counter on a cache line of its own: both sides read the ring pointers above for every
  // burst, and a wait counted next to them would invalidate the other side's copy.
  alignas(64) uint64_t producer_waits_ = 0;
  alignas(64) uint64_t consumer_waits_ = 0;
};

/// SP/SC channel of bursts of type `B` (which has for_each_written_line()) with a fixed pool. The producer
/// acquires an empty burst, fills it and publishes it; the consumer receives it, processes it and releases
/// it back to the pool. Full or empty rings make the waiting calls spin briefly and then yield (never sleep
/// on a lock), so backpressure slows the producer instead of dropping data — the right trade for replay; a
/// live RX core uses the try_ calls and counts.
template <class B>
class BurstChannel {
 public:
  /// Allocates `depth` bursts (rounded up to a power of two, at least 2). Throws std::bad_alloc or
  /// std::runtime_error (start-up only).
  explicit BurstChannel(uint32_t depth) : count_(round_up_pow2(depth)), pool_(new B[count_]), ring_(count_) {
    for (uint32_t i = 0; i < count_; ++i) ring_.release(&pool_[i]);
  }
  BurstChannel(const BurstChannel&) = delete;
  BurstChannel& operator=(const BurstChannel&) = delete;

  // ---- producer thread ----
  /// An empty burst, or nullptr when all are in flight.
  [[nodiscard]] B* try_acquire() noexcept { return static_cast<B*>(ring_.try_acquire()); }
  /// An empty burst, waiting for the consumer to release one if needed.
  [[nodiscard]] B* acquire() noexcept { return static_cast<B*>(ring_.acquire()); }
  /// Hands a filled burst to the consumer (always succeeds: the ring holds the whole pool). Its lines are
  /// demoted to the shared cache first: they are read next on the consumer's core.
  void publish(B* burst) noexcept {
    burst->for_each_written_line(demote_line);
    ring_.publish(burst);
  }
  /// No more bursts will be published; the consumer's receive() returns nullptr once it drained the rest.
  void close() noexcept { ring_.close(); }
  /// Published bursts the consumer has not taken yet.
  [[nodiscard]] uint32_t queued() const noexcept { return ring_.queued(); }

  // ---- consumer thread ----
  /// The next published burst, or nullptr when none is waiting.
  [[nodiscard]] B* try_receive() noexcept { return static_cast<B*>(ring_.try_receive()); }
  /// The next published burst, waiting if needed; nullptr once the channel is closed and drained. While it
  /// waits it calls `idle_work` (if given), which returns true when it did something useful.
  [[nodiscard]] B* receive(const std::function<bool()>& idle_work = {}) noexcept {
    return static_cast<B*>(ring_.receive(idle_work));
  }
  /// Returns a processed burst to the pool.
  void release(B* burst) noexcept { ring_.release(burst); }

  /// Times the producer found no free burst / the consumer found nothing to do (diagnostics, any thread
  /// after both stopped).
  [[nodiscard]] uint64_t producer_waits() const noexcept { return ring_.producer_waits(); }
  [[nodiscard]] uint64_t consumer_waits() const noexcept { return ring_.consumer_waits(); }

 private:
  uint32_t count_;
  std::unique_ptr<B[]> pool_;
  BurstRing ring_;
};

/// Where a SessionChannel's consumer hands the sessions it takes.
class SessionReceiver {
 public:
  virtual ~SessionReceiver() = default;
  /// `prepared_line` is the record's output line when the producer already wrote it
  /// (SessionChannel::prepare_lines_when_pressed), else empty.
  virtual void receive(const engine::SessionRecord& record, std::string_view prepared_line) = 0;
};

/// SP/SC channel of finished sessions: the flow-owning worker is the producer (it is the SessionSink its
/// engine reports to), a writer thread is the consumer. Each message is a self-contained copy of the
/// record and its Session (a few hundred bytes, once per session, never per packet), so the worker can
/// reuse the flow-table entry at once. Zero-copy both ways (rte_ring's zc API): the producer writes the
/// copy straight into its ring slot and the consumer reads it there, instead of through rte_ring's 4-byte
/// element loop and a stack copy on each side.
class SessionChannel final : public engine::SessionSink {
 public:
  /// Room for `depth` sessions in flight (rounded up to a power of two). Throws at start-up only.
  explicit SessionChannel(uint32_t depth);
  ~SessionChannel() override;
  SessionChannel(const SessionChannel&) = delete;
  SessionChannel& operator=(const SessionChannel&) = delete;

  /// Producer (worker) side: copies the record in, waiting while the ring is full — the consumer must
  /// keep calling drain() until producer_done() is set, or the worker stalls.
  void on_session(const engine::SessionRecord& record) override;
  /// Producer side: times on_session() found the ring full and waited (the writer fell behind).
  [[nodiscard]] uint64_t producer_waits() const noexcept { return producer_waits_; }
  /// Writes records' output lines for the producer (consumers::Consumers wraps its session writer's format).
  class LineRenderer {
   public:
    virtual ~LineRenderer() = default;
    /// Writes `record`'s line into `buf` (`capacity` bytes); returns its length, 0 when it did not fit. Called
    /// on the producer's thread: must not change state the consumer's thread reads.
    virtual size_t render(const engine::SessionRecord& record, char* buf, size_t capacity) const noexcept = 0;
  };
  /// Room for one prepared line: a longer one is left to the consumer.
  static constexpr size_t kPreparedLineBytes = 1536;
  /// Call before the first session. From then on, while the ring is more than half full (the consumer is
  /// behind), the producer writes each session's line itself and sends it along (the `prepared_line` a
  /// SessionReceiver gets), so the line is formatted by whichever thread has time. Only for a producer with time
  /// to spare: a replay's worker, whose finish() reports tens of thousands of open sessions at once at the
  /// end of a busy capture (its consumer then only copies lines). A live RX core never gets one. `renderer`
  /// must outlive the channel.
  void prepare_lines_when_pressed(const LineRenderer& renderer);
  /// Producer side: no more sessions will come (call after the engine's finish()).
  void mark_done() noexcept { done_.store(true, std::memory_order_release); }

  /// Consumer side: the next waiting session without taking it (it stays first until pop()), or nullptr.
  /// Lets a consumer merge several channels in time order (live::DataPlane's stats core).
  [[nodiscard]] const engine::SessionRecord* peek() noexcept;
  /// Consumer side: drops the session peek() returned (its slot goes back to the producer).
  void pop() noexcept;
  /// Consumer side: sessions waiting (including a peeked one).
  [[nodiscard]] uint32_t waiting() const noexcept;
  /// Consumer side: true when the producer waits or soon will (the ring is more than half full).
  [[nodiscard]] bool pressed() const noexcept;

  /// Consumer side: the line the producer prepared for the peeked session (empty: none).
  [[nodiscard]] std::string_view peeked_line() const noexcept {
    return next_ != nullptr ? next_->prepared_line : std::string_view{};
  }

  /// Consumer side: hands up to `max` waiting sessions to `out` in order; returns how many.
  uint32_t drain(SessionReceiver& out, uint32_t max);
  /// Consumer side: true once the producer called mark_done() (sessions may still be waiting: drain them).
  [[nodiscard]] bool producer_done() const noexcept { return done_.load(std::memory_order_acquire); }
  /// Drains until the producer is done and the ring is empty (end of run).
  void drain_all(SessionReceiver& out);

 private:
  struct Message {
    engine::SessionRecord record;  ///< its `session` points at the copy below once the consumer takes it
    tcp_session::Session session;
    std::string_view prepared_line;
  };
  static_assert(sizeof(Message) % 4 == 0, "rte_ring element sizes are multiples of 4 bytes");

  RingPtr ring_;
  std::atomic<bool> done_{false};
  Message* next_ = nullptr;  ///< consumer: the peeked message, in its ring slot (dequeue started, not finished)
  // Producer side, on a cache line of its own (produced_ changes with every session; beside ring_, which
  // the consumer reads for every drain, each change invalidated the consumer's copy).
  alignas(64) uint64_t producer_waits_ = 0;
  // With prepare_lines_when_pressed(): one line per ring slot, so the text needs no room in the messages
  // themselves (it would triple the ring's memory, touched by every message). The n-th message takes line
  // n mod ring size: the ring holds at most size - 1 messages, so a line is free again before its turn
  // comes round.
  const LineRenderer* renderer_ = nullptr;
  std::unique_ptr<char[]> lines_;
  uint64_t produced_ = 0;
  uint32_t line_mask_ = 0;
  uint32_t pressed_below_free_ = 0;  ///< prepare lines when fewer slots than this are free
};

}  // namespace synscope::channel
