// support: helpers shared by the unit tests — scratch files, parsed-packet and session-traffic builders,
// and a pcap writer for those packets — so each test file does not rewrite them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace synscope::test {

/// A scratch file path, removed when the object goes.
class TempFile {
 public:
  explicit TempFile(const std::string& tag = "synscope-test");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Replaces the file's content.
  void write(const std::vector<uint8_t>& bytes) const;
  /// The file's whole content ("" when it cannot be read).
  [[nodiscard]] std::string read() const;

 private:
  std::string path_;
};

/// Reads a whole file ("" when it cannot be read).
[[nodiscard]] std::string read_file(const std::string& path);

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

/// The bytes of a raw-IPv4 pcap (link type 101, microsecond stamps) holding one IPv4/TCP frame per packet
/// (IPv4 only; TCP checksums are not filled in: replay them with checksums ignored).
[[nodiscard]] std::vector<uint8_t> pcap_of(const std::vector<engine::ParsedPacket>& packets);

}  // namespace synscope::test
