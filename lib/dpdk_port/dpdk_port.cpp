// dpdk_port: see dpdk_port.hpp.
#include "dpdk_port/dpdk_port.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>

#include <cstdio>
#include <cstring>

namespace synscope::dpdk_port {
namespace {

std::string port_label(uint16_t id, const std::string& name) {
  return "port " + std::to_string(id) + " (" + name + ")";
}

void check(int ret, const std::string& port, const char* what) {
  if (ret < 0) throw PortError(port + ": " + what + " failed: " + rte_strerror(-ret));
}

}  // namespace

Ports::Ports(const PortOptions& options) {
  const uint16_t count = rte_eth_dev_count_avail();
  if (count == 0) {
    throw PortError("no DPDK port: give one with -a <PCI address> or --vdev (e.g. --vdev net_pcap0,rx_pcap=FILE)",
                    ErrorKind::kInput);
  }
  if (options.rx_queues == 0) throw PortError("--rx-queues must be at least 1", ErrorKind::kUsage);

  // Mempool: every RX descriptor can hold an mbuf, plus one burst in flight and the per-lcore caches.
  constexpr uint32_t kCache = 256;
  const uint32_t per_queue = options.rx_desc + 64;
  uint64_t want = uint64_t{count} * options.rx_queues * per_queue + uint64_t{options.lcores + 1} * kCache + 1024;
  uint32_t n = 1;
  while (n < want + 1) n <<= 1;
  mbufs_ = options.mbufs != 0 ? options.mbufs : n - 1;  // a power of two minus one is the mempool's best size
  pool_ = rte_pktmbuf_pool_create("synscope_rx", mbufs_, kCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                  static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    throw PortError("cannot create a mempool of " + std::to_string(mbufs_) + " mbufs: " + rte_strerror(rte_errno) +
                    " (give EAL more memory with -m, or fewer --rx-desc/--rx-queues)");
  }

  if (options.rx_timestamps) {
    check(rte_mbuf_dyn_rx_timestamp_register(&rx_timestamp_.offset, &rx_timestamp_.flag), "RX timestamps",
          "rte_mbuf_dyn_rx_timestamp_register");
  }

  uint16_t id = 0;
  RTE_ETH_FOREACH_DEV(id) {
    char name_buf[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(id, name_buf);
    Port port;
    port.id = id;
    port.name = name_buf;
    const std::string label = port_label(id, port.name);
    rte_eth_dev_info info{};
    check(rte_eth_dev_info_get(id, &info), label, "rte_eth_dev_info_get");
    port.driver = info.driver_name != nullptr ? info.driver_name : "";
    if (options.rx_queues > info.max_rx_queues) {
      throw PortError(label + ": --rx-queues " + std::to_string(options.rx_queues) + " exceeds the port's " +
                      std::to_string(info.max_rx_queues) + " RX queues");
    }
    port.rx_queues = options.rx_queues;

    rte_eth_conf conf{};
    uint8_t key[sizeof(kSymmetricRssKey)];
    std::memcpy(key, kSymmetricRssKey, sizeof(key));
    const uint64_t rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
    if (port.rx_queues > 1 && rss_hf != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_key = key;
      conf.rx_adv_conf.rss_conf.rss_key_len =
          info.hash_key_size != 0 && info.hash_key_size <= sizeof(key) ? info.hash_key_size : 40;
      conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
      port.rss = true;
    }
    if (options.rx_timestamps) {
      // net_pcap stamps every mbuf with the capture's time (in microseconds) without advertising the
      // offload; NICs that can timestamp advertise it and use nanoseconds.
      if (port.driver == "net_pcap") {
        rx_timestamp_.scale = 1000;
      } else if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) != 0) {
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
      } else {
        throw PortError(label + ": the port cannot deliver RX timestamps, which --clock packet needs");
      }
      port.timestamps = true;
    }
    // A NIC that verifies TCP checksums spares the RX core the sum over every payload byte (its largest
    // parsing cost); frames without the NIC's word are still summed in software (packet::DeferredChecksum).
    if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0) {
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
      port.tcp_checksums = true;
    }
    // TX queues are configured (some PMDs, such as net_memif, pair them with RX queues) but never used.
    check(rte_eth_dev_configure(id, port.rx_queues, port.rx_queues, &conf), label, "rte_eth_dev_configure");
    uint16_t rx_desc = options.rx_desc, tx_desc = 512;
    check(rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_desc, &tx_desc), label, "rte_eth_dev_adjust_nb_rx_tx_desc");
    const int socket = rte_eth_dev_socket_id(id);
    for (uint16_t q = 0; q < port.rx_queues; ++q) {
      rte_eth_rxconf rxconf = info.default_rxconf;
      rxconf.offloads = conf.rxmode.offloads;
      check(rte_eth_rx_queue_setup(id, q, rx_desc, socket < 0 ? SOCKET_ID_ANY : socket, &rxconf, pool_), label,
            "rte_eth_rx_queue_setup");
      check(rte_eth_tx_queue_setup(id, q, tx_desc, socket < 0 ? SOCKET_ID_ANY : socket, nullptr), label,
            "rte_eth_tx_queue_setup");
    }
    check(rte_eth_dev_start(id), label, "rte_eth_dev_start");
    if (options.promiscuous) (void)rte_eth_promiscuous_enable(id);  // vdevs may not support it: harmless
    ports_.push_back(port);
  }
}

Ports::~Ports() {
  for (const Port& p : ports_) {
    (void)rte_eth_dev_stop(p.id);
    (void)rte_eth_dev_close(p.id);
  }
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

PortStats Ports::stats(size_t index) const noexcept {
  PortStats out;
  rte_eth_stats s{};
  if (index < ports_.size() && rte_eth_stats_get(ports_[index].id, &s) == 0) {
    out.ipackets = s.ipackets;
    out.ibytes = s.ibytes;
    out.imissed = s.imissed;
    out.ierrors = s.ierrors;
    out.rx_nombuf = s.rx_nombuf;
  }
  return out;
}

bool Ports::links_up() const {
  for (const Port& p : ports_) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(p.id, &link) != 0 || link.link_status != RTE_ETH_LINK_UP) return false;
  }
  return !ports_.empty();
}

std::string Ports::link_report() const {
  std::string out;
  for (const Port& p : ports_) {
    rte_eth_link link{};
    std::string text = "link unknown";
    if (rte_eth_link_get_nowait(p.id, &link) == 0) {
      char buf[64];
      if (link.link_status != RTE_ETH_LINK_UP) {
        std::snprintf(buf, sizeof(buf), "link down");
      } else {
        std::snprintf(buf, sizeof(buf), "link up %u Mbps %s", link.link_speed,
                      link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full-duplex" : "half-duplex");
      }
      text = buf;
    }
    out += port_label(p.id, p.name) + " [" + p.driver + "]: " + text + ", " + std::to_string(p.rx_queues) +
           " RX queue(s)" + (p.rss ? ", symmetric RSS" : "") + (p.timestamps ? ", RX timestamps" : "") +
           (p.tcp_checksums ? ", TCP checksums by the NIC" : "") + "\n";
  }
  return out;
}

}  // namespace synscope::dpdk_port
