// flow/entry_queue: a fixed ring of entry numbers, oldest first, that forgets its oldest when full.
//
// An EntryQueue is owned by the thread that owns the table whose entries it names (an engine's core) and is
// not thread-safe. Its memory is reserved at start (map_zeroed, small pages, touched as used); push and pop
// never allocate. The engine keeps the sessions a bare SYN opened here, so under a SYN flood it evicts the
// oldest of them without searching the table (engine::SessionEngine::make_room).
#pragma once

#include <cstdint>

#include "flow/mapped_memory.hpp"

namespace synscope::flow {

class EntryQueue {
 public:
  /// Room for `capacity` entry numbers (start-up only). Check ok().
  explicit EntryQueue(uint32_t capacity) noexcept
      : slots_(static_cast<uint32_t*>(map_zeroed(uint64_t{capacity} * sizeof(uint32_t), Paging::kSmall))),
        capacity_(slots_ != nullptr ? capacity : 0) {}
  ~EntryQueue() { unmap(slots_, uint64_t{capacity_} * sizeof(uint32_t)); }
  EntryQueue(const EntryQueue&) = delete;
  EntryQueue& operator=(const EntryQueue&) = delete;

  [[nodiscard]] bool ok() const noexcept { return capacity_ > 0; }
  /// The memory a queue of `capacity` uses when full.
  [[nodiscard]] static uint64_t bytes_when_full(uint32_t capacity) noexcept {
    return uint64_t{capacity} * sizeof(uint32_t);
  }

  /// Appends `entry`; when full, the oldest number is forgotten to make room.
  void push(uint32_t entry) noexcept {
    if (capacity_ == 0) return;
    slots_[head_] = entry;
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    if (size_ < capacity_) {
      ++size_;
    } else {
      tail_ = head_;
    }
  }

  /// Takes the oldest number; false when empty.
  bool pop(uint32_t& entry) noexcept {
    if (size_ == 0) return false;
    entry = slots_[tail_];
    tail_ = tail_ + 1 == capacity_ ? 0 : tail_ + 1;
    --size_;
    return true;
  }

  [[nodiscard]] uint32_t size() const noexcept { return size_; }

 private:
  uint32_t* slots_;
  uint32_t capacity_;
  uint32_t head_ = 0;  ///< next slot to write
  uint32_t tail_ = 0;  ///< oldest number
  uint32_t size_ = 0;
};

}  // namespace synscope::flow
