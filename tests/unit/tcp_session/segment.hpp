// segment: the PacketMeta of one crafted TCP segment between the tests' client (the key's lo side, port
// 40000) and server (port 80), shared by the tcp_session test files.
#pragma once

#include <cstdint>

#include "packet/packet.hpp"

namespace synscope::tcp_session::test {

[[nodiscard]] inline packet::PacketMeta segment(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack,
                                                uint32_t len, uint16_t window = 1000) {
  packet::PacketMeta m;
  m.ip_version = 4;
  m.src_port = from_client ? 40000 : 80;
  m.dst_port = from_client ? 80 : 40000;
  m.flags = flags;
  m.seq = seq;
  m.ack = ack;
  m.window = window;
  m.payload_len = len;
  m.ip_len = 40 + len;
  return m;
}

}  // namespace synscope::tcp_session::test
