// vdev_inputs: checks, before EAL starts, the files and interfaces the `--vdev` arguments name.
//
// A net_pcap vdev whose rx_pcap file is missing fails its probe inside EAL, which then starts with no port,
// and all a user read was "no DPDK port". The same for an af_packet vdev on a missing interface. Checked
// here, the error names the vdev, the file or interface and errno (exit 2, input unreadable).
#pragma once

#include <string_view>
#include <vector>

namespace synscope::app {

/// The device strings of the `--vdev X` and `--vdev=X` arguments among `eal_args`, in order.
[[nodiscard]] std::vector<std::string_view> vdev_specs(const std::vector<char*>& eal_args);

/// Throws Error(kInput) naming the vdev and its file or interface when a net_pcap vdev's rx_pcap/rx_iface
/// input cannot be opened, its tx_pcap directory does not exist, or a net_af_packet vdev's iface does not
/// exist. `eal_args` are the arguments before `--` (argv[0] first).
void check_vdev_inputs(const std::vector<char*>& eal_args);

}  // namespace synscope::app
