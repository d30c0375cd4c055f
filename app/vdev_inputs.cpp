// vdev_inputs: see vdev_inputs.hpp.
#include "vdev_inputs.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "error/error.hpp"

namespace synscope::app {
namespace {

/// The value of `key=` in a vdev's comma-separated arguments, or "" (only the first occurrence).
std::string_view vdev_arg(std::string_view vdev, std::string_view key) {
  size_t at = 0;
  while (at < vdev.size()) {
    const size_t comma = vdev.find(',', at);
    const std::string_view item = vdev.substr(at, comma == std::string_view::npos ? vdev.npos : comma - at);
    if (item.size() > key.size() && item.substr(0, key.size()) == key && item[key.size()] == '=') {
      return item.substr(key.size() + 1);
    }
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return {};
}

[[noreturn]] void unreadable(std::string_view vdev, std::string_view what, const std::string& name, int err) {
  throw Error(ErrorKind::kInput, "--vdev " + std::string(vdev.substr(0, vdev.find(','))) + ": " + std::string(what) +
                                     " " + name + ": " + std::strerror(err));
}

}  // namespace

std::vector<std::string_view> vdev_specs(const std::vector<char*>& eal_args) {
  std::vector<std::string_view> specs;
  for (size_t i = 0; i < eal_args.size(); ++i) {
    std::string_view a = eal_args[i];
    if (a == "--vdev" && i + 1 < eal_args.size()) {
      specs.push_back(eal_args[++i]);
    } else if (a.rfind("--vdev=", 0) == 0) {
      specs.push_back(a.substr(7));
    }
  }
  return specs;
}

void check_vdev_inputs(const std::vector<char*>& eal_args) {
  for (const std::string_view vdev : vdev_specs(eal_args)) {
    if (vdev.rfind("net_pcap", 0) == 0) {
      if (const std::string file(vdev_arg(vdev, "rx_pcap")); !file.empty()) {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) unreadable(vdev, "cannot read rx_pcap", file, errno);
        ::close(fd);
      }
      if (const std::string file(vdev_arg(vdev, "tx_pcap")); !file.empty()) {
        const size_t slash = file.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : file.substr(0, slash == 0 ? 1 : slash);
        if (::access(dir.c_str(), W_OK) != 0) unreadable(vdev, "cannot write tx_pcap", file, errno);
      }
      for (const char* key : {"rx_iface", "rx_iface_in", "iface"}) {
        if (const std::string name(vdev_arg(vdev, key)); !name.empty() && ::if_nametoindex(name.c_str()) == 0) {
          unreadable(vdev, "no interface", std::string(key) + "=" + name, errno);
        }
      }
    } else if (vdev.rfind("net_af_packet", 0) == 0) {
      if (const std::string name(vdev_arg(vdev, "iface")); !name.empty() && ::if_nametoindex(name.c_str()) == 0) {
        unreadable(vdev, "no interface", "iface=" + name, errno);
      }
    }
  }
}

}  // namespace synscope::app
