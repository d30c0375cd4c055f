// network_set: see network_set.hpp.
#include "engine/network_set.hpp"

#include <cstring>

namespace synscope::engine {

bool NetworkSet::add(std::string_view cidr) {
  const size_t slash = cidr.find('/');
  Prefix p{};
  packet::IpAddr addr;
  if (!packet::parse_ip(cidr.substr(0, slash), addr, p.ip_version)) return false;
  const unsigned max_len = p.ip_version == 4 ? 32 : 128;
  unsigned len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = cidr.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    len = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > max_len) return false;
  }
  uint8_t mask_bytes[16] = {};
  for (unsigned bit = 0; bit < len; ++bit) mask_bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  std::memcpy(p.mask, mask_bytes, 16);
  std::memcpy(p.word, addr.bytes.data(), 16);
  p.word[0] &= p.mask[0];
  p.word[1] &= p.mask[1];
  prefixes_.push_back(p);
  text_.emplace_back(cidr);
  return true;
}

bool NetworkSet::contains(const packet::IpAddr& addr, uint8_t ip_version) const noexcept {
  uint64_t a[2];
  std::memcpy(a, addr.bytes.data(), 16);
  for (const Prefix& p : prefixes_) {
    if (p.ip_version == ip_version && (a[0] & p.mask[0]) == p.word[0] && (a[1] & p.mask[1]) == p.word[1]) {
      return true;
    }
  }
  return false;
}

NetworkSet NetworkSet::defaults() {
  NetworkSet s;
  for (const char* c :
       {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "fc00::/7", "fe80::/10"}) {
    (void)s.add(c);
  }
  return s;
}

}  // namespace synscope::engine
