// flow/flow_hash: the keyed hashes of a flow — the table hash of a FlowKey and the cheaper dispatch hash
// that picks a flow's core.
//
// A FlowHasher is immutable after construction: copy it to every thread that needs the same hash (the
// classifier and the engine of one run must share one). The seed is per run and random, so nobody can pick
// 5-tuples that collide on purpose (Suricata's FlowGetHash does the same with its hash_rand).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "flow/flow_key.hpp"
#include "flow/mix.hpp"
#include "packet/packet.hpp"

namespace synscope::flow {

/// Keyed 64-bit hash of a FlowKey (multiply-fold mixing over the 5 key words with a secret seed).
class FlowHasher {
 public:
  /// Seeds from the kernel's random source; falls back to the clock if getrandom() is unavailable.
  FlowHasher() noexcept;
  FlowHasher(uint64_t seed0, uint64_t seed1) noexcept : s0_(seed0), s1_(seed1) { derive_keys(); }
  [[nodiscard]] uint64_t operator()(const FlowKey& key) const noexcept;

  /// A cheaper keyed hash of a packet's flow, the same for both directions: picks the core that owns the
  /// flow where packets are received (spread RX core, replay reader). Each endpoint (address, port) is
  /// hashed with the secret keys on its own, the two hashes are added (addition commutes: both directions
  /// agree) and the sum is mixed once more. Adding the raw words instead let a crafted set of flows with one
  /// sum (client address + server address constant) land on one core whatever the key; a keyed hash per
  /// endpoint leaves nothing to cancel without the key. Three products, two of them independent; the full
  /// table hash runs on the flow's own core, which builds the canonical key anyway.
  [[nodiscard]] uint32_t dispatch(const packet::PacketMeta& pkt) const noexcept {
    return static_cast<uint32_t>(
        mix64_mul((endpoint(pkt.src, pkt.src_port) + endpoint(pkt.dst, pkt.dst_port)) ^ s0_, s1_ | 1));
  }

 private:
  static constexpr uint64_t kOdd[6] = {0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL, 0x8ebc6af09c88c6e3ULL,
                                       0x589965cc75374cc3ULL, 0x1d8e4e27c47d124fULL, 0x9e3779b97f4a7c15ULL};
  /// One endpoint under the secret keys: its address words xored with secrets, the port multiplied by an
  /// odd secret (injective, and unknown, so no address can be chosen to cancel a port) into the second.
  [[nodiscard]] uint64_t endpoint(const packet::IpAddr& addr, uint16_t port) const noexcept {
    uint64_t w[2];
    std::memcpy(w, addr.bytes.data(), 16);
    return mix64_mul(w[0] ^ k_[0], w[1] ^ (uint64_t{port} * (k_[2] | 1)) ^ k_[1]);
  }
  /// The per-word secrets of operator(), derived from the seed once instead of once per key.
  void derive_keys() noexcept {
    for (int i = 0; i < 6; ++i) k_[i] = (i % 2 == 0 ? s0_ : s1_) + kOdd[i];
  }
  uint64_t s0_;
  uint64_t s1_;
  uint64_t k_[6];
};

inline uint64_t FlowHasher::operator()(const FlowKey& key) const noexcept {
  // The last word is assembled from the fields (the value memcpy gives on little-endian), so a key built
  // field by field (tests, FlowKey{}) is never read with an 8-byte load across narrow stores; make_key()
  // writes it as one 8-byte store, which narrow loads forward from.
  uint64_t w[5];
  std::memcpy(w, &key, 32);
  w[4] = key_tail_word(key.port_lo, key.port_hi, key.ip_version);
  // wyhash's shape: the words in pairs, each pair xored with secrets and multiplied (three independent
  // products), then one more product mixes the three; a chain of dependent products would be several
  // times longer on the engine thread's critical path.
  const uint64_t a = mix64_mul(w[0] ^ k_[0], w[1] ^ k_[1]);
  const uint64_t b = mix64_mul(w[2] ^ k_[2], w[3] ^ k_[3]);
  const uint64_t c = mix64_mul(w[4] ^ k_[4], k_[5]);
  return mix64_mul(a ^ std::rotl(b, 21) ^ s0_, c ^ s1_);
}

}  // namespace synscope::flow
