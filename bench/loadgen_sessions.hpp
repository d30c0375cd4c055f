// loadgen_sessions: synscope-loadgen's traffic model, a pure function of (seed, session number, step).
//
// A session's kind, family, addresses, ports, ISNs and segment sizes are drawn from a hash of the seed and
// its number, so the generator keeps no state per session or per packet: the driver asks for step k of
// session n when it is due and gets the segment. Client addresses and ports are a bijection of the session
// number (port 1024 + n mod 64000, host bits n / 64000), so no two sessions share a 5-tuple and synscope
// never sees a reuse it was not told about. Each kind has the conn_state Zeek (and synscope) gives it and a
// fixed perspective from the internal/external draw. Immutable after construction; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "tcp_frame.hpp"

namespace synscope::bench {

/// Session kinds the generator synthesises, each with one verdict (expected_state()).
enum class SessionKind : uint8_t {
  kNormal,       ///< handshake, data both ways, FIN both ways: SF
  kRefused,      ///< SYN answered by RST-ACK: REJ
  kUnanswered,   ///< SYN and two retransmissions, no reply: S0 (ends on the attempt timer)
  kClientReset,  ///< handshake, one exchange, client RST: RSTO
  kServerReset,  ///< handshake, one exchange, server RST: RSTR
  kHalfOpen,     ///< SYN, then the client's FIN with no reply: SH
  kSynFlood,     ///< one SYN from a spoofed external source to an internal server: S0
  kCount
};
inline constexpr size_t kSessionKindCount = static_cast<size_t>(SessionKind::kCount);

/// Option spelling of each kind ("normal", "refused", ...).
[[nodiscard]] std::string_view kind_name(SessionKind k) noexcept;
/// Zeek's conn_state synscope must give each kind ("SF", "REJ", "S0", "RSTO", "RSTR", "SH", "S0").
[[nodiscard]] std::string_view expected_state(SessionKind k) noexcept;
/// True when expected_state(k) is one of synscope's failed states (S0, REJ, SH here).
[[nodiscard]] bool expected_failed(SessionKind k) noexcept;

/// Perspective of a session, as synscope names it (client = originator).
enum class Perspective : uint8_t { kInbound, kOutbound, kPrivate, kEdge, kCount };
inline constexpr size_t kPerspectiveCount = static_cast<size_t>(Perspective::kCount);
[[nodiscard]] std::string_view perspective_name(Perspective p) noexcept;

/// Frame sizes of data segments: a fixed on-wire size (64..1518, FCS included) or IMIX (7:4:1 of 64, 594,
/// 1518 bytes, drawn per session and direction). Handshake and teardown segments carry no payload.
struct FrameSizes {
  bool imix = false;
  uint16_t fixed = 64;
};

/// The traffic a generator run synthesises.
struct TrafficModel {
  uint64_t seed = 1;
  std::array<double, kSessionKindCount> shares{};  ///< relative weights; need not sum to 1
  double ipv6_share = 0.1;
  double client_internal_share = 0.6;  ///< non-flood sessions whose client is in 10/8 or fd00::/8
  double server_internal_share = 0.3;
  uint32_t exchanges = 1;   ///< request/response pairs in a normal session (1..8)
  uint32_t servers = 1024;  ///< distinct servers sessions go to
  FrameSizes sizes;
  FrameShape shape;
};

/// One session's identity, drawn from (seed, number).
struct SessionDesc {
  SessionKind kind = SessionKind::kNormal;
  Perspective perspective = Perspective::kEdge;
  uint8_t steps = 0;  ///< segments it sends
  Endpoints ends;
  uint32_t client_isn = 0, server_isn = 0;
  uint16_t client_payload = 0, server_payload = 0;  ///< payload of each data segment
};

/// Draws sessions and their segments. Construction validates nothing: the caller checks the options.
class SessionPlanner {
 public:
  explicit SessionPlanner(const TrafficModel& model) noexcept;

  /// Session `n`'s identity (kind, addresses, sizes).
  [[nodiscard]] SessionDesc describe(uint64_t n) const noexcept;
  /// Segment `step` (< d.steps) of the session `d`.
  [[nodiscard]] Segment segment(const SessionDesc& d, uint32_t step) const noexcept;
  /// Segments of the longest kind with a non-zero share: the period of a flow slot.
  [[nodiscard]] uint32_t max_steps() const noexcept { return max_steps_; }
  /// Segments a session of `k` sends.
  [[nodiscard]] uint32_t steps_of(SessionKind k) const noexcept;
  /// Symmetric hash of a session's 5-tuple: both directions give the same value (TX queue choice).
  [[nodiscard]] static uint32_t symmetric_hash(const Endpoints& e) noexcept;
  [[nodiscard]] const TrafficModel& model() const noexcept { return model_; }

 private:
  TrafficModel model_;
  std::array<double, kSessionKindCount> cumulative_{};
  size_t last_kind_ = 0;
  uint32_t max_steps_ = 1;
};

}  // namespace synscope::bench
