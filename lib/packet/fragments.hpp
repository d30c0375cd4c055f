// fragments: IPv4 fragment reassembly without keeping the payload, as Zeek reassembles datagrams before it
// analyses them. A datagram is handed on once every byte of it arrived, at the time of the fragment that
// completed it, with the first fragment's headers (its first kHeadBytes bytes) to decode and the one's-
// complement sum of the whole payload, so the TCP checksum is still judged and the payload counts as
// captured. Fragments are summed apart: they start at multiples of 8 bytes, so their sums add up.
//
// One FragmentTable per thread that parses (the replay reader, each live RX poller); nothing is shared.
// Sized at construction, never allocates after; a datagram left incomplete for `timeout` or pushed out by
// a full table is dropped and counted. IPv6 fragments are not reassembled (counted as fragments, as before).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace synscope::packet {

/// One IPv4 fragment as the decoder met it (FragmentSink::fragment).
struct FragmentView {
  const uint8_t* ip = nullptr;  ///< the fragment's IPv4 header
  uint32_t captured = 0;        ///< bytes of this IP packet in the frame (header included)
  uint32_t total = 0;           ///< its total length (header included)
  uint32_t offset = 0;          ///< where its payload starts in the datagram's payload, bytes
  bool more = false;            ///< more fragments follow (MF)
  uint32_t encapsulations = 0;  ///< encapsulation_bit()s of the layers around it
  uint8_t depth = 0;            ///< tunnel layers around it
};

/// A reassembled datagram, valid until the next FragmentTable::add().
struct Datagram {
  const uint8_t* head = nullptr;  ///< the first fragment's IPv4 header and the start of the payload
  uint32_t head_len = 0;          ///< bytes at `head`
  uint32_t total = 0;             ///< the datagram's total length (header included)
  uint64_t payload_sum = 0;       ///< ones_complement_sum() of every payload byte, added
  bool payload_cut = false;       ///< some fragment was not captured whole: no sum, the payload counts as cut
  uint32_t encapsulations = 0;
  uint8_t depth = 0;
};

/// What a table did, for the accounting.
struct FragmentCounts {
  uint64_t fragments = 0;    ///< fragments taken in
  uint64_t reassembled = 0;  ///< datagrams completed
  uint64_t dropped = 0;      ///< datagrams given up: timed out, pushed out of a full table, or malformed
};

class FragmentTable {
 public:
  /// Bytes of the first fragment kept for decoding: IP header, tunnel headers, TCP header with options.
  static constexpr uint32_t kHeadBytes = 256;
  /// Received ranges kept per datagram; more (a fragment storm) gives the datagram up.
  static constexpr uint32_t kRanges = 8;

  /// Holds up to `capacity` datagrams at once; one incomplete after `timeout_ns` of packet time is dropped.
  FragmentTable(uint32_t capacity, uint64_t timeout_ns);

  /// Takes a fragment seen at `now_ns`. True when it completed its datagram (`out` then describes it).
  bool add(const FragmentView& f, uint64_t now_ns, Datagram& out) noexcept;

  [[nodiscard]] const FragmentCounts& counts() const noexcept { return counts_; }

 private:
  struct Range {
    uint32_t begin = 0, end = 0;
  };
  struct Entry {
    bool used = false;
    bool have_first = false;
    bool cut = false;
    bool end_known = false;
    uint8_t ranges_n = 0;
    uint8_t proto = 0;
    uint16_t id = 0;
    uint32_t src = 0, dst = 0;
    uint32_t end = 0;  ///< payload length, once the last fragment is seen
    uint64_t first_ns = 0;
    uint64_t sum = 0;
    uint32_t head_len = 0;
    uint32_t encapsulations = 0;
    uint8_t depth = 0;
    std::array<Range, kRanges> ranges{};
    std::array<uint8_t, kHeadBytes> head{};
  };

  Entry* find_or_take(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto, uint64_t now_ns) noexcept;

  std::vector<Entry> entries_;
  std::array<uint8_t, kHeadBytes> out_head_{};  ///< the completed datagram's head (Datagram::head)
  uint64_t timeout_ns_;
  FragmentCounts counts_;
};

}  // namespace synscope::packet
