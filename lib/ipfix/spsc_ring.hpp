// spsc_ring: a bounded single-producer single-consumer ring of trivially copyable items.
//
// The consumer thread (producer here) hands FlowRecords to the IPFIX exporter thread through it. All
// memory is allocated by the constructor; push() and pop() never allocate, lock or block. Exactly one
// thread may call try_push() and one other thread front()/pop(); head and tail live on their own cache
// lines so the two threads do not share one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace synscope::ipfix {

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "items are copied in and out by value");

 public:
  /// A ring holding at least `capacity` items (rounded up to a power of two, at least 2).
  explicit SpscRing(size_t capacity) : mask_(round_up(capacity) - 1), items_(new T[mask_ + 1]) {}

  /// Producer: copies `item` in. False when the ring is full (nothing copied).
  [[nodiscard]] bool try_push(const T& item) noexcept {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ > mask_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head - tail_cache_ > mask_) return false;
    }
    items_[head & mask_] = item;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  /// Consumer: the oldest item, or nullptr when the ring is empty. Valid until pop().
  [[nodiscard]] const T* front() noexcept {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail == head_cache_) return nullptr;
    }
    return &items_[tail & mask_];
  }

  /// Consumer: releases the item front() returned.
  void pop() noexcept { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  /// Items the ring holds (either thread; a snapshot).
  [[nodiscard]] size_t size() const noexcept {
    return static_cast<size_t>(head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire));
  }
  [[nodiscard]] size_t capacity() const noexcept { return mask_ + 1; }

 private:
  static size_t round_up(size_t n) noexcept {
    size_t c = 2;
    while (c < n) c <<= 1;
    return c;
  }

  const size_t mask_;
  const std::unique_ptr<T[]> items_;
  alignas(64) std::atomic<uint64_t> head_{0};  ///< written by the producer
  uint64_t tail_cache_ = 0;                    ///< the producer's last look at tail_
  alignas(64) std::atomic<uint64_t> tail_{0};  ///< written by the consumer
  uint64_t head_cache_ = 0;                    ///< the consumer's last look at head_
};

}  // namespace synscope::ipfix
