// packets: ParsedPacket and session-traffic builders for tests that feed the engine directly, and the pcap
// of such packets for tests that feed a capture, so each test does not rewrite them. Deterministic
// functions over values, no state.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine.hpp"
#include "support/frames.hpp"

namespace synscope::test {

/// One TCP segment between client 10.0.0.<client> and server <server_first_octet>.0.0.1, port 80.
[[nodiscard]] engine::ParsedPacket tcp_pkt(uint64_t t, uint8_t client_last_octet, uint16_t cport, bool from_client,
                                           uint8_t flags, uint32_t seq, uint32_t ack = 0,
                                           uint8_t server_first_octet = 93);

/// A time-ordered mix of `sessions` TCP sessions starting every `gap_ns` from `start_ns`, each (by a seeded
/// draw) normal with a FIN close, refused (REJ), unanswered (S0, with a SYN retransmit), reset by the
/// client after the handshake, or left open; clients and servers spread over internal and external
/// addresses, so every perspective occurs. Deterministic for a seed.
[[nodiscard]] std::vector<engine::ParsedPacket> mixed_sessions(uint32_t sessions, uint64_t seed,
                                                               uint64_t start_ns = 1'700'000'000'000'000'000ull,
                                                               uint64_t gap_ns = 50'000'000);

/// The frame that parses back to `p`'s addresses, ports, sequence numbers, flags and window: IPv4 (DF set)
/// or IPv6 by `p.meta.ip_version`, a 20-byte TCP header with a correct checksum and no payload, framed for
/// `link` (kRaw: the IP packet alone; kEthernet: in an Ethernet II frame).
[[nodiscard]] Bytes frame_of(const engine::ParsedPacket& p, packet::LinkType link = packet::LinkType::kRaw);

/// The bytes of a pcap (microsecond stamps) of link type `link` (kRaw or kEthernet) holding frame_of(p)
/// for each packet, at its time.
[[nodiscard]] Bytes pcap_of(const std::vector<engine::ParsedPacket>& packets,
                            packet::LinkType link = packet::LinkType::kRaw);

}  // namespace synscope::test
