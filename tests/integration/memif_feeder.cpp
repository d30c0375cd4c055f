// memif_feeder: the sending side of the net_memif integration test. A DPDK process (memif server) that
// reads a capture and transmits every Ethernet frame on one of N queue pairs chosen by the symmetric flow
// hash — what a NIC's symmetric RSS would do — so synscope (memif client, N RX queues, one RX lcore per
// queue) must see each connection whole on one lcore. Frames that are not TCP go to queue 0.
// Usage: memif-feeder [EAL options] -- CAPTURE QUEUES
// Prints "sent N" once every frame was accepted by the ring, then exits 0 when stdin closes; 1 on error.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "capture/capture.hpp"
#include "engine/engine.hpp"

int main(int argc, char** argv) {
  const int consumed = rte_eal_init(argc, argv);
  if (consumed < 0) {
    std::fprintf(stderr, "memif-feeder: EAL init failed\n");
    return 1;
  }
  argc -= consumed;
  argv += consumed;
  if (argc != 3) {
    std::fprintf(stderr, "usage: memif-feeder [EAL] -- CAPTURE QUEUES\n");
    return 1;
  }
  const auto queues = static_cast<uint16_t>(std::atoi(argv[2]));
  rte_mempool* pool = rte_pktmbuf_pool_create("feeder", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr || rte_eth_dev_count_avail() != 1 || queues == 0) {
    std::fprintf(stderr, "memif-feeder: need one port, a mempool and QUEUES > 0\n");
    return 1;
  }
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(0, queues, queues, &conf) != 0) return 1;
  for (uint16_t q = 0; q < queues; ++q) {
    if (rte_eth_rx_queue_setup(0, q, 512, SOCKET_ID_ANY, nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(0, q, 512, SOCKET_ID_ANY, nullptr) != 0) {
      std::fprintf(stderr, "memif-feeder: queue setup failed\n");
      return 1;
    }
  }
  if (rte_eth_dev_start(0) != 0) return 1;
  // Wait for the peer (synscope) to connect: memif's link comes up then.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  rte_eth_link link{};
  while (rte_eth_link_get_nowait(0, &link) == 0 && link.link_status != RTE_ETH_LINK_UP) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "memif-feeder: peer never connected\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  synscope::capture::CaptureReader reader(argv[1]);
  const synscope::engine::FrameParser classifier(synscope::packet::ParseOptions{});
  const synscope::flow::FlowHasher dispatcher(1, 2);
  synscope::capture::Frame frame;
  uint64_t sent = 0;
  while (reader.next(frame) == synscope::capture::CaptureReader::Next::kFrame) {
    synscope::engine::ParsedPacket p;
    classifier.parse(frame.link, frame.data, frame.caplen, frame.ts_ns, p);
    const uint16_t q =
        synscope::engine::is_tracked(p.frame_class) ? static_cast<uint16_t>(dispatcher.dispatch(p.meta) % queues) : 0;
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    while (m == nullptr) {  // every mbuf is in a ring the peer has not drained yet
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      m = rte_pktmbuf_alloc(pool);
    }
    char* dst = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.caplen));
    if (dst == nullptr) {
      rte_pktmbuf_free(m);
      continue;  // larger than an mbuf: not part of the test captures
    }
    std::memcpy(dst, frame.data, frame.caplen);
    while (rte_eth_tx_burst(0, q, &m, 1) == 0) std::this_thread::sleep_for(std::chrono::microseconds(20));
    ++sent;
  }
  std::printf("sent %llu\n", static_cast<unsigned long long>(sent));
  std::fflush(stdout);
  // Stay connected until told to go (stdin closes): tearing the memif link down while the peer's RX lcore
  // still polls it races inside DPDK 22.11's memif PMD (the peer's regions are unmapped under it).
  while (std::getchar() != EOF) {
  }
  rte_eth_dev_stop(0);
  rte_eal_cleanup();
  return 0;
}
