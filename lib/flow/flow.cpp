// flow: key canonicalisation and hash seeding. See flow.hpp.
#include "flow/flow.hpp"

#include <sys/mman.h>
#include <sys/random.h>

#include <chrono>

namespace synscope::flow {

FlowKey make_key(const packet::PacketMeta& pkt, bool& from_lo) noexcept {
  FlowKey key;
  const int c = std::memcmp(pkt.src.bytes.data(), pkt.dst.bytes.data(), 16);
  from_lo = c < 0 || (c == 0 && pkt.src_port <= pkt.dst_port);
  if (from_lo) {
    key.addr_lo = pkt.src;
    key.addr_hi = pkt.dst;
    key.port_lo = pkt.src_port;
    key.port_hi = pkt.dst_port;
  } else {
    key.addr_lo = pkt.dst;
    key.addr_hi = pkt.src;
    key.port_lo = pkt.dst_port;
    key.port_hi = pkt.src_port;
  }
  key.ip_version = pkt.ip_version;
  return key;
}

void* map_zeroed(size_t bytes) noexcept {
  if (bytes == 0) bytes = 1;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void unmap(void* p, size_t bytes) noexcept {
  if (p != nullptr) ::munmap(p, bytes == 0 ? 1 : bytes);
}

FlowHasher::FlowHasher() noexcept {
  uint64_t seed[2];
  if (getrandom(seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    const auto t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    seed[0] = t * 0x9e3779b97f4a7c15ULL;
    seed[1] = (t ^ reinterpret_cast<uintptr_t>(&seed)) * 0xbf58476d1ce4e5b9ULL;
  }
  s0_ = seed[0];
  s1_ = seed[1] | 1;
}

}  // namespace synscope::flow
