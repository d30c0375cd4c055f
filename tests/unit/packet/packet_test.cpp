// Frame decoding: every encapsulation we claim, checksums, and bounds safety on truncated input.
#include "packet/packet.hpp"
#include "packet/encapsulation.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <bit>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "support/frames.hpp"

namespace synscope::packet {
namespace {

using test::Bytes;
using test::ether;
using test::ipv4;
using test::ipv6;
using test::kClient4;
using test::kClient6;
using test::kServer6;
using test::tcp_segment;
using test::TcpFields;

// A TCP segment (40000 -> 80, seq 256) with a correct checksum, between kClient4 and kServer4 or, for v6,
// between kClient6 and kServer6.
Bytes tcp(uint8_t flags, size_t payload, size_t options = 0) {
  return test::tcp_segment({.flags = flags, .options = options, .payload = payload});
}
Bytes tcp6(uint8_t flags, size_t payload) {
  return test::tcp_segment({.flags = flags, .payload = payload}, test::kClient6, test::kServer6);
}

FrameClass parse(const Bytes& f, PacketMeta& m, LinkType link = LinkType::kEthernet, bool verify = true) {
  ParseOptions o;
  o.verify_checksums = verify;
  return parse_frame(link, f.data(), static_cast<uint32_t>(f.size()), o, m);
}

Bytes v4_segment(uint8_t flags = tcp_flag::kSyn, size_t payload = 0) { return ipv4(tcp(flags, payload)); }

TEST(Parse, EthernetIpv4Tcp) {
  PacketMeta m;
  ASSERT_EQ(parse(ether(0x0800, v4_segment(tcp_flag::kSyn, 5)), m), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 4);
  EXPECT_EQ(m.src_port, 40000);
  EXPECT_EQ(m.dst_port, 80);
  EXPECT_EQ(m.seq, 256u);
  EXPECT_EQ(m.flags, tcp_flag::kSyn);
  EXPECT_EQ(m.payload_len, 5u);
  EXPECT_EQ(m.ip_len, 45u);
  EXPECT_EQ(std::memcmp(m.src.bytes.data(), kClient4.data(), 4), 0);
}

TEST(Parse, Ipv4OptionsAndTcpOptions) {
  PacketMeta m;
  const Bytes f = ether(0x0800, ipv4(tcp(tcp_flag::kAck, 3, 12), 6, 8));
  ASSERT_EQ(parse(f, m), FrameClass::kTcp);
  EXPECT_EQ(m.tcp_header_len, 32);
  EXPECT_EQ(m.payload_len, 3u);
}

TEST(Parse, VlanQinqAndOld9100) {
  PacketMeta m;
  EXPECT_EQ(parse(ether(0x0800, v4_segment(), {0x81, 0x00, 0x00, 0x05}), m), FrameClass::kTcp);
  EXPECT_EQ(parse(ether(0x0800, v4_segment(), {0x88, 0xa8, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06}), m), FrameClass::kTcp);
  EXPECT_EQ(parse(ether(0x0800, v4_segment(), {0x91, 0x00, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06}), m), FrameClass::kTcp);
}

TEST(Parse, MplsStack) {
  PacketMeta m;
  Bytes labels = {0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40};  // two labels, second has BoS
  Bytes payload = labels;
  const Bytes seg = v4_segment();
  payload.insert(payload.end(), seg.begin(), seg.end());
  EXPECT_EQ(parse(ether(0x8847, payload), m), FrameClass::kTcp);
}

TEST(Parse, PppoeSession) {
  PacketMeta m;
  Bytes p = {0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x21};
  const Bytes seg = v4_segment();
  p.insert(p.end(), seg.begin(), seg.end());
  EXPECT_EQ(parse(ether(0x8864, p), m), FrameClass::kTcp);
}

// Zeek's VNTag analyzer: 6 bytes (tag, then an ethertype) that lead on only to a VLAN tag.
TEST(Parse, VnTagBeforeAVlanTag) {
  PacketMeta m;
  const Bytes vntag_vlan = {0x89, 0x26, 0x80, 0x01, 0x00, 0x02, 0x81, 0x00, 0x00, 0x05};
  ASSERT_EQ(parse(ether(0x0800, v4_segment(), vntag_vlan), m), FrameClass::kTcp);
  EXPECT_EQ(m.dst_port, 80);
  EXPECT_EQ(m.tunnel_depth, 0);  // a link-layer tag, not a tunnel
  // Straight to IPv4 after the tag: Zeek's VN-Tag dispatch table has no IP entry.
  EXPECT_EQ(parse(ether(0x0800, v4_segment(), {0x89, 0x26, 0x80, 0x01, 0x00, 0x02}), m), FrameClass::kNotIp);
  EXPECT_EQ(parse(ether(0x8926, {0x80, 0x01, 0x00, 0x02, 0x81, 0x00}), m), FrameClass::kTruncated);
}

// IEEE 802.3 with an 802.2 LLC/SNAP header, as Zeek's Ethernet and SNAP analyzers.
TEST(Parse, Ieee8023LlcSnap) {
  PacketMeta m;
  const Bytes seg = v4_segment(tcp_flag::kSyn, 3);
  auto dot3 = [](const Bytes& llc, const Bytes& payload, size_t length) {
    Bytes body = llc;
    body.insert(body.end(), payload.begin(), payload.end());
    return ether(static_cast<uint16_t>(length), body);
  };
  const Bytes snap_ip = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00};
  ASSERT_EQ(parse(dot3(snap_ip, seg, 8 + seg.size()), m), FrameClass::kTcp);
  EXPECT_EQ(m.payload_len, 3u);
  EXPECT_EQ(std::memcmp(m.src.bytes.data(), kClient4.data(), 4), 0);
  // A numbered (I-format) control field makes the LLC header 4 bytes.
  const Bytes snap_i = {0xaa, 0xaa, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00};
  EXPECT_EQ(parse(dot3(snap_i, seg, 9 + seg.size()), m), FrameClass::kTcp);
  const Bytes seg6 = ipv6(tcp6(tcp_flag::kSyn, 0));
  const Bytes snap_ip6 = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd};
  ASSERT_EQ(parse(dot3(snap_ip6, seg6, 8 + seg6.size()), m), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  // A vendor OUI, a plain LLC header, Novell raw 802.3: not IP.
  EXPECT_EQ(parse(dot3({0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x08, 0x00}, seg, 8 + seg.size()), m), FrameClass::kNotIp);
  EXPECT_EQ(parse(dot3({0x06, 0x06, 0x03}, seg, 3 + seg.size()), m), FrameClass::kNotIp);
  EXPECT_EQ(parse(dot3({0xff, 0xff}, seg, 2 + seg.size()), m), FrameClass::kNotIp);
  // The length field claims more than was captured; a value between 1500 and 1536 is neither.
  EXPECT_EQ(parse(dot3(snap_ip, seg, 9 + seg.size()), m), FrameClass::kTruncated);
  EXPECT_EQ(parse(dot3(snap_ip, seg, 1510), m), FrameClass::kBadL2);
  EXPECT_EQ(parse(dot3({0xaa, 0xaa, 0x03, 0x00}, {}, 4), m), FrameClass::kTruncated);
}

// LINKTYPE_PPP (9) and LINKTYPE_PPP_HDLC (50), as Zeek's PPP and PPPSerial analyzers.
TEST(Parse, PppLinkTypes) {
  EXPECT_EQ(link_type_of(9), LinkType::kPpp);
  EXPECT_EQ(link_type_of(50), LinkType::kPppSerial);
  PacketMeta m;
  const Bytes seg = v4_segment();
  auto with = [](Bytes head, const Bytes& body) {
    head.insert(head.end(), body.begin(), body.end());
    return head;
  };
  ASSERT_EQ(parse(with({0xff, 0x03, 0x00, 0x21}, seg), m, LinkType::kPppSerial), FrameClass::kTcp);
  EXPECT_EQ(m.src_port, 40000);
  EXPECT_EQ(m.tunnel_depth, 0);
  // PPP serial does not check the address and control bytes (Cisco HDLC-like framing: 0x0f 0x00).
  EXPECT_EQ(parse(with({0x0f, 0x00, 0x00, 0x21}, seg), m, LinkType::kPppSerial), FrameClass::kTcp);
  ASSERT_EQ(parse(with({0xff, 0x03, 0x00, 0x57}, ipv6(tcp6(tcp_flag::kSyn, 0))), m, LinkType::kPppSerial),
            FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  // MPLS (0x0281): one label with bottom-of-stack, then IPv4.
  EXPECT_EQ(parse(with({0xff, 0x03, 0x02, 0x81, 0x00, 0x01, 0x01, 0x40}, seg), m, LinkType::kPppSerial),
            FrameClass::kTcp);
  EXPECT_EQ(parse(with({0xff, 0x03, 0xc0, 0x21}, Bytes(20, 0)), m, LinkType::kPppSerial), FrameClass::kNotIp);  // LCP
  EXPECT_EQ(parse({0xff, 0x03, 0x00, 0x21}, m, LinkType::kPppSerial), FrameClass::kTruncated);
  // LINKTYPE_PPP: with or without the HDLC bytes; a compressed 1-byte protocol is not recognised.
  EXPECT_EQ(parse(with({0xff, 0x03, 0x00, 0x21}, seg), m, LinkType::kPpp), FrameClass::kTcp);
  EXPECT_EQ(parse(with({0x00, 0x21}, seg), m, LinkType::kPpp), FrameClass::kTcp);
  EXPECT_EQ(parse(with({0x21}, seg), m, LinkType::kPpp), FrameClass::kNotIp);
  EXPECT_EQ(parse({0xff, 0x03, 0x00}, m, LinkType::kPpp), FrameClass::kTruncated);
}

// LINKTYPE_NFLOG (239), as Zeek's NFLog analyzer: TLVs in host byte order, padded to 4 bytes, until the
// payload TLV (type 9), whose packet is IP of the header's address family.
TEST(Parse, Nflog) {
  EXPECT_EQ(link_type_of(239), LinkType::kNflog);
  auto tlv = [](Bytes& b, uint16_t type, const Bytes& value) {
    const auto len = static_cast<uint16_t>(4 + value.size());
    uint8_t hdr[4];
    std::memcpy(hdr, &len, 2);
    std::memcpy(hdr + 2, &type, 2);
    b.insert(b.end(), hdr, hdr + 4);
    b.insert(b.end(), value.begin(), value.end());
    while (b.size() % 4 != 0) b.push_back(0);
  };
  auto nflog = [&](uint8_t family, const Bytes& packet, uint8_t version = 0) {
    Bytes b = {family, version, 0x00, 0x01};
    tlv(b, 1, {0x08, 0x00, 0x01, 0x00});    // packet header: hw protocol, hook
    tlv(b, 10, {'p', 'r', 'e', 'f', 'x'});  // prefix: length 9, padded to 12
    tlv(b, 9, packet);
    return b;
  };
  PacketMeta m;
  ASSERT_EQ(parse(nflog(2, v4_segment(tcp_flag::kSyn, 2)), m, LinkType::kNflog), FrameClass::kTcp);
  EXPECT_EQ(m.payload_len, 2u);
  EXPECT_EQ(m.tunnel_depth, 0);
  ASSERT_EQ(parse(nflog(10, ipv6(tcp6(tcp_flag::kSyn, 0))), m, LinkType::kNflog), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  EXPECT_EQ(parse(nflog(7, v4_segment()), m, LinkType::kNflog), FrameClass::kNotIp);     // not AF_INET(6)
  EXPECT_EQ(parse(nflog(2, v4_segment(), 1), m, LinkType::kNflog), FrameClass::kBadL2);  // version 1
  Bytes no_payload = {2, 0, 0, 1};
  tlv(no_payload, 1, {0x08, 0x00, 0x01, 0x00});
  EXPECT_EQ(parse(no_payload, m, LinkType::kNflog), FrameClass::kNotIp);
  Bytes bad_len = {2, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0, 0};  // TLV length 2 (host order on little-endian)
  if constexpr (std::endian::native == std::endian::little) {
    EXPECT_EQ(parse(bad_len, m, LinkType::kNflog), FrameClass::kBadL2);
  }
  Bytes cut = nflog(2, v4_segment());
  cut.resize(14);  // inside the prefix TLV
  EXPECT_EQ(parse(cut, m, LinkType::kNflog), FrameClass::kTruncated);
}

// IEEE 802.11 (105) and radiotap (127), as Zeek's IEEE802_11 and IEEE802_11_Radio analyzers.
TEST(Parse, Ieee80211DataFrames) {
  EXPECT_EQ(link_type_of(105), LinkType::kIeee80211);
  EXPECT_EQ(link_type_of(127), LinkType::kIeee80211Radio);
  const Bytes llc_ip = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00};
  // Frame control (type/subtype byte, flags byte), duration, three addresses, sequence control; then the
  // fourth address, the QoS control field, the LLC/SNAP header and the packet.
  auto wlan = [&](uint8_t fc0, uint8_t flags, const Bytes& packet, uint8_t qos0 = 0, const Bytes& llc = {}) {
    Bytes f = {fc0, flags, 0x00, 0x00};
    f.insert(f.end(), 18, 0xbb);
    f.push_back(0x10), f.push_back(0x00);
    if ((flags & 0x03) == 0x03) f.insert(f.end(), 6, 0xcc);
    if (fc0 & 0x80) f.push_back(qos0), f.push_back(0x00);
    const Bytes& l = llc.empty() ? llc_ip : llc;
    f.insert(f.end(), l.begin(), l.end());
    f.insert(f.end(), packet.begin(), packet.end());
    return f;
  };
  auto radiotap = [](const Bytes& frame) {
    Bytes r = {0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};  // 12 bytes: rate
    r.insert(r.end(), frame.begin(), frame.end());
    return r;
  };
  PacketMeta m;
  const Bytes seg = v4_segment(tcp_flag::kSyn, 1);
  ASSERT_EQ(parse(wlan(0x08, 0x01, seg), m, LinkType::kIeee80211), FrameClass::kTcp);  // data, to DS
  EXPECT_EQ(m.payload_len, 1u);
  EXPECT_EQ(m.tunnel_depth, 0);
  EXPECT_EQ(parse(wlan(0x08, 0x03, seg), m, LinkType::kIeee80211), FrameClass::kTcp);  // WDS: four addresses
  EXPECT_EQ(parse(wlan(0x88, 0x02, seg), m, LinkType::kIeee80211), FrameClass::kTcp);  // QoS data
  EXPECT_EQ(parse(wlan(0x88, 0x03, seg), m, LinkType::kIeee80211), FrameClass::kTcp);  // QoS, four addresses
  ASSERT_EQ(parse(radiotap(wlan(0x88, 0x01, ipv6(tcp6(tcp_flag::kSyn, 0)), 0, {0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd})),
                  m, LinkType::kIeee80211Radio),
            FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  // A-MSDU: a 14-byte subframe header (DA, SA, length), then LLC/SNAP and the packet.
  Bytes sub(12, 0xdd);
  test::put_be(sub, llc_ip.size() + seg.size(), 2);
  sub.insert(sub.end(), llc_ip.begin(), llc_ip.end());
  sub.insert(sub.end(), seg.begin(), seg.end());
  Bytes amsdu = {0x88, 0x01, 0x00, 0x00};
  amsdu.insert(amsdu.end(), 18, 0xbb);
  amsdu.insert(amsdu.end(), {0x10, 0x00, 0x80, 0x00});
  amsdu.insert(amsdu.end(), sub.begin(), sub.end());
  EXPECT_EQ(parse(amsdu, m, LinkType::kIeee80211), FrameClass::kTcp);
  // Not decoded: a beacon (management), a null-data frame, protected QoS data, a non-SNAP LLC header, ARP.
  EXPECT_EQ(parse(wlan(0x80, 0x00, seg), m, LinkType::kIeee80211), FrameClass::kNotIp);
  EXPECT_EQ(parse(wlan(0x48, 0x01, seg), m, LinkType::kIeee80211), FrameClass::kNotIp);
  EXPECT_EQ(parse(wlan(0x88, 0x41, seg), m, LinkType::kIeee80211), FrameClass::kNotIp);
  EXPECT_EQ(parse(wlan(0x08, 0x01, seg, 0, {0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8, 0x08, 0x00}), m, LinkType::kIeee80211),
            FrameClass::kNotIp);
  EXPECT_EQ(parse(wlan(0x08, 0x01, seg, 0, {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06}), m, LinkType::kIeee80211),
            FrameClass::kNotIp);
  // Truncated: the 802.11 header, the LLC header, a radiotap length past the frame.
  EXPECT_EQ(parse(Bytes(24, 0x08), m, LinkType::kIeee80211), FrameClass::kTruncated);
  Bytes short_llc = wlan(0x08, 0x01, {});
  short_llc.resize(24 + 5);
  EXPECT_EQ(parse(short_llc, m, LinkType::kIeee80211), FrameClass::kTruncated);
  Bytes long_rt = radiotap(wlan(0x08, 0x01, seg));
  long_rt[2] = static_cast<uint8_t>(long_rt.size()), long_rt[3] = static_cast<uint8_t>(long_rt.size() >> 8);
  EXPECT_EQ(parse(long_rt, m, LinkType::kIeee80211Radio), FrameClass::kTruncated);
}

TEST(Parse, Ipv6WithExtensionHeaders) {
  PacketMeta m;
  const Bytes seg = tcp6(tcp_flag::kSyn, 4);
  // hop-by-hop (8 bytes) -> destination options (8 bytes) -> TCP
  const Bytes ext = {60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0};
  ASSERT_EQ(parse(ether(0x86dd, ipv6(seg, 0, ext)), m), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  EXPECT_EQ(m.payload_len, 4u);
  EXPECT_EQ(m.ip_len, 40u + 16 + 24);
}

// Zeek's connection and checksum use a type-0 routing header's final destination while segments are left.
TEST(Parse, Ipv6RoutingHeaderFinalDestination) {
  constexpr std::array<uint8_t, 16> kFinal = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  const auto routing = [&](uint8_t segments_left) {
    Bytes ext = {6, 2, 0, segments_left, 0, 0, 0, 0};  // next TCP, 24 bytes, type 0, reserved
    ext.insert(ext.end(), kFinal.begin(), kFinal.end());
    return ext;
  };
  TcpFields f;
  f.flags = tcp_flag::kSyn;
  const Bytes to_final = tcp_segment(f, kClient6, kFinal);
  const Bytes to_outer = tcp_segment(f, kClient6, kServer6);
  PacketMeta m;
  ASSERT_EQ(parse(ether(0x86dd, ipv6(to_final, 43, routing(1))), m), FrameClass::kTcp);
  EXPECT_TRUE(std::equal(kFinal.begin(), kFinal.end(), m.dst.bytes.begin())) << "the responder is the final hop";
  EXPECT_EQ(parse(ether(0x86dd, ipv6(to_outer, 43, routing(1))), m), FrameClass::kBadChecksum);
  // No segment left: the header's destination is the final one.
  ASSERT_EQ(parse(ether(0x86dd, ipv6(to_outer, 43, routing(0))), m), FrameClass::kTcp);
  EXPECT_TRUE(std::equal(kServer6.begin(), kServer6.end(), m.dst.bytes.begin()));
  // Deferred, the check uses the same destination.
  ParseOptions o;
  DeferredChecksum d;
  const Bytes frame = ether(0x86dd, ipv6(to_final, 43, routing(1)));
  ASSERT_EQ(parse_frame(LinkType::kEthernet, frame.data(), static_cast<uint32_t>(frame.size()), o, m, &d),
            FrameClass::kTcp);
  EXPECT_TRUE(d.ok());
}

TEST(Parse, Fragments) {
  PacketMeta m;
  const Bytes seg = tcp(tcp_flag::kAck, 16);
  EXPECT_EQ(parse(ether(0x0800, ipv4(seg, 6, 0, 0x2000)), m), FrameClass::kTcp);       // first fragment (MF)
  EXPECT_EQ(parse(ether(0x0800, ipv4(seg, 6, 0, 0x0010)), m), FrameClass::kFragment);  // offset 128
  const Bytes frag_ext = {6, 0, 0x00, 0x10, 0, 0, 0, 1};                               // IPv6 offset 2
  EXPECT_EQ(parse(ether(0x86dd, ipv6(seg, 44, frag_ext)), m), FrameClass::kFragment);
}

// IPv4 fragments through a FragmentTable: the datagram is decoded when its last byte arrives, whole (its
// length, its checksum judged from the fragments' sums), as Zeek decodes the reassembled packet.
TEST(Fragments, ReassembledDatagramIsDecodedWhole) {
  TcpFields f;
  f.flags = tcp_flag::kAck;
  f.payload = 40;
  const Bytes seg = tcp_segment(f);  // 60 bytes: 20 of header, 40 of payload
  const auto fragment = [&](size_t from, size_t to, uint16_t frag_word) {
    return ether(0x0800, ipv4(Bytes(seg.begin() + static_cast<std::ptrdiff_t>(from),
                                    seg.begin() + static_cast<std::ptrdiff_t>(to)),
                              6, 0, frag_word));
  };
  const Bytes first = fragment(0, 24, 0x2000), second = fragment(24, 48, 0x2000 | 3), last = fragment(48, 60, 6);
  ParseOptions o;
  FragmentTable table(16, 60'000'000'000);
  const auto feed = [&](const Bytes& frame, PacketMeta& m, uint64_t t) {
    FragmentView v;
    uint32_t encaps = 0;
    FrameClass c = parse_frame(LinkType::kEthernet, frame.data(), static_cast<uint32_t>(frame.size()), o, m, nullptr,
                               &encaps, 0, &v);
    EXPECT_EQ(c, FrameClass::kFragment);
    EXPECT_NE(v.ip, nullptr);
    Datagram d;
    if (table.add(v, t, d)) c = parse_datagram(d, o, m, &encaps);
    return c;
  };
  PacketMeta m;
  // Out of order and with a duplicate: only the fragment that completes the datagram yields it.
  EXPECT_EQ(feed(last, m, 1), FrameClass::kFragment);
  EXPECT_EQ(feed(first, m, 2), FrameClass::kFragment);
  EXPECT_EQ(feed(first, m, 3), FrameClass::kFragment);
  ASSERT_EQ(feed(second, m, 4), FrameClass::kTcp);
  EXPECT_EQ(m.payload_len, 40u);
  EXPECT_EQ(m.ip_len, 80u);
  EXPECT_EQ(m.partial, 0) << "the datagram's payload arrived whole, summed in passing";
  EXPECT_EQ(m.src_port, 40000);
  EXPECT_EQ(table.counts().reassembled, 1u);

  // A corrupted byte in a later fragment: the checksum over the reassembled segment says so.
  Bytes bad = second;
  bad[bad.size() - 3] ^= 0x40;
  EXPECT_EQ(feed(first, m, 5), FrameClass::kFragment);
  EXPECT_EQ(feed(last, m, 6), FrameClass::kFragment);
  EXPECT_EQ(feed(bad, m, 7), FrameClass::kBadChecksum);

  // A datagram whose middle never comes is dropped after the timeout, and counted.
  EXPECT_EQ(feed(first, m, 10), FrameClass::kFragment);
  EXPECT_EQ(feed(last, m, 60'000'000'011), FrameClass::kFragment);
  EXPECT_EQ(table.counts().dropped, 1u);
}

TEST(Parse, NotTcpAndNotIp) {
  PacketMeta m;
  EXPECT_EQ(parse(ether(0x0806, Bytes(28, 0)), m), FrameClass::kNotIp);            // ARP
  EXPECT_EQ(parse(ether(0x0800, ipv4(Bytes(8, 0), 17)), m), FrameClass::kNotTcp);  // UDP
  EXPECT_EQ(parse(ether(0x0800, ipv4(Bytes(8, 0), 1)), m), FrameClass::kNotTcp);   // ICMP
}

TEST(Parse, BadChecksumIsDetectedOnlyWhenVerifying) {
  PacketMeta m;
  Bytes f = ether(0x0800, v4_segment(tcp_flag::kAck, 9));
  f.back() ^= 0x55;
  EXPECT_EQ(parse(f, m, LinkType::kEthernet, true), FrameClass::kBadChecksum);
  EXPECT_EQ(m.src_port, 40000);  // fields are filled: the engine records Zeek's 'C' letter
  EXPECT_EQ(parse(f, m, LinkType::kEthernet, false), FrameClass::kTcp);
}

TEST(Parse, ChecksumOddPayloadAndIpv6) {
  PacketMeta m;
  EXPECT_EQ(parse(ether(0x0800, v4_segment(tcp_flag::kAck, 333)), m), FrameClass::kTcp);
  EXPECT_EQ(parse(ether(0x86dd, ipv6(tcp6(tcp_flag::kAck, 77))), m), FrameClass::kTcp);
}

TEST(Parse, ChecksumEveryLengthAndEveryCorruptedByte) {
  // Covers the SIMD blocks (64 bytes), the 16- and 4-byte tails and odd lengths: every payload length up
  // to 300 verifies, and flipping any single byte of the segment is caught.
  PacketMeta m;
  for (uint32_t len = 0; len <= 300; ++len) {
    Bytes f = ether(0x0800, v4_segment(tcp_flag::kAck, len));
    ASSERT_EQ(parse(f, m, LinkType::kEthernet, true), FrameClass::kTcp) << "length " << len;
    for (size_t at = 14 + 20; at < f.size(); at += 7) {
      Bytes g = f;
      g[at] ^= 0x5a;
      ASSERT_EQ(parse(g, m, LinkType::kEthernet, true), FrameClass::kBadChecksum) << "length " << len << " byte " << at;
    }
    Bytes v6 = ether(0x86dd, ipv6(tcp6(tcp_flag::kAck, len)));
    ASSERT_EQ(parse(v6, m, LinkType::kEthernet, true), FrameClass::kTcp) << "IPv6 length " << len;
  }
}

TEST(Parse, DeferredChecksumGivesTheSameVerdictLater) {
  // A replay reader may leave the checksum to another thread: parse_frame then says kTcp and describes the
  // segment, and DeferredChecksum::ok() must agree with the inline check on every frame, IPv4 and IPv6.
  ParseOptions o;
  PacketMeta m;
  for (uint32_t len : {0u, 1u, 63u, 64u, 200u}) {
    for (const bool v6 : {false, true}) {
      Bytes good = v6 ? ether(0x86dd, ipv6(tcp6(tcp_flag::kAck, len))) : ether(0x0800, v4_segment(tcp_flag::kAck, len));
      Bytes bad = good;
      bad[bad.size() - 1 - (len > 0 ? 0 : 5)] ^= 0x21;  // payload, or a header byte when there is none
      for (const Bytes* f : {&good, &bad}) {
        const auto n = static_cast<uint32_t>(f->size());
        const FrameClass inline_verdict = parse_frame(LinkType::kEthernet, f->data(), n, o, m);
        DeferredChecksum d;
        ASSERT_EQ(parse_frame(LinkType::kEthernet, f->data(), n, o, m, &d), FrameClass::kTcp);
        ASSERT_NE(d.ip, nullptr);
        EXPECT_EQ(d.ok() ? FrameClass::kTcp : FrameClass::kBadChecksum, inline_verdict)
            << "len " << len << " v6 " << v6;
      }
      EXPECT_FALSE([&] {
        DeferredChecksum d;
        (void)parse_frame(LinkType::kEthernet, bad.data(), static_cast<uint32_t>(bad.size()), o, m, &d);
        return d.ok();
      }()) << "a corrupted segment must fail when checked later";
    }
  }
  // Nothing to defer: not TCP, or checksums not verified. A stale description is cleared.
  DeferredChecksum d;
  Bytes f = ether(0x0800, v4_segment(tcp_flag::kAck, 9));
  ASSERT_EQ(parse_frame(LinkType::kEthernet, f.data(), static_cast<uint32_t>(f.size()), o, m, &d), FrameClass::kTcp);
  ASSERT_NE(d.ip, nullptr);
  const Bytes icmp = ether(0x0800, ipv4(Bytes(8, 0), 1));
  EXPECT_EQ(parse_frame(LinkType::kEthernet, icmp.data(), static_cast<uint32_t>(icmp.size()), o, m, &d),
            FrameClass::kNotTcp);
  EXPECT_EQ(d.ip, nullptr);
  o.verify_checksums = false;
  f.back() ^= 0x55;
  EXPECT_EQ(parse_frame(LinkType::kEthernet, f.data(), static_cast<uint32_t>(f.size()), o, m, &d), FrameClass::kTcp);
  EXPECT_EQ(d.ip, nullptr);
}

TEST(Parse, NicChecksumWordIsTakenOnlyOutsideTunnels) {
  // A live RX core asks the NIC first: its good/bad decides a plain segment without summing; inside a
  // tunnel (the NIC checked the outer header) or without a word, the sum is made here.
  ParseOptions o;
  PacketMeta m;
  Bytes good = ether(0x0800, v4_segment(tcp_flag::kAck, 40));
  Bytes bad = good;
  bad.back() ^= 0x11;
  DeferredChecksum g, b;
  ASSERT_EQ(parse_frame(LinkType::kEthernet, good.data(), static_cast<uint32_t>(good.size()), o, m, &g),
            FrameClass::kTcp);
  ASSERT_EQ(parse_frame(LinkType::kEthernet, bad.data(), static_cast<uint32_t>(bad.size()), o, m, &b),
            FrameClass::kTcp);
  // No word: software.
  EXPECT_TRUE(g.ok(NicChecksum::kUnknown, 0));
  EXPECT_FALSE(b.ok(NicChecksum::kUnknown, 0));
  // Outside a tunnel the NIC's word wins (it saw the frame on the wire; these bytes are what it judged).
  EXPECT_FALSE(g.ok(NicChecksum::kBad, 0));
  EXPECT_TRUE(b.ok(NicChecksum::kGood, 0));
  EXPECT_TRUE(b.ok(NicChecksum::kNotInData, 0));  // data verified, field left for offload: intact
  // Inside a tunnel the word is about the outer header: ignored.
  EXPECT_TRUE(g.ok(NicChecksum::kBad, 1));
  EXPECT_FALSE(b.ok(NicChecksum::kGood, 1));
  // Nothing deferred (not TCP, or checksums off): always fine.
  EXPECT_TRUE(DeferredChecksum{}.ok(NicChecksum::kBad, 0));
}

TEST(Parse, BadHeaders) {
  PacketMeta m;
  Bytes bad_doff = ether(0x0800, v4_segment());
  bad_doff[14 + 20 + 12] = 0x30;  // data offset 3 words
  EXPECT_EQ(parse(bad_doff, m), FrameClass::kBadTcpHeader);
  Bytes bad_ihl = ether(0x0800, v4_segment());
  bad_ihl[14] = 0x43;
  EXPECT_EQ(parse(bad_ihl, m), FrameClass::kBadIpHeader);
  Bytes bad_version = ether(0x0800, v4_segment());
  bad_version[14] = 0x55;
  EXPECT_EQ(parse(bad_version, m), FrameClass::kBadIpHeader);
}

TEST(Parse, RawLoopbackAndCookedLinks) {
  PacketMeta m;
  const Bytes seg = v4_segment();
  EXPECT_EQ(parse(seg, m, LinkType::kRaw), FrameClass::kTcp);
  Bytes null_hdr = {2, 0, 0, 0};
  null_hdr.insert(null_hdr.end(), seg.begin(), seg.end());
  EXPECT_EQ(parse(null_hdr, m, LinkType::kNull), FrameClass::kTcp);
  Bytes sll(14, 0);
  test::put_be(sll, 0x0800, 2);
  sll.insert(sll.end(), seg.begin(), seg.end());
  EXPECT_EQ(parse(sll, m, LinkType::kLinuxSll), FrameClass::kTcp);
}

TEST(Parse, UnsupportedLinkTypeIsNotIp) {
  EXPECT_EQ(link_type_of(10), LinkType::kUnsupported);  // FDDI
  EXPECT_EQ(link_type_of(1), LinkType::kEthernet);
  EXPECT_EQ(link_type_of(12), LinkType::kRaw);
  EXPECT_EQ(link_type_of(276), LinkType::kLinuxSll2);
  // An Ethernet frame holding a good TCP segment: under an unsupported link type it is not read.
  PacketMeta m;
  ParseOptions o;
  DeferredChecksum d{reinterpret_cast<const uint8_t*>(&m), nullptr, 0, 4};
  const Bytes f = ether(0x0800, v4_segment());
  EXPECT_EQ(parse_frame(LinkType::kUnsupported, f.data(), static_cast<uint32_t>(f.size()), o, m, &d),
            FrameClass::kNotIp);
  EXPECT_EQ(d.ip, nullptr);
  EXPECT_EQ(m.tunnel_depth, 0);
}

TEST(Parse, TunnelsAreDecapsulated) {
  PacketMeta m;
  const Bytes inner = v4_segment(tcp_flag::kSyn, 0);
  // GRE carrying IPv4
  Bytes gre = {0x00, 0x00, 0x08, 0x00};
  gre.insert(gre.end(), inner.begin(), inner.end());
  ASSERT_EQ(parse(ether(0x0800, ipv4(gre, 47)), m), FrameClass::kTcp);
  EXPECT_EQ(m.tunnel_depth, 1);
  // VXLAN: UDP 4789, 8-byte header, inner Ethernet
  Bytes vx = {0x12, 0x34, 0x12, 0xb5, 0, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 1, 0};
  const Bytes inner_eth = ether(0x0800, inner);
  vx.insert(vx.end(), inner_eth.begin(), inner_eth.end());
  EXPECT_EQ(parse(ether(0x0800, ipv4(vx, 17)), m), FrameClass::kTcp);
  // GTP-U: UDP 2152, G-PDU
  Bytes gtp = {0x08, 0x68, 0x08, 0x68, 0, 0, 0, 0, 0x30, 0xff, 0, 0, 0, 0, 0, 1};
  gtp.insert(gtp.end(), inner.begin(), inner.end());
  EXPECT_EQ(parse(ether(0x0800, ipv4(gtp, 17)), m), FrameClass::kTcp);
  // IPv6 in UDP 3544 (Teredo)
  Bytes teredo = {0x0d, 0xd8, 0x0d, 0xd8, 0, 0, 0, 0};
  const Bytes inner6 = ipv6(tcp6(tcp_flag::kSyn, 0));
  teredo.insert(teredo.end(), inner6.begin(), inner6.end());
  ASSERT_EQ(parse(ether(0x0800, ipv4(teredo, 17)), m), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
}

// GRE as Zeek's GRE analyzer: ERSPAN types I-III with the mirrored Ethernet frame inside, and PPTP's
// enhanced GRE (version 1) carrying PPP.
TEST(Parse, GreErspanAndPptp) {
  PacketMeta m;
  const Bytes inner_eth = ether(0x0800, v4_segment(tcp_flag::kSyn, 2));
  auto gre = [&](const Bytes& header, const Bytes& payload) {
    Bytes g = header;
    g.insert(g.end(), payload.begin(), payload.end());
    return ether(0x0800, ipv4(g, 47));
  };
  auto join = [](Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  // Type I: no sequence number, no ERSPAN header.
  ASSERT_EQ(parse(gre({0x00, 0x00, 0x88, 0xbe}, inner_eth), m), FrameClass::kTcp);
  EXPECT_EQ(m.tunnel_depth, 1);
  EXPECT_EQ(m.payload_len, 2u);
  // Type II: a sequence number, then 8 bytes of ERSPAN (version 1, session 5).
  const Bytes erspan2 = {0x10, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00};
  ASSERT_EQ(parse(gre({0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 7}, join(erspan2, inner_eth)), m), FrameClass::kTcp);
  EXPECT_EQ(m.tunnel_depth, 1);
  EXPECT_EQ(std::memcmp(m.src.bytes.data(), kClient4.data(), 4), 0);
  // Type III: 12 bytes, and 8 more when the last bit of byte 11 flags the platform sub-header.
  const Bytes erspan3 = {0x20, 0x00, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(parse(gre({0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 7}, join(erspan3, inner_eth)), m), FrameClass::kTcp);
  Bytes erspan3_opt = erspan3;
  erspan3_opt[11] = 0x01;
  erspan3_opt.insert(erspan3_opt.end(), 8, 0x00);
  EXPECT_EQ(parse(gre({0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 7}, join(erspan3_opt, inner_eth)), m), FrameClass::kTcp);
  // The sub-header flagged but absent: 8 bytes of the mirrored frame are skipped and it is misread.
  Bytes erspan3_flag = erspan3;
  erspan3_flag[11] = 0x01;
  EXPECT_NE(parse(gre({0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 7}, join(erspan3_flag, inner_eth)), m), FrameClass::kTcp);
  EXPECT_EQ(parse(gre({0x00, 0x00, 0x22, 0xeb}, Bytes(20, 0)), m), FrameClass::kTruncated);
  EXPECT_EQ(parse(gre({0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 7}, Bytes(14, 0)), m), FrameClass::kTruncated);
  // Reserved flag bits set: Zeek does not decode the packet.
  EXPECT_EQ(parse(gre({0x00, 0x08, 0x88, 0xbe}, inner_eth), m), FrameClass::kTunnelUnsupported);

  // PPTP: version 1, key (payload length, call id), sequence and acknowledgement, PPP 0xff 0x03 0x0021.
  const Bytes pptp = {0x30, 0x81, 0x88, 0x0b, 0x00, 0x2c, 0x00, 0x01, 0, 0, 0, 3, 0, 0, 0, 2};
  ASSERT_EQ(parse(gre(pptp, join({0xff, 0x03, 0x00, 0x21}, v4_segment())), m), FrameClass::kTcp);
  EXPECT_EQ(m.tunnel_depth, 1);
  const Bytes pptp_no_ack = {0x30, 0x01, 0x88, 0x0b, 0x00, 0x2c, 0x00, 0x01, 0, 0, 0, 3};
  ASSERT_EQ(parse(gre(pptp_no_ack, join({0xff, 0x03, 0x00, 0x57}, ipv6(tcp6(tcp_flag::kSyn, 0)))), m),
            FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  // Zeek reads the PPP protocol from bytes 2-3 of a 4-byte PPP header: compressed address/control is misread.
  EXPECT_NE(parse(gre(pptp_no_ack, join({0x00, 0x21}, v4_segment())), m), FrameClass::kTcp);
  EXPECT_EQ(parse(gre(pptp_no_ack, join({0xff, 0x03, 0xc0, 0x21}, Bytes(20, 0))), m), FrameClass::kNotTcp);  // LCP
  EXPECT_EQ(parse(gre({0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2}, {}), m), FrameClass::kNotTcp);       // ack only
  EXPECT_EQ(parse(gre({0x30, 0x01, 0x08, 0x00, 0, 0, 0, 1, 0, 0, 0, 3}, v4_segment()), m),
            FrameClass::kTunnelUnsupported);  // version 1 must carry PPP
  EXPECT_EQ(parse(gre(pptp_no_ack, {0xff, 0x03}), m), FrameClass::kTruncated);
}

// Aruba access points tunnel 802.11 frames in GRE (protocol 0x8200-0x82f0, 0x8300-0x8370, 0x9000).
TEST(Parse, GreArubaCarries80211) {
  PacketMeta m;
  Bytes wlan = {0x08, 0x01, 0x00, 0x00};
  wlan.insert(wlan.end(), 18, 0xbb);
  wlan.insert(wlan.end(), {0x10, 0x00, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00});
  const Bytes seg = v4_segment();
  wlan.insert(wlan.end(), seg.begin(), seg.end());
  Bytes g = {0x00, 0x00, 0x90, 0x00};
  g.insert(g.end(), wlan.begin(), wlan.end());
  ASSERT_EQ(parse(ether(0x0800, ipv4(g, 47)), m), FrameClass::kTcp);
  EXPECT_EQ(m.tunnel_depth, 1);
  g[2] = 0x82, g[3] = 0x30;
  EXPECT_EQ(parse(ether(0x0800, ipv4(g, 47)), m), FrameClass::kTcp);
}

// AYIYA as Zeek's AYIYA analyzer: on UDP 5072, or on any port when bytes 1-2 are 0x52 0x11.
TEST(Parse, Ayiya) {
  PacketMeta m;
  auto udp = [](uint16_t port, const Bytes& payload) {
    Bytes u = {0x9c, 0x40, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port), 0, 0, 0, 0};
    u.insert(u.end(), payload.begin(), payload.end());
    return ether(0x0800, ipv4(u, 17));
  };
  // Identity 2^4 = 16 bytes (an IPv6 address), signature 5 * 4 = 20 bytes (SHA-1), forward, next header 41.
  auto ayiya = [](uint8_t next, const Bytes& packet, uint8_t op = 0x11, uint8_t id_nibble = 4) {
    Bytes a = {static_cast<uint8_t>(id_nibble << 4 | 0x02), 0x52, op, next, 0x5f, 0x00, 0x00, 0x01};
    a.insert(a.end(), size_t{1} << id_nibble, 0x20);
    a.insert(a.end(), 20, 0x5a);
    a.insert(a.end(), packet.begin(), packet.end());
    return a;
  };
  const Bytes inner6 = ipv6(tcp6(tcp_flag::kSyn, 0));
  ASSERT_EQ(parse(udp(5072, ayiya(41, inner6)), m), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  EXPECT_EQ(m.tunnel_depth, 1);
  EXPECT_EQ(m.dst_port, 80);
  ASSERT_EQ(parse(udp(5072, ayiya(4, v4_segment())), m), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 4);
  EXPECT_EQ(parse(udp(40001, ayiya(41, inner6)), m), FrameClass::kTcp);  // detected off its port
  Bytes other = ayiya(41, inner6);
  other[1] = 0x42;  // a 16-byte signature: not what detection looks for
  EXPECT_EQ(parse(udp(40001, other), m), FrameClass::kNotTcp);
  EXPECT_NE(parse(udp(5072, other), m), FrameClass::kTcp);  // on its port it is AYIYA, misaligned by 4
  // Not forwarded: a heartbeat (opcode 0); next header 17; a header longer than the payload; no packet.
  EXPECT_EQ(parse(udp(5072, ayiya(41, inner6, 0x10)), m), FrameClass::kNotTcp);
  EXPECT_EQ(parse(udp(5072, ayiya(17, inner6)), m), FrameClass::kNotTcp);
  Bytes cut = ayiya(41, {});
  cut.resize(30);
  EXPECT_EQ(parse(udp(5072, cut), m), FrameClass::kNotTcp);
  EXPECT_EQ(parse(udp(5072, ayiya(41, {})), m), FrameClass::kNotTcp);
  // AYIYA inside AYIYA counts against the tunnel depth.
  Bytes nested = v4_segment();
  for (int i = 0; i < 5; ++i) {
    Bytes u = {0x13, 0xd0, 0x13, 0xd0, 0, 0, 0, 0};
    const Bytes a = ayiya(4, nested);
    u.insert(u.end(), a.begin(), a.end());
    nested = ipv4(u, 17);
  }
  EXPECT_EQ(parse(ether(0x0800, nested), m), FrameClass::kTunnelUnsupported);
}

// Zeek detects Teredo on any UDP port (TeredoAnalyzer::DetectProtocol): with an origin indication or an
// authentication header before the IPv6 packet it is decoded whatever the port; bare IPv6 in UDP on
// another port is not Teredo (its first bytes read as an origin indication, and the address after it
// has no IPv6 version nibble).
TEST(Parse, TeredoIsDetectedOnAnyPortAsZeekDoes) {
  PacketMeta m;
  const Bytes inner6 = ipv6(tcp6(tcp_flag::kSyn, 0));
  auto udp = [](uint16_t port, const Bytes& payload) {
    Bytes u = {0x13, 0x88, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port), 0, 0, 0, 0};
    u.insert(u.end(), payload.begin(), payload.end());
    return ether(0x0800, ipv4(u, 17));
  };
  Bytes origin = {0x00, 0x00, 0xec, 0x77, 0x3f, 0xfe, 0xff, 0xfe};  // port and address, obfuscated
  origin.insert(origin.end(), inner6.begin(), inner6.end());
  ASSERT_EQ(parse(udp(40000, origin), m), FrameClass::kTcp);
  EXPECT_EQ(m.ip_version, 6);
  EXPECT_EQ(m.tunnel_depth, 1);
  Bytes auth = {0x00, 0x01, 2, 3, 'i', 'd', 'a', 'u', 't', 1, 2, 3, 4, 5, 6, 7, 8, 0};  // id 2, value 3, nonce, conf
  auth.insert(auth.end(), origin.begin(), origin.end());
  EXPECT_EQ(parse(udp(40000, auth), m), FrameClass::kTcp);
  EXPECT_EQ(parse(udp(40000, inner6), m), FrameClass::kNotTcp);  // bare IPv6: not Teredo off its port
  EXPECT_EQ(parse(udp(3544, inner6), m), FrameClass::kTcp);      // on its port it is
  Bytes short_origin(origin.begin(), origin.begin() + 40);       // too short for the IPv6 header after it
  EXPECT_EQ(parse(udp(40000, short_origin), m), FrameClass::kNotTcp);
}

// A parse names every encapsulation the frame passed through, whatever the frame turned out to be: the
// engine counts frames per encapsulation from it.
TEST(Parse, SaysWhichEncapsulationsAFramePassedThrough) {
  PacketMeta m;
  ParseOptions o;
  uint32_t met = 0xffffffff;
  const auto parse_met = [&](const Bytes& f) {
    (void)parse_frame(LinkType::kEthernet, f.data(), static_cast<uint32_t>(f.size()), o, m, nullptr, &met);
    return met;
  };
  EXPECT_EQ(parse_met(ether(0x0800, v4_segment())), 0u);
  // VLAN-tagged Ethernet → IPv4 → GRE → IPv4 → TCP
  Bytes gre = {0x00, 0x00, 0x08, 0x00};
  const Bytes inner = v4_segment(tcp_flag::kSyn, 0);
  gre.insert(gre.end(), inner.begin(), inner.end());
  EXPECT_EQ(parse_met(ether(0x0800, ipv4(gre, 47), {0x81, 0x00, 0x00, 0x07})),
            encapsulation_bit(Encapsulation::kVlan) | encapsulation_bit(Encapsulation::kGre));
  // Not TCP at all (UDP to a plain port inside VXLAN): the layers still count.
  Bytes vx = {0x12, 0x34, 0x12, 0xb5, 0, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 1, 0};
  const Bytes inner_udp = ether(0x0800, ipv4(Bytes{0x13, 0x88, 0x13, 0x89, 0, 8, 0, 0}, 17));
  vx.insert(vx.end(), inner_udp.begin(), inner_udp.end());
  EXPECT_EQ(parse_met(ether(0x0800, ipv4(vx, 17))), encapsulation_bit(Encapsulation::kVxlan));
  EXPECT_EQ(m.tunnel_depth, 1);
  // VN-Tag → VLAN → IPv4 → TCP
  Bytes vntag = {0x80, 0x01, 0x00, 0x02, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00};
  const Bytes seg = v4_segment();
  vntag.insert(vntag.end(), seg.begin(), seg.end());
  EXPECT_EQ(parse_met(ether(0x8926, vntag)),
            encapsulation_bit(Encapsulation::kVnTag) | encapsulation_bit(Encapsulation::kVlan));
  for (size_t e = 0; e < kEncapsulationCount; ++e) {
    EXPECT_NE(encapsulation_name(static_cast<Encapsulation>(e)), "unknown") << e;
  }
}

TEST(Parse, TunnelDepthIsBounded) {
  PacketMeta m;
  Bytes pkt = v4_segment();
  for (int i = 0; i < 6; ++i) pkt = ipv4(pkt, 4);  // IP-in-IP six deep
  EXPECT_EQ(parse(ether(0x0800, pkt), m), FrameClass::kTunnelUnsupported);
}

// MPLS pseudowire → Ethernet → MPLS → ...: each pseudowire is a tunnel layer, so the nesting stops at the
// depth limit instead of recursing as deep as the frame allows (a stack-exhaustion vector on an lcore).
TEST(Parse, PseudowireNestingCountsAsTunnelDepth) {
  PacketMeta m;
  auto pseudowire = [](const Bytes& inner_eth) {
    Bytes p = {0x00, 0x01, 0x01, 0x40, 0x00, 0x00, 0x00, 0x00};  // one label (BoS), then a control word
    p.insert(p.end(), inner_eth.begin(), inner_eth.end());
    return ether(0x8847, p);
  };
  Bytes f = ether(0x0800, v4_segment());
  f = pseudowire(f);
  ASSERT_EQ(parse(f, m), FrameClass::kTcp);
  EXPECT_EQ(m.tunnel_depth, 1);
  for (int i = 1; i < 4; ++i) f = pseudowire(f);
  ASSERT_EQ(parse(f, m), FrameClass::kTcp);
  EXPECT_EQ(m.tunnel_depth, 4);
  f = pseudowire(f);  // five deep: past the default limit of 4
  EXPECT_EQ(parse(f, m), FrameClass::kTunnelUnsupported);
  for (int i = 0; i < 3000; ++i) f = pseudowire(f);  // ~66 kB of nesting: bounded, not 3005 stack frames
  EXPECT_EQ(parse(f, m), FrameClass::kTunnelUnsupported);
}

// Every prefix of every frame must parse without reading past the end (ASan checks the reads) and must
// never be reported as a complete TCP segment while the TCP header is cut.
TEST(Parse, EveryTruncationIsSafe) {
  Bytes gre = {0x00, 0x00, 0x08, 0x00};
  const Bytes inner = v4_segment(tcp_flag::kAck, 30);
  gre.insert(gre.end(), inner.begin(), inner.end());
  const std::vector<Bytes> frames = {
      ether(0x0800, v4_segment(tcp_flag::kAck, 30), {0x81, 0x00, 0x00, 0x05}),
      ether(0x86dd, ipv6(tcp6(tcp_flag::kAck, 30), 0, {6, 0, 1, 4, 0, 0, 0, 0})),
      ether(0x0800, ipv4(gre, 47)),
  };
  for (const Bytes& f : frames) {
    for (size_t len = 0; len < f.size(); ++len) {
      std::vector<uint8_t> copy(f.begin(), f.begin() + static_cast<long>(len));  // exact-size heap buffer
      PacketMeta m;
      const FrameClass v = parse_frame(LinkType::kEthernet, copy.data(), static_cast<uint32_t>(len), ParseOptions(), m);
      if (len < f.size() - 30) {
        EXPECT_NE(v, FrameClass::kTcp) << "len " << len;
      }
    }
  }
}

// The same for every link type and encapsulation decoded after Zeek's analyzers: each prefix of a frame
// that holds a TCP segment parses without reading past its end, and never as TCP while the header is cut.
TEST(Parse, EveryTruncationOfZeeksEncapsulationsIsSafe) {
  const Bytes seg = v4_segment(tcp_flag::kAck, 30);
  auto join = [](Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const Bytes snap = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00};
  Bytes wlan = {0x88, 0x03, 0x00, 0x00};
  wlan.insert(wlan.end(), 18 + 2 + 6, 0xbb);
  wlan.insert(wlan.end(), {0x00, 0x00});
  wlan = join(join(wlan, snap), seg);
  Bytes nflog = {2, 0, 0, 1};
  const uint16_t tlv[2] = {static_cast<uint16_t>(4 + seg.size()), 9};
  const auto* tlv_bytes = reinterpret_cast<const uint8_t*>(tlv);
  nflog.insert(nflog.end(), tlv_bytes, tlv_bytes + 4);
  nflog = join(nflog, seg);
  Bytes ayiya_udp = {0x13, 0xd0, 0x13, 0xd0, 0, 0, 0, 0, 0x42, 0x52, 0x11, 0x04, 0, 0, 0, 0};
  ayiya_udp.insert(ayiya_udp.end(), 16 + 20, 0x20);
  const std::vector<std::pair<LinkType, Bytes>> frames = {
      {LinkType::kEthernet, ether(0x8926, join({0x00, 0x01, 0x00, 0x02, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00}, seg))},
      {LinkType::kEthernet, ether(static_cast<uint16_t>(snap.size() + seg.size()), join(snap, seg))},
      {LinkType::kPpp, join({0xff, 0x03, 0x00, 0x21}, seg)},
      {LinkType::kPppSerial, join({0xff, 0x03, 0x02, 0x81, 0x00, 0x01, 0x01, 0x40}, seg)},
      {LinkType::kNflog, nflog},
      {LinkType::kIeee80211, wlan},
      {LinkType::kIeee80211Radio, join({0x00, 0x00, 0x08, 0x00, 0, 0, 0, 0}, wlan)},
      {LinkType::kEthernet, ether(0x0800, ipv4(join({0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1, 0x20, 0, 0, 5, 0, 0,
                                                     0,    0,    0,    0,    0, 1, 0, 0, 0,    0, 0, 0, 0, 0},
                                                    ether(0x0800, seg)),
                                               47))},
      {LinkType::kEthernet,
       ether(0x0800,
             ipv4(join({0x30, 0x81, 0x88, 0x0b, 0, 0x2c, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2, 0xff, 0x03, 0x00, 0x21}, seg),
                  47))},
      {LinkType::kEthernet, ether(0x0800, ipv4(join(ayiya_udp, seg), 17))},
  };
  for (const auto& [link, f] : frames) {
    PacketMeta whole;
    ASSERT_EQ(parse(f, whole, link), FrameClass::kTcp) << static_cast<int>(link);
    for (size_t len = 0; len < f.size(); ++len) {
      std::vector<uint8_t> copy(f.begin(), f.begin() + static_cast<long>(len));  // exact-size heap buffer
      PacketMeta m;
      const FrameClass v = parse_frame(link, copy.data(), static_cast<uint32_t>(len), ParseOptions(), m);
      if (len < f.size() - 30) {
        EXPECT_NE(v, FrameClass::kTcp) << "link " << static_cast<int>(link) << " len " << len;
      }
    }
  }
}

TEST(Format, Addresses) {
  IpAddr a;
  uint8_t v;
  char buf[64];
  ASSERT_TRUE(parse_ip("192.168.10.255", a, v));
  EXPECT_EQ(v, 4);
  EXPECT_EQ(std::string(buf, format_ip(a, v, buf, sizeof(buf))), "192.168.10.255");
  ASSERT_TRUE(parse_ip("2001:db8::1", a, v));
  EXPECT_EQ(std::string(buf, format_ip(a, v, buf, sizeof(buf))), "2001:db8::1");
  EXPECT_FALSE(parse_ip("300.1.1.1", a, v));
  EXPECT_FALSE(parse_ip("", a, v));
}

// format_ip is hand-written for speed and must print what inet_ntop prints (Zeek's conn.log addresses).
// Random addresses alone rarely have runs of zero groups, so each group is zero, 0xffff, small or random,
// which covers the "::" choice (first longest run, never a single group), runs at either end, and the
// IPv4-compatible and -mapped forms.
TEST(Format, AddressesMatchInetNtopCharacterForCharacter) {
  std::mt19937_64 rng(20261121);
  char expected[INET6_ADDRSTRLEN];
  char got[64];
  IpAddr a;
  uint8_t v;
  for (int i = 0; i < 200000; ++i) {
    for (size_t w = 0; w < 8; ++w) {
      const uint64_t r = rng();
      const uint16_t word = r % 4 == 0   ? 0
                            : r % 4 == 1 ? 0xffff
                            : r % 4 == 2 ? static_cast<uint16_t>(r >> 60)
                                         : static_cast<uint16_t>(r >> 40);
      a.bytes[2 * w] = static_cast<uint8_t>(word >> 8);
      a.bytes[2 * w + 1] = static_cast<uint8_t>(word);
    }
    if (i % 3 == 0) std::memset(a.bytes.data(), 0, 10);  // ::ffff:a.b.c.d, ::a.b.c.d and their neighbours
    ASSERT_NE(inet_ntop(AF_INET6, a.bytes.data(), expected, sizeof(expected)), nullptr);
    const size_t n = format_ip(a, 6, got, sizeof(got));
    ASSERT_EQ(std::string(got, n), expected);
    ASSERT_EQ(got[n], '\0');
    ASSERT_NE(inet_ntop(AF_INET, a.bytes.data(), expected, sizeof(expected)), nullptr);
    ASSERT_EQ(std::string(got, format_ip(a, 4, got, sizeof(got))), expected);
  }
  for (const char* text : {"::", "::1", "1::", "::ffff:10.0.0.1", "::10.0.0.1", "::ffff:0:10.0.0.1", "1:0:0:1:0:0:0:1",
                           "1:0:0:1:0:0:1:1", "fe80::1:0:0:1", "2001:db8:0:1:1:1:1:1"}) {
    ASSERT_TRUE(parse_ip(text, a, v)) << text;
    ASSERT_NE(inet_ntop(AF_INET6, a.bytes.data(), expected, sizeof(expected)), nullptr);
    EXPECT_EQ(std::string(got, format_ip(a, 6, got, sizeof(got))), expected) << text;
  }
  EXPECT_EQ(format_ip(a, 6, got, 45), 0u) << "a buffer shorter than INET6_ADDRSTRLEN is refused";
}

}  // namespace
}  // namespace synscope::packet
