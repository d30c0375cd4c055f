// dpdk_port: ethdev and mempool set-up for the live data plane — the only library that includes
// rte_ethdev.h. Ports (and their mempool) are created once on the main lcore after rte_eal_init(), before
// any lcore is launched, and torn down after every lcore has returned; an RX lcore only calls receive()
// on the queues it was given. Start-up errors throw PortError naming the port and DPDK's reason.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "packet/packet.hpp"

namespace synscope::dpdk_port {

class PortError : public Error {
 public:
  explicit PortError(const std::string& message, ErrorKind kind = ErrorKind::kStartup) : Error(kind, message) {}
};

/// How every port is set up.
struct PortOptions {
  uint16_t rx_queues = 1;      ///< per port; > 1 needs RSS (or a sender that spreads, as net_memif)
  uint16_t rx_desc = 1024;     ///< descriptors per RX queue (the PMD may round it)
  bool rx_timestamps = false;  ///< ask for per-packet RX timestamps (net_pcap: the capture's times)
  uint32_t lcores = 1;         ///< lcores that will poll, for the mempool's per-lcore caches
  bool promiscuous = true;     ///< a tap port sees traffic for every address
  uint32_t mbufs = 0;          ///< mempool size; 0 = from queues, descriptors and lcores (net_pcap with
                               ///< infinite_rx=1 keeps the whole capture in mbufs and needs more)
};

/// The repeated 0x6d5a Toeplitz key: the hash is the same with source and destination swapped, so both
/// directions of a connection land in one queue (Woo & Park, "Scalable TCP session monitoring with
/// symmetric receive-side scaling"). 52 bytes covers every NIC's key size (i40e, ice: 52; most: 40).
inline constexpr uint8_t kSymmetricRssKey[52] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

/// One configured and started port.
struct Port {
  uint16_t id = 0;
  std::string name;  ///< DPDK device name (PCI address or vdev name)
  std::string driver;
  uint16_t rx_queues = 0;
  bool rss = false;            ///< symmetric RSS programmed (false: one queue, or the sender spreads)
  bool timestamps = false;     ///< RX timestamps delivered in the mbuf dynfield
  bool tcp_checksums = false;  ///< the NIC verifies TCP checksums (RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
};

/// The NIC's word on a received frame's L4 checksum, from the mbuf's RX offload flags.
[[nodiscard]] inline packet::NicChecksum nic_checksum(const rte_mbuf* m) noexcept {
  switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD: return packet::NicChecksum::kGood;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD: return packet::NicChecksum::kBad;
    case RTE_MBUF_F_RX_L4_CKSUM_NONE: return packet::NicChecksum::kNotInData;
    default: return packet::NicChecksum::kUnknown;
  }
}

/// NIC-level counters (rte_eth_stats); read from a control thread.
struct PortStats {
  uint64_t ipackets = 0, ibytes = 0, imissed = 0, ierrors = 0, rx_nombuf = 0;
};

/// Reads the RX timestamp DPDK stores in the mbuf dynfield (nanoseconds for most PMDs; net_pcap stores
/// the capture's time in microseconds, which `scale` corrects).
struct RxTimestamp {
  int offset = -1;
  uint64_t flag = 0;
  uint64_t scale = 1;
  [[nodiscard]] bool available() const noexcept { return offset >= 0; }
  /// The packet's timestamp in ns, or `fallback` when the mbuf carries none.
  [[nodiscard]] uint64_t ns(const rte_mbuf* m, uint64_t fallback) const noexcept {
    if ((m->ol_flags & flag) == 0) return fallback;
    return *RTE_MBUF_DYNFIELD(m, offset, const rte_mbuf_timestamp_t*) * scale;
  }
};

/// Every probed port (from -a or --vdev), configured, started and promiscuous; owns the mempool.
class Ports {
 public:
  /// Throws PortError when there is no port or a port refuses the configuration (named in the message).
  explicit Ports(const PortOptions& options);
  ~Ports();  ///< stops and closes the ports, frees the mempool
  Ports(const Ports&) = delete;
  Ports& operator=(const Ports&) = delete;

  [[nodiscard]] const std::vector<Port>& ports() const noexcept { return ports_; }
  [[nodiscard]] uint32_t mbufs() const noexcept { return mbufs_; }
  [[nodiscard]] PortStats stats(size_t index) const noexcept;
  /// Link status lines ("port 0 (net_pcap0): up 10 Gbps full-duplex"), for the start-up log.
  [[nodiscard]] std::string link_report() const;
  /// True when every port reports its link up (rte_eth_link_get_nowait; any thread).
  [[nodiscard]] bool links_up() const;
  /// The timestamp reader for ports started with rx_timestamps (offset -1 when not registered).
  [[nodiscard]] const RxTimestamp& rx_timestamp() const noexcept { return rx_timestamp_; }

 private:
  std::vector<Port> ports_;
  rte_mempool* pool_ = nullptr;
  uint32_t mbufs_ = 0;
  RxTimestamp rx_timestamp_;
};

/// Receives up to `n` packets from one queue (a thin name for rte_eth_rx_burst, so RX loops read plainly).
inline uint16_t receive(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept {
  return rte_eth_rx_burst(port, queue, pkts, n);
}

}  // namespace synscope::dpdk_port
