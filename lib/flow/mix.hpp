// flow/mix: the 64-bit mixing primitives every synscope hash is built from, written once.
//
// Pure functions of their arguments: no state, callable from any thread. mix64_mul is the multiply-fold
// the keyed flow hashes (FlowHasher) are made of; splitmix64 is SplitMix64's finaliser, for unkeyed uses
// (session uids, the alerts' per-server index); fnv1a64 is the model file's checksum, whose value is part of
// that file's format and so must never change.
#pragma once

#include <cstdint>
#include <string_view>

namespace synscope::flow {

/// The 128-bit product of `a` and `b` folded to 64 bits (low half xor high half): one MUL on x86-64 and
/// AArch64, and every input bit reaches most output bits. Zero when either factor is zero, so keyed users
/// xor a secret into each factor first.
[[nodiscard]] inline uint64_t mix64_mul(uint64_t a, uint64_t b) noexcept {
  __extension__ using u128 = unsigned __int128;  // GCC/Clang builtin: one MUL gives the 128-bit product
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

/// SplitMix64 (Steele, Lea, Flood 2014): the golden-ratio step added to `x`, then the finaliser. A bijection
/// of 64-bit words, so distinct inputs never collide; splitmix64(seed + n) for n = 1, 2, ... is a sequence
/// with no visible pattern.
[[nodiscard]] constexpr uint64_t splitmix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// 64-bit FNV-1a over `bytes`: byte at a time, so slow on long inputs; for checksums of files, not for tables.
[[nodiscard]] constexpr uint64_t fnv1a64(std::string_view bytes) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

}  // namespace synscope::flow
