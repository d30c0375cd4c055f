// frames: the bytes of frames for tests — a TCP segment with a correct checksum, IPv4 (with its header
// checksum), IPv6 and Ethernet around it, byte-order writers, and a pcap file builder — so each test that
// feeds parse_frame or a capture reader does not rewrite them. Plain functions over values, no state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "packet/packet.hpp"

namespace synscope::test {

using Bytes = std::vector<uint8_t>;

/// Appends the low `bytes` bytes of `v`, most significant first.
void put_be(Bytes& b, uint64_t v, int bytes);
/// Appends the low `bytes` bytes of `v`, least significant first.
void put_le(Bytes& b, uint64_t v, int bytes);

/// The Internet checksum (RFC 1071) of `n` bytes added to the partial sum `acc`: the value to write into
/// the checksum field (an odd last byte is padded with zero).
[[nodiscard]] uint16_t internet_checksum(const uint8_t* p, size_t n, uint32_t acc = 0);

/// The default addresses: an internal client and an external server, in IPv4 and in IPv6.
inline constexpr std::array<uint8_t, 4> kClient4 = {10, 0, 0, 1};
inline constexpr std::array<uint8_t, 4> kServer4 = {93, 184, 216, 34};
inline constexpr std::array<uint8_t, 16> kClient6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline constexpr std::array<uint8_t, 16> kServer6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/// The header fields of a TCP segment, and how many option and payload bytes follow the fixed header.
struct TcpFields {
  uint16_t src_port = 40000;
  uint16_t dst_port = 80;
  uint32_t seq = 256;
  uint32_t ack = 0;
  uint8_t flags = packet::tcp_flag::kSyn;
  uint16_t window = 0x1000;
  size_t options = 0;  ///< NOP bytes after the fixed header (a multiple of 4)
  size_t payload = 0;  ///< payload bytes, byte i being i * 7
};

/// A TCP segment (header, options, payload) whose checksum is correct for the IP addresses `src` and `dst`
/// (both 4 bytes for IPv4 or both 16 for IPv6).
[[nodiscard]] Bytes tcp_segment(const TcpFields& f, std::span<const uint8_t> src = kClient4,
                                std::span<const uint8_t> dst = kServer4);

/// An IPv4 packet (TTL 64, header checksum filled in) carrying `l4` as protocol `proto`, with `options` zero
/// bytes of IP options (a multiple of 4) and the flags/fragment-offset word `frag`.
[[nodiscard]] Bytes ipv4(const Bytes& l4, uint8_t proto = 6, size_t options = 0, uint16_t frag = 0,
                         std::span<const uint8_t, 4> src = kClient4, std::span<const uint8_t, 4> dst = kServer4);

/// An IPv6 packet (hop limit 64) whose header names `next`, followed by the extension headers `ext` (their
/// own next-header bytes chain to `l4`) and `l4`.
[[nodiscard]] Bytes ipv6(const Bytes& l4, uint8_t next = 6, const Bytes& ext = {},
                         std::span<const uint8_t, 16> src = kClient6, std::span<const uint8_t, 16> dst = kServer6);

/// An Ethernet II frame (both MAC addresses aa:aa:aa:aa:aa:aa) with the tag bytes `tags` (VLAN, QinQ)
/// between the addresses and `ethertype`, then `payload`.
[[nodiscard]] Bytes ether(uint16_t ethertype, const Bytes& payload, const Bytes& tags = {});

/// The bytes of a classic pcap file (version 2.4, microsecond stamps, snaplen 65535), built record by record.
class PcapBuilder {
 public:
  /// Starts the file with its global header for the LINKTYPE_* number `link_type`.
  explicit PcapBuilder(uint32_t link_type);
  /// Appends one record: the whole `frame` captured at `ts_ns` (stored to the microsecond).
  void add(uint64_t ts_ns, std::span<const uint8_t> frame);
  /// The file so far.
  [[nodiscard]] const Bytes& bytes() const noexcept { return bytes_; }

 private:
  Bytes bytes_;
};

}  // namespace synscope::test
