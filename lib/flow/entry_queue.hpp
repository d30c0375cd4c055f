// flow/entry_queue: a fixed ring of (entry number, tag) pairs, oldest first, that forgets its oldest when full.
//
// An EntryQueue is owned by the thread that owns the table whose entries it names (an engine's core) and is
// not thread-safe. Its memory is reserved at start (map_zeroed, small pages, touched as used); push and pop
// never allocate. The engine keeps the sessions a bare SYN opened here, so under a SYN flood it evicts the
// oldest of them without searching the table (engine::SessionEngine::make_room). An entry number outlives
// what it named (the entry is freed and handed to another flow), so each comes with its owner's tag (the
// engine's: the session's uid) and a popped pair whose tag no longer matches is stale.
#pragma once

#include <cstdint>

#include "flow/mapped_memory.hpp"

namespace synscope::flow {

class EntryQueue {
 public:
  struct Item {
    uint32_t entry;
    uint32_t tag;
  };

  /// Room for `capacity` entry numbers (start-up only). Check ok().
  explicit EntryQueue(uint32_t capacity) noexcept
      : slots_(static_cast<Item*>(map_zeroed(uint64_t{capacity} * sizeof(Item), Paging::kSmall))),
        capacity_(slots_ != nullptr ? capacity : 0) {}
  ~EntryQueue() { unmap(slots_, uint64_t{capacity_} * sizeof(Item)); }
  EntryQueue(const EntryQueue&) = delete;
  EntryQueue& operator=(const EntryQueue&) = delete;

  [[nodiscard]] bool ok() const noexcept { return capacity_ > 0; }
  /// The memory a queue of `capacity` uses when full.
  [[nodiscard]] static uint64_t bytes_when_full(uint32_t capacity) noexcept {
    return uint64_t{capacity} * sizeof(Item);
  }

  /// Appends `item`; when full, the oldest is forgotten to make room.
  void push(Item item) noexcept {
    if (capacity_ == 0) return;
    slots_[head_] = item;
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    if (size_ < capacity_) {
      ++size_;
    } else {
      tail_ = head_;
    }
  }

  /// Takes the oldest item; false when empty.
  bool pop(Item& item) noexcept {
    if (size_ == 0) return false;
    item = slots_[tail_];
    tail_ = tail_ + 1 == capacity_ ? 0 : tail_ + 1;
    --size_;
    return true;
  }

  [[nodiscard]] uint32_t size() const noexcept { return size_; }

 private:
  Item* slots_;
  uint32_t capacity_;
  uint32_t head_ = 0;  ///< next slot to write
  uint32_t tail_ = 0;  ///< oldest item
  uint32_t size_ = 0;
};

}  // namespace synscope::flow
