// frame_fuzzer: libFuzzer target for packet::parse_frame. The first input byte picks the link type and the
// options (checksums verified or not, deferred or not, the tunnel-depth limit); the rest is the frame, in a
// buffer of exactly its size so AddressSanitizer sees any read past it. Invariants beyond "no crash, no
// undefined behaviour": a TCP verdict has a sane header length and tunnel depth, and a deferred checksum
// gives the same verdict as one checked at once. IPv4 fragments also go through one FragmentTable kept across
// inputs, so fragments of different inputs meet and complete datagrams (parse_datagram); a completed
// datagram's verdict is checked as a frame's. One thread; built only in the clang fuzz build
// (meson -Dfuzz=true, scripts/fuzz.sh).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "packet/packet.hpp"

namespace {

using synscope::packet::DeferredChecksum;
using synscope::packet::FrameClass;
using synscope::packet::LinkType;

constexpr LinkType kLinks[] = {
    LinkType::kEthernet,   LinkType::kRaw,       LinkType::kNull,  LinkType::kLoop,      LinkType::kLinuxSll,
    LinkType::kLinuxSll2,  LinkType::kIpv4,      LinkType::kIpv6,  LinkType::kEthernet,  LinkType::kEthernet,
    LinkType::kPpp,        LinkType::kPppSerial, LinkType::kNflog, LinkType::kIeee80211, LinkType::kIeee80211Radio,
    LinkType::kUnsupported};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 262145) return 0;
  const uint8_t control = data[0];
  const LinkType link = kLinks[(control & 0x0f) % (sizeof(kLinks) / sizeof(kLinks[0]))];
  synscope::packet::ParseOptions options;
  options.verify_checksums = (control & 0x10) == 0;
  options.max_tunnel_depth = static_cast<uint8_t>((control >> 5) & 0x07);
  const std::vector<uint8_t> frame(data + 1, data + size);
  const auto caplen = static_cast<uint32_t>(frame.size());

  synscope::packet::PacketMeta now{};
  const FrameClass at_once = parse_frame(link, frame.data(), caplen, options, now);
  synscope::packet::PacketMeta later{};
  DeferredChecksum deferred;
  FrameClass with_deferral = parse_frame(link, frame.data(), caplen, options, later, &deferred);
  if (with_deferral == FrameClass::kTcp && deferred.ip != nullptr && !deferred.ok()) {
    with_deferral = FrameClass::kBadChecksum;
  }
  check(at_once == with_deferral);
  check(static_cast<size_t>(at_once) < synscope::packet::kFrameClassCount);
  if (at_once == FrameClass::kTcp || at_once == FrameClass::kBadChecksum) {
    check(now.tcp_header_len >= 20 && now.tcp_header_len <= 60);
    check(now.ip_version == 4 || now.ip_version == 6);
    check(now.tunnel_depth <= options.max_tunnel_depth);
    check(std::memcmp(&now.src, &later.src, sizeof(now.src)) == 0 && now.seq == later.seq);
  }

  static synscope::packet::FragmentTable fragments(64, 1'000'000);
  static uint64_t clock = 0;
  synscope::packet::FragmentView view;
  synscope::packet::PacketMeta whole{};
  const FrameClass split = parse_frame(link, frame.data(), caplen, options, whole, nullptr, nullptr, 0, &view);
  check(view.ip == nullptr || split == FrameClass::kFragment);
  synscope::packet::Datagram datagram;
  if (view.ip != nullptr && fragments.add(view, clock += 1000, datagram)) {
    const FrameClass v = parse_datagram(datagram, options, whole);
    check(static_cast<size_t>(v) < synscope::packet::kFrameClassCount);
    if (v == FrameClass::kTcp || v == FrameClass::kBadChecksum) {
      check(whole.tcp_header_len >= 20 && whole.tcp_header_len <= 60 && whole.ip_version != 0);
      check(whole.tunnel_depth != datagram.depth || whole.ip_len == datagram.total);
    }
  }
  return 0;
}
