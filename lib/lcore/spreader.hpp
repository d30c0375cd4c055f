// spreader: hands parsed packets to the engine cores that own their flows (spread mode: single-queue ports
// such as net_pcap or net_af_packet, where the NIC cannot spread flows by RSS). Each packet goes to the
// engine picked by the symmetric flow hash (flow::FlowHasher::dispatch), so both directions of a flow meet
// on one core; untracked frames are only counted and go round-robin. Packets are gathered into one open
// burst per engine and published when full or at flush().
//
// Owned by one spread RX lcore (the producer of each channel); never allocates, locks or throws. Needs no
// EAL (the channels work on plain memory), so it is unit-tested on its own.
#pragma once

#include <cstdint>
#include <vector>

#include "channel/channel.hpp"
#include "engine/engine.hpp"
#include "flow/flow.hpp"

namespace synscope::lcore {

class Spreader {
 public:
  using Channel = channel::BurstChannel<channel::Burst>;

  /// One channel per engine core, in engine order. `lossless`: wait for a busy engine instead of dropping
  /// (file-fed ports, where waiting loses nothing).
  Spreader(std::vector<Channel*> out, const flow::FlowHasher& hasher, bool lossless)
      : out_(std::move(out)), open_(out_.size(), nullptr), hasher_(hasher), lossless_(lossless) {}

  /// Hands each packet to its engine's open burst; returns how many were dropped because the engine was
  /// behind and every burst of its channel was in flight (never with `lossless`).
  uint32_t spread(const engine::ParsedPacket* pkts, uint32_t n) noexcept {
    const auto workers = static_cast<uint32_t>(out_.size());
    uint32_t dropped = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const engine::ParsedPacket& p = pkts[i];
      uint32_t w = 0;
      if (workers > 1) w = engine::is_tracked(p.frame_class) ? hasher_.dispatch(p.meta) % workers : i % workers;
      channel::Burst*& b = open_[w];
      if (b == nullptr) {
        if ((b = out_[w]->try_acquire()) == nullptr) {
          if (!lossless_) {
            ++dropped;
            continue;
          }
          b = out_[w]->acquire();
        }
        b->n = 0;
      }
      b->pkts[b->n++] = p;
      if (b->n == channel::kBurstSize) {
        out_[w]->publish(b);
        b = nullptr;
      }
    }
    return dropped;
  }

  /// Publishes every partly filled burst (latency: a partial burst never waits for more traffic).
  void flush() noexcept {
    for (size_t w = 0; w < open_.size(); ++w) {
      if (open_[w] != nullptr && open_[w]->n > 0) {
        out_[w]->publish(open_[w]);
        open_[w] = nullptr;
      }
    }
  }

 private:
  std::vector<Channel*> out_;
  std::vector<channel::Burst*> open_;  ///< the burst being filled for each engine
  flow::FlowHasher hasher_;
  bool lossless_;
};

}  // namespace synscope::lcore
