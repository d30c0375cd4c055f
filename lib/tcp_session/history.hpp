// history: Zeek's history letters (Connection::CheckHistory, ScaledHistoryEntry, TCPSessionAdapter's
// per-segment rules), written into a Session by the update path. Internal to lib/tcp_session and included by
// update.cpp only: file-local functions (an anonymous namespace), so they are compiled into update() as if
// written in its file.
//
// Functions over one Session, which belongs to the RX core whose FlowTable holds it: not thread-safe, and
// no need to be.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "tcp_session/tcp_session.hpp"

namespace synscope::tcp_session {
namespace {

namespace tf = packet::tcp_flag;

// Letters recorded once per role (Zeek's HIST_* masks); the responder's copy is shifted left by 8.
enum HistBit : uint16_t {
  kHistSyn = 1u << 0,
  kHistFin = 1u << 1,
  kHistRst = 1u << 2,
  kHistFinRst = 1u << 3,
  kHistData = 1u << 4,
  kHistAck = 1u << 5,
  kHistMulti = 1u << 6,
};

void add_history(Session& s, char c) noexcept {
  if (s.history_len < kHistoryMax) {
    s.history[s.history_len++] = c;
  } else {
    s.history_truncated = true;
  }
}

inline char role_case(char c, bool is_orig) noexcept { return is_orig ? c : static_cast<char>(c - 'A' + 'a'); }

// Zeek's Connection::CheckHistory: records `code` the first time this role sees `bit`; returns whether
// the bit had been seen before.
bool check_history(Session& s, bool is_orig, uint16_t bit, char code) noexcept {
  const auto mask = static_cast<uint16_t>(is_orig ? bit : bit << 8);
  if (s.hist_seen & mask) return true;
  s.hist_seen |= mask;
  add_history(s, role_case(code, is_orig));
  return false;
}

// Zeek's ScaledHistoryEntry records the letter on the 1st, 10th, 100th, ... occurrence: its uint32 threshold
// starts at 1 and is multiplied by 10 after each letter unless that would not grow it. The sequence has 11
// values (10^9 * 10 wraps to 1410065408, and the next product wraps below it), so an endpoint keeps the
// number of letters recorded (one byte) instead of the threshold.
constexpr std::array<uint32_t, 11> kScaledThresholds = {
    1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000, 1'410'065'408};

void scaled_history(Session& s, bool is_orig, uint32_t& counter, uint8_t& level, char code) noexcept {
  if (++counter == kScaledThresholds[level]) {
    add_history(s, role_case(code, is_orig));
    if (level + 1u < kScaledThresholds.size()) ++level;
  }
}

// Swaps the originator's and the responder's state: endpoints, marks, letter levels and once-per-role letters.
void swap_sides(Session& s) noexcept {
  std::swap(s.ep[0], s.ep[1]);
  std::swap(s.marks[0], s.marks[1]);
  std::swap(s.levels[0], s.levels[1]);
  s.hist_seen = static_cast<uint16_t>((s.hist_seen >> 8) | (s.hist_seen << 8));
}

void flip_roles(Session& s) noexcept {
  swap_sides(s);
  add_history(s, '^');
}

// The letters of a segment without SYN, FIN or RST: data, else a pure ACK.
inline void update_plain_history(Session& s, bool is_orig, uint8_t flags, uint32_t len) noexcept {
  if (len > 0) {
    check_history(s, is_orig, kHistData, 'D');
  } else if (flags & tf::kAck) {
    check_history(s, is_orig, kHistAck, 'A');
  }
}

void update_history(Session& s, bool is_orig, uint8_t flags, int32_t rel_seq, uint32_t len) noexcept {
  EndpointMarks& e = s.marks[is_orig ? 0 : 1];
  const bool syn = flags & tf::kSyn, fin = flags & tf::kFin, rst = flags & tf::kRst;
  const int bits = int{syn} + int{fin} + int{rst};
  if (bits > 1) {
    if (fin && rst) {
      check_history(s, is_orig, kHistFinRst, 'I');
    } else {
      check_history(s, is_orig, kHistMulti, 'Q');
    }
  } else if (bits == 1) {
    if (syn) {
      const char code = (flags & tf::kAck) ? 'H' : 'S';
      if (check_history(s, is_orig, kHistSyn, code) && rel_seq != e.hist_last_syn) {
        add_history(s, role_case(code, is_orig));
      }
      e.hist_last_syn = rel_seq;
    }
    if (fin) {
      // A FIN's sequence number counts from the end of the data it carries.
      // A segment's payload fits 16 bits (an IP packet's length does).
      const uint16_t fin_len = static_cast<uint16_t>(len < UINT16_MAX ? len : UINT16_MAX);
      const int64_t fin_seq = int64_t{rel_seq} + fin_len;
      if (check_history(s, is_orig, kHistFin, 'F') && fin_seq != int64_t{e.hist_last_fin} + e.hist_last_fin_len) {
        add_history(s, role_case('F', is_orig));
      }
      e.hist_last_fin = rel_seq;
      e.hist_last_fin_len = fin_len;
    }
    if (rst) {
      if (check_history(s, is_orig, kHistRst, 'R') && rel_seq != e.hist_last_rst) {
        add_history(s, role_case('R', is_orig));
      }
      e.hist_last_rst = rel_seq;
    }
  } else {
    update_plain_history(s, is_orig, flags, len);
  }
}

}  // namespace
}  // namespace synscope::tcp_session
