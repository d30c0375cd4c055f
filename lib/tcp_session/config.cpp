// config: SessionConfig's defaults, Zeek's (init-bare.zeek timeouts, the full-mode likely_server_ports
// and Conn::port_inactivity_timeouts).
//
// Built once at start-up and then only read, by any number of threads.
#include "tcp_session/tcp_session.hpp"

namespace synscope::tcp_session {

SessionConfig::SessionConfig() noexcept : likely_server_ports(zeek_full_server_ports()) {
  for (uint16_t port : {21, 22, 23, 513}) long_lived_ports.set(port);
}

std::bitset<65536> SessionConfig::zeek_full_server_ports() noexcept {
  std::bitset<65536> ports;
  for (uint16_t port :
       {21,   22,   25,   53,   79,   80,   81,   88,   135,  139,  143,  389,  443,  445,  465,  502,  514,
        563,  585,  587,  614,  631,  636,  989,  990,  992,  993,  995,  1080, 1434, 1883, 2811, 3128, 3268,
        3306, 3389, 5222, 5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000}) {
    ports.set(port);
  }
  return ports;
}

}  // namespace synscope::tcp_session
