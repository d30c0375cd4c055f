// channel: see channel.hpp.
#include "channel/channel.hpp"

#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include <chrono>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

namespace synscope::channel {

void Backoff::pause() noexcept {
  ++spins_;
  if (spins_ < 64) {
    rte_pause();
  } else if (spins_ < 128) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

void RingDeleter::operator()(rte_ring* r) const noexcept { std::free(r); }

RingPtr make_spsc_ring(const char* name, uint32_t depth, uint32_t esize) {
  // A ring of N slots holds N - 1 elements, so it gets twice the rounded depth.
  const uint32_t slots = round_up_pow2(depth) * 2;
  const ssize_t bytes = rte_ring_get_memsize_elem(esize, slots);
  if (bytes < 0) throw std::runtime_error(std::string(name) + ": bad ring size");
  void* mem = std::aligned_alloc(64, (static_cast<size_t>(bytes) + 63) / 64 * 64);
  if (mem == nullptr) throw std::bad_alloc();
  RingPtr ring(static_cast<rte_ring*>(mem));
  if (rte_ring_init(ring.get(), name, slots, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
    throw std::runtime_error(std::string(name) + ": rte_ring_init failed");
  }
  return ring;
}

BurstRing::BurstRing(uint32_t count)
    : full_(make_spsc_ring("synscope_bursts", count, sizeof(void*))),
      free_(make_spsc_ring("synscope_free", count, sizeof(void*))) {}

void* BurstRing::try_acquire() noexcept {
  void* obj = nullptr;
  return rte_ring_sc_dequeue(free_.get(), &obj) == 0 ? obj : nullptr;
}

void* BurstRing::acquire() noexcept {
  Backoff backoff;
  void* b;
  while ((b = try_acquire()) == nullptr) {
    ++producer_waits_;
    backoff.pause();
  }
  return b;
}

namespace {

/// Entries in `r` as seen from another thread than its producer or consumer (rte_ring_count's arithmetic).
/// The tails are read as relaxed atomics: rte_ring_count reads them as plain loads, which ThreadSanitizer
/// rightly calls a race with the other side's atomic tail store (the count is advisory either way); on x86
/// both are the same move.
uint32_t ring_count(const rte_ring* r) noexcept {
  const uint32_t prod = __atomic_load_n(&r->prod.tail, __ATOMIC_RELAXED);
  const uint32_t cons = __atomic_load_n(&r->cons.tail, __ATOMIC_RELAXED);
  const uint32_t count = (prod - cons) & r->mask;
  return count > r->capacity ? r->capacity : count;
}

}  // namespace

void BurstRing::publish(void* object) noexcept { (void)rte_ring_sp_enqueue(full_.get(), object); }

void BurstRing::close() noexcept { closed_.store(true, std::memory_order_release); }

uint32_t BurstRing::queued() const noexcept { return ring_count(full_.get()); }

void* BurstRing::try_receive() noexcept {
  void* obj = nullptr;
  return rte_ring_sc_dequeue(full_.get(), &obj) == 0 ? obj : nullptr;
}

void* BurstRing::receive(const std::function<bool()>& idle_work) noexcept {
  Backoff backoff;
  while (true) {
    if (void* b = try_receive()) return b;
    // Read `closed_` before the last look: a burst published before close() is then always seen.
    if (closed_.load(std::memory_order_acquire)) return try_receive();
    ++consumer_waits_;
    if (idle_work && idle_work()) {
      backoff.reset();
      continue;
    }
    backoff.pause();
  }
}

void BurstRing::release(void* object) noexcept { (void)rte_ring_sp_enqueue(free_.get(), object); }

// ---- SessionChannel -------------------------------------------------------------------------------------

SessionChannel::SessionChannel(uint32_t depth) : ring_(make_spsc_ring("synscope_sessions", depth, sizeof(Message))) {}

SessionChannel::~SessionChannel() = default;

void SessionChannel::prepare_lines_when_pressed(const LineRenderer& renderer) {
  const uint32_t size = rte_ring_get_size(ring_.get());
  // Left uninitialised (new[], not make_unique): only the lines actually prepared are ever touched.
  lines_.reset(new char[static_cast<size_t>(size) * kPreparedLineBytes]);
  line_mask_ = size - 1;
  pressed_below_free_ = rte_ring_get_capacity(ring_.get()) / 2;
  renderer_ = &renderer;
}

void SessionChannel::on_session(const engine::SessionRecord& record) {
  rte_ring_zc_data slot;
  unsigned int free_after = 0;
  if (rte_ring_enqueue_zc_burst_elem_start(ring_.get(), sizeof(Message), 1, &slot, &free_after) == 0) {
    ++producer_waits_;
    Backoff backoff;
    while (rte_ring_enqueue_zc_burst_elem_start(ring_.get(), sizeof(Message), 1, &slot, &free_after) == 0) {
      backoff.pause();
    }
  }
  // The ring's element area starts cache-aligned and sizeof(Message) is a multiple of its alignment.
  auto* m = new (slot.ptr1) Message{record, *record.session, {}};
  m->record.session = nullptr;  // points into the worker's table; the consumer points it at the copy
  const uint64_t n = produced_++;
  if (renderer_ != nullptr && free_after < pressed_below_free_) {
    char* line = &lines_[(n & line_mask_) * kPreparedLineBytes];
    m->prepared_line = {line, renderer_->render(record, line, kPreparedLineBytes)};
  }
  rte_ring_enqueue_zc_elem_finish(ring_.get(), 1);
}

const engine::SessionRecord* SessionChannel::peek() noexcept {
  if (next_ == nullptr) {
    rte_ring_zc_data slot;
    if (rte_ring_dequeue_zc_burst_elem_start(ring_.get(), sizeof(Message), 1, &slot, nullptr) == 0) return nullptr;
    next_ = static_cast<Message*>(slot.ptr1);
    next_->record.session = &next_->session;
  }
  return &next_->record;
}

void SessionChannel::pop() noexcept {
  if (next_ == nullptr) return;
  next_ = nullptr;
  rte_ring_dequeue_zc_elem_finish(ring_.get(), 1);
}

// A started zero-copy dequeue counts as still in the ring until it is finished: the peeked one is included.
uint32_t SessionChannel::waiting() const noexcept { return ring_count(ring_.get()); }

bool SessionChannel::pressed() const noexcept {
  return ring_count(ring_.get()) * 2 > rte_ring_get_capacity(ring_.get());
}

uint32_t SessionChannel::drain(SessionReceiver& out, uint32_t max) {
  uint32_t n = 0;
  if (next_ != nullptr && max > 0) {
    out.receive(next_->record, next_->prepared_line);
    pop();
    ++n;
  }
  // At most 32 slots are held at a time, so a long drain_all() keeps handing room back to the producer.
  while (n < max) {
    const uint32_t want = max - n < 32 ? max - n : 32;
    rte_ring_zc_data slots;
    const uint32_t got = rte_ring_dequeue_zc_burst_elem_start(ring_.get(), sizeof(Message), want, &slots, nullptr);
    if (got == 0) break;
    for (uint32_t i = 0; i < got; ++i) {
      Message* m =
          i < slots.n1 ? static_cast<Message*>(slots.ptr1) + i : static_cast<Message*>(slots.ptr2) + (i - slots.n1);
      m->record.session = &m->session;
      out.receive(m->record, m->prepared_line);
    }
    rte_ring_dequeue_zc_elem_finish(ring_.get(), got);
    n += got;
  }
  return n;
}

void SessionChannel::drain_all(SessionReceiver& out) {
  Backoff backoff;
  while (true) {
    const bool done = producer_done();  // read before the last drain: nothing enqueued before it is missed
    if (drain(out, UINT32_MAX) > 0) {
      backoff.reset();
      continue;
    }
    if (done) return;
    backoff.pause();
  }
}

}  // namespace synscope::channel
