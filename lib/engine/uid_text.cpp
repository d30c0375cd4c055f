// uid_text: see uid_text.hpp.
#include "engine/uid_text.hpp"

#include <array>
#include <cstring>

namespace synscope::engine {

namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Two base-62 digits per entry, least significant first (the order format_uid writes them): entry r holds
/// the digits of r % 62 and r / 62, so a 64-bit uid takes 6 divisions instead of 11.
constexpr std::array<char, 2 * 62 * 62> make_base62_pairs() {
  std::array<char, 2 * 62 * 62> pairs{};
  for (size_t r = 0; r < 62 * 62; ++r) {
    pairs[2 * r] = kBase62[r % 62];
    pairs[2 * r + 1] = kBase62[r / 62];
  }
  return pairs;
}
constexpr std::array<char, 2 * 62 * 62> kBase62Pairs = make_base62_pairs();

}  // namespace

size_t format_uid(uint64_t uid, char* buf) noexcept {
  // Digits least significant first, one at least (Zeek's order is irrelevant: uids only need to be unique
  // and stable within a run; this is the order synscope has always written).
  buf[0] = 'C';
  size_t n = 1;
  while (uid >= 62) {
    const uint64_t q = uid / (62 * 62);
    std::memcpy(buf + n, &kBase62Pairs[2 * (uid - q * 62 * 62)], 2);
    n += 2;
    uid = q;
    if (uid == 0) return n;
  }
  buf[n++] = kBase62[uid];
  return n;
}

}  // namespace synscope::engine
