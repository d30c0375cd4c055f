// ipfix: the record mapping (flowEndReason, direction, v4/v6, enterprise strings) read back from the
// encoded messages by an independent parser, the SP/SC ring, and the exporter's accounting: every session
// offered is written or dropped, never both and never neither; replay waits instead of dropping.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "error/error.hpp"
#include "ipfix/destination.hpp"
#include "ipfix/encoder.hpp"
#include "ipfix/exporter.hpp"
#include "ipfix/flow_record.hpp"
#include "ipfix/spsc_ring.hpp"

namespace synscope::ipfix {
namespace {

using engine::EndReason;
using engine::SessionEnd;
using tcp_session::EndpointState;

// ---- A small IPFIX reader (RFC 7011), independent of libfixbuf: templates, then data records as
// (pen, id) -> bytes.
using Key = std::pair<uint32_t, uint16_t>;
struct DataRecord {
  uint16_t tid;
  std::map<Key, std::vector<uint8_t>> fields;
};
struct Field {
  Key key;
  uint16_t len;
};
struct Stream {
  std::map<uint16_t, std::vector<Field>> templates;
  std::vector<DataRecord> records;
  std::vector<uint32_t> domains;
};

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{be16(p)} << 16 | be16(p + 2); }
uint64_t be(const std::vector<uint8_t>& v) {
  uint64_t x = 0;
  for (uint8_t b : v) x = x << 8 | b;
  return x;
}
std::string str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

void parse(const uint8_t* p, size_t n, Stream& out) {
  while (n >= 16) {
    ASSERT_EQ(be16(p), 10) << "IPFIX version";
    const uint16_t mlen = be16(p + 2);
    ASSERT_GE(n, mlen);
    out.domains.push_back(be32(p + 12));
    const uint8_t* s = p + 16;
    const uint8_t* end = p + mlen;
    while (s + 4 <= end) {
      const uint16_t set_id = be16(s), set_len = be16(s + 2);
      const uint8_t* r = s + 4;
      const uint8_t* set_end = s + set_len;
      if (set_id == 2) {
        while (r + 4 <= set_end) {
          const uint16_t tid = be16(r), count = be16(r + 2);
          r += 4;
          std::vector<Field> fields;
          for (uint16_t i = 0; i < count; ++i) {
            uint16_t id = be16(r);
            const uint16_t len = be16(r + 2);
            r += 4;
            uint32_t pen = 0;
            if (id & 0x8000) {
              pen = be32(r);
              r += 4;
              id &= 0x7fff;
            }
            fields.push_back({{pen, id}, len});
          }
          out.templates[tid] = fields;
        }
      } else if (set_id >= 256 && out.templates.count(set_id) != 0) {
        const std::vector<Field>& t = out.templates[set_id];
        while (r < set_end) {
          DataRecord rec{set_id, {}};
          bool complete = true;
          for (const Field& f : t) {
            size_t len = f.len;
            if (len == 65535) {
              len = *r++;
              if (len == 255) {
                len = be16(r);
                r += 2;
              }
            }
            if (r + len > set_end) {
              complete = false;
              break;
            }
            rec.fields[f.key] = std::vector<uint8_t>(r, r + len);
            r += len;
          }
          if (!complete) break;  // padding at the end of the set
          out.records.push_back(rec);
        }
      }
      s = set_end;
    }
    p += mlen;
    n -= mlen;
  }
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

constexpr Key kOctets{0, 1}, kPackets{0, 2}, kProto{0, 4}, kFlags{0, 6}, kSrcPort{0, 7}, kSrc4{0, 8}, kDstPort{0, 11},
    kDst4{0, 12}, kSrc6{0, 27}, kDst6{0, 28}, kEndReason{0, 136}, kStart{0, 152}, kEnd{0, 153}, kSyn{0, 218},
    kFin{0, 219}, kRst{0, 220}, kInitOctets{0, 231}, kRespOctets{0, 232}, kInitPkts{0, 298}, kRespPkts{0, 299},
    kRevOctets{29305, 1}, kRevPackets{29305, 2}, kRevFlags{29305, 6}, kRevSyn{29305, 218}, kRevFin{29305, 219},
    kRevRst{29305, 220}, kConnState{kSynscopePen, 1}, kHistory{kSynscopePen, 2}, kFailure{kSynscopePen, 3},
    kPerspective{kSynscopePen, 4}, kUid{kSynscopePen, 5}, kSessionEnd{kSynscopePen, 6}, kRemoved{kSynscopePen, 7};

// ---- Sessions built by hand.
struct Built {
  tcp_session::Session session{};
  engine::SessionRecord record;
};

void set_history(tcp_session::Session& s, std::string_view h) {
  std::memcpy(s.history, h.data(), h.size());
  s.history_len = static_cast<uint8_t>(h.size());
}

/// A rejected v4 connection: 10.0.0.1:40000 -> 192.0.2.7:443, a SYN sent twice, then RST-ACK (the two
/// directions' counts differ, so a swap shows).
Built rejected_v4() {
  Built b;
  tcp_session::Session& s = b.session;
  s.first_ns = 1'700'000'000'123'456'789;
  s.last_ns = s.first_ns + 2'500'000;
  s.ep[0] = {.ip_bytes = 120, .pkts = 2, .state = EndpointState::kSynSent};
  s.ep[1] = {.ip_bytes = 40, .pkts = 1, .state = EndpointState::kReset};
  s.marks[0].syn = 2;
  s.marks[1].rst = 1;
  set_history(s, "Sr");
  engine::SessionRecord& r = b.record;
  r.session = &s;
  uint8_t v = 4;
  EXPECT_TRUE(packet::parse_ip("10.0.0.1", r.orig_h, v));
  EXPECT_TRUE(packet::parse_ip("192.0.2.7", r.resp_h, v));
  r.orig_p = 40000;
  r.resp_p = 443;
  r.ip_version = 4;
  r.uid = 12345;
  r.state = tcp_session::ConnState::kREJ;
  r.perspective = buckets::Perspective::kOutbound;
  r.end = EndReason::kTimeout;
  return b;
}

/// A completed v6 connection closed by FINs: [2001:db8::1]:50000 -> [2001:db8::2]:80.
Built closed_v6() {
  Built b;
  tcp_session::Session& s = b.session;
  s.first_ns = 1'700'000'100'000'000'000;
  s.last_ns = s.first_ns + 1'234'000'000;
  s.ep[0] = {.ip_bytes = 1000, .pkts = 7, .state = EndpointState::kClosed};
  s.ep[1] = {.ip_bytes = 5000, .pkts = 6, .state = EndpointState::kClosed};
  s.marks[0].syn = 1;
  s.marks[0].fin = 1;
  s.marks[1].syn = 1;
  s.marks[1].fin = 1;
  set_history(s, "ShADadFf");
  engine::SessionRecord& r = b.record;
  r.session = &s;
  uint8_t v = 6;
  EXPECT_TRUE(packet::parse_ip("2001:db8::1", r.orig_h, v));
  EXPECT_TRUE(packet::parse_ip("2001:db8::2", r.resp_h, v));
  r.orig_p = 50000;
  r.resp_p = 80;
  r.ip_version = 6;
  r.uid = 99;
  r.state = tcp_session::ConnState::kSF;
  r.perspective = buckets::Perspective::kPrivate;
  r.end = EndReason::kTimeout;
  return b;
}

TEST(FlowEndReason, FollowsHowTheSessionEnded) {
  EXPECT_EQ(flow_end_reason(SessionEnd::kFin), FlowEndReason::kEndOfFlow);
  EXPECT_EQ(flow_end_reason(SessionEnd::kRstOrig), FlowEndReason::kEndOfFlow);
  EXPECT_EQ(flow_end_reason(SessionEnd::kRstResp), FlowEndReason::kEndOfFlow);
  EXPECT_EQ(flow_end_reason(SessionEnd::kReused), FlowEndReason::kEndOfFlow);
  EXPECT_EQ(flow_end_reason(SessionEnd::kIdle), FlowEndReason::kIdleTimeout);
  EXPECT_EQ(flow_end_reason(SessionEnd::kEvicted), FlowEndReason::kLackOfResources);
  EXPECT_EQ(flow_end_reason(SessionEnd::kEndOfInput), FlowEndReason::kForcedEnd);
  EXPECT_EQ(flow_end_reason(SessionEnd::kShutdown), FlowEndReason::kForcedEnd);
  EXPECT_EQ(static_cast<int>(FlowEndReason::kIdleTimeout), 0x01);
  EXPECT_EQ(static_cast<int>(FlowEndReason::kEndOfFlow), 0x03);
  EXPECT_EQ(static_cast<int>(FlowEndReason::kForcedEnd), 0x04);
  EXPECT_EQ(static_cast<int>(FlowEndReason::kLackOfResources), 0x05);
}

TEST(FlowRecord, EndReasonComesFromTheWireBeforeTheRemoval) {
  Built b = rejected_v4();
  FlowRecord f;
  make_flow_record(b.record, f);
  EXPECT_EQ(f.end_reason, 0x03) << "a RST ends the flow even when a timer removed it";
  EXPECT_EQ(f.end.view(), "rst_resp");
  EXPECT_EQ(f.removed.view(), "timeout");
  b.session.ep[1].state = EndpointState::kInactive;  // no RST: the S0-like attempt timed out
  for (auto [why, reason, name] : {std::tuple{EndReason::kTimeout, 0x01, "idle"},
                                   {EndReason::kReuse, 0x03, "reused"},
                                   {EndReason::kEvicted, 0x05, "evicted"},
                                   {EndReason::kEndOfInput, 0x04, "end_of_input"},
                                   {EndReason::kShutdown, 0x04, "shutdown"}}) {
    b.record.end = why;
    make_flow_record(b.record, f);
    EXPECT_EQ(f.end_reason, reason) << name;
    EXPECT_EQ(f.end.view(), name);
  }
}

TEST(FlowRecord, FlagsPerDirectionFromCountsAndHistory) {
  Built b = closed_v6();
  FlowRecord f;
  make_flow_record(b.record, f);
  EXPECT_EQ(f.dir[0].flags, kTcpSyn | kTcpFin | kTcpAck);  // 'S', 'A', 'F'
  EXPECT_EQ(f.dir[1].flags, kTcpSyn | kTcpFin | kTcpAck);  // 'h', 'a', 'f'
  Built r = rejected_v4();
  make_flow_record(r.record, f);
  EXPECT_EQ(f.dir[0].flags, kTcpSyn) << "a bare SYN has no ACK";
  EXPECT_EQ(f.dir[1].flags, kTcpRst) << "'r' alone does not say ACK";
  EXPECT_EQ(f.dir[0].packets, 2u);
  EXPECT_EQ(f.dir[0].octets, 120u);
  EXPECT_EQ(f.dir[0].syn, 2u);
  EXPECT_EQ(f.dir[1].packets, 1u);
  EXPECT_EQ(f.dir[1].octets, 40u);
  EXPECT_EQ(f.dir[1].rst, 1u);
  EXPECT_EQ(f.conn_state.view(), "REJ");
  EXPECT_EQ(f.failure_reason.view(), "rejected");
  EXPECT_EQ(f.perspective.view(), "outbound");
  EXPECT_EQ(f.history.view(), "Sr");
  EXPECT_EQ(f.start_ms, 1'700'000'000'123u);
  EXPECT_EQ(f.end_ms, 1'700'000'000'125u);
}

/// Encodes `records` in `mode` as one stream and parses it back.
Stream encode(Mode mode, const std::vector<FlowRecord>& records, uint32_t domain = 7) {
  Encoder e(mode, domain, 1400);
  std::vector<uint8_t> bytes;
  const auto take = [&] {
    const std::span<const uint8_t> m = e.emit();
    bytes.insert(bytes.end(), m.begin(), m.end());
  };
  // libfixbuf's manual mode puts templates and data in messages of their own: each says kFull once.
  Encoder::Status t = e.append_templates();
  for (int i = 0; i < 4 && t == Encoder::Status::kFull; ++i) {
    take();
    t = e.append_templates();
  }
  EXPECT_EQ(t, Encoder::Status::kOk) << e.error();
  for (const FlowRecord& r : records) {
    Encoder::Status s = e.append(r);
    while (s == Encoder::Status::kFull) {
      take();
      s = e.append(r);
    }
    EXPECT_EQ(s, Encoder::Status::kOk) << e.error();
  }
  take();
  Stream out;
  parse(bytes.data(), bytes.size(), out);
  return out;
}

TEST(Encoder, BiflowCarriesBothDirectionsAndTheEnterpriseElements) {
  Built v4 = rejected_v4(), v6 = closed_v6();
  FlowRecord a, b;
  make_flow_record(v4.record, a);
  make_flow_record(v6.record, b);
  const Stream s = encode(Mode::kBiflow, {a, b});
  ASSERT_EQ(s.records.size(), 2u);
  ASSERT_TRUE(s.templates.count(kTemplateBiflow4) && s.templates.count(kTemplateBiflow6));
  EXPECT_EQ(s.templates.count(kTemplateUniflow4), 0u);
  for (uint32_t d : s.domains) EXPECT_EQ(d, 7u);

  const auto& r4 = s.records[0].fields;
  EXPECT_EQ(s.records[0].tid, kTemplateBiflow4);
  EXPECT_EQ(be(r4.at(kSrc4)), 0x0a000001u);
  EXPECT_EQ(be(r4.at(kDst4)), 0xc0000207u);
  EXPECT_EQ(be(r4.at(kSrcPort)), 40000u);
  EXPECT_EQ(be(r4.at(kDstPort)), 443u);
  EXPECT_EQ(be(r4.at(kProto)), 6u);
  EXPECT_EQ(be(r4.at(kPackets)), 2u);
  EXPECT_EQ(be(r4.at(kOctets)), 120u);
  EXPECT_EQ(be(r4.at(kRevPackets)), 1u);
  EXPECT_EQ(be(r4.at(kRevOctets)), 40u);
  EXPECT_EQ(be(r4.at(kInitOctets)), 120u);
  EXPECT_EQ(be(r4.at(kRespOctets)), 40u);
  EXPECT_EQ(be(r4.at(kInitPkts)), 2u);
  EXPECT_EQ(be(r4.at(kRespPkts)), 1u);
  EXPECT_EQ(be(r4.at(kFlags)), kTcpSyn);
  EXPECT_EQ(be(r4.at(kRevFlags)), kTcpRst);
  EXPECT_EQ(be(r4.at(kSyn)), 2u);
  EXPECT_EQ(be(r4.at(kRevSyn)), 0u);
  EXPECT_EQ(be(r4.at(kRevRst)), 1u);
  EXPECT_EQ(be(r4.at(kRst)), 0u);
  EXPECT_EQ(be(r4.at(kEndReason)), 0x03u);
  EXPECT_EQ(be(r4.at(kStart)), 1'700'000'000'123u);
  EXPECT_EQ(be(r4.at(kEnd)), 1'700'000'000'125u);
  EXPECT_EQ(str(r4.at(kConnState)), "REJ");
  EXPECT_EQ(str(r4.at(kHistory)), "Sr");
  EXPECT_EQ(str(r4.at(kFailure)), "rejected");
  EXPECT_EQ(str(r4.at(kPerspective)), "outbound");
  EXPECT_EQ(str(r4.at(kUid)), std::string(a.uid.view()));
  EXPECT_EQ(str(r4.at(kSessionEnd)), "rst_resp");
  EXPECT_EQ(str(r4.at(kRemoved)), "timeout");
  EXPECT_EQ(r4.count(kSrc6), 0u);

  const auto& r6 = s.records[1].fields;
  EXPECT_EQ(s.records[1].tid, kTemplateBiflow6);
  EXPECT_EQ(r4.count(kSrc6), 0u);
  EXPECT_EQ(r6.count(kSrc4), 0u);
  const std::vector<uint8_t> src6 = r6.at(kSrc6), dst6 = r6.at(kDst6);
  EXPECT_EQ(std::memcmp(src6.data(), v6.record.orig_h.bytes.data(), 16), 0);
  EXPECT_EQ(std::memcmp(dst6.data(), v6.record.resp_h.bytes.data(), 16), 0);
  EXPECT_EQ(be(r6.at(kOctets)), 1000u);
  EXPECT_EQ(be(r6.at(kRevOctets)), 5000u);
  EXPECT_EQ(be(r6.at(kRevFin)), 1u);
  EXPECT_EQ(be(r6.at(kRevSyn)), 1u);
  EXPECT_EQ(be(r6.at(kEndReason)), 0x03u);
  EXPECT_EQ(str(r6.at(kFailure)), "");
  EXPECT_EQ(str(r6.at(kSessionEnd)), "fin");
}

TEST(Encoder, UniflowSendsEachDirectionAsItsOwnRecord) {
  Built v6 = closed_v6();
  FlowRecord b;
  make_flow_record(v6.record, b);
  const Stream s = encode(Mode::kUniflow, {b});
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.templates.count(kTemplateBiflow6), 0u);
  const auto& fwd = s.records[0].fields;
  const auto& rev = s.records[1].fields;
  EXPECT_EQ(s.records[0].tid, kTemplateUniflow6);
  EXPECT_EQ(fwd.count(kRevOctets), 0u);
  EXPECT_EQ(std::memcmp(fwd.at(kSrc6).data(), v6.record.orig_h.bytes.data(), 16), 0);
  EXPECT_EQ(std::memcmp(rev.at(kSrc6).data(), v6.record.resp_h.bytes.data(), 16), 0);
  EXPECT_EQ(be(fwd.at(kSrcPort)), 50000u);
  EXPECT_EQ(be(rev.at(kSrcPort)), 80u);
  EXPECT_EQ(be(rev.at(kDstPort)), 50000u);
  EXPECT_EQ(be(fwd.at(kOctets)), 1000u);
  EXPECT_EQ(be(rev.at(kOctets)), 5000u);
  EXPECT_EQ(be(fwd.at(kPackets)), 7u);
  EXPECT_EQ(be(rev.at(kPackets)), 6u);
  EXPECT_EQ(str(rev.at(kUid)), str(fwd.at(kUid)));
}

TEST(Encoder, ManyRecordsSplitOverMessagesLoseNone) {
  Built v4 = rejected_v4();
  std::vector<FlowRecord> records(500);
  for (size_t i = 0; i < records.size(); ++i) {
    v4.record.orig_p = static_cast<uint16_t>(1000 + i);
    make_flow_record(v4.record, records[i]);
  }
  for (Mode mode : {Mode::kBiflow, Mode::kUniflow}) {
    const Stream s = encode(mode, records);
    ASSERT_EQ(s.records.size(), records.size() * (mode == Mode::kBiflow ? 1 : 2));
    EXPECT_GT(s.domains.size(), 10u) << "1400-byte messages";
    for (size_t i = 0; i < records.size(); ++i) {
      const size_t k = mode == Mode::kBiflow ? i : 2 * i;
      EXPECT_EQ(be(s.records[k].fields.at(kSrcPort)), 1000 + i);
    }
  }
}

TEST(Destination, ParsesTheThreeTransports) {
  Destination d;
  std::string why;
  ASSERT_TRUE(parse_destination("udp://127.0.0.1:4739", d, why));
  EXPECT_EQ(d.kind, TransportKind::kUdp);
  EXPECT_EQ(d.host, "127.0.0.1");
  EXPECT_EQ(d.port, 4739);
  ASSERT_TRUE(parse_destination("tcp://[::1]:4740", d, why));
  EXPECT_EQ(d.kind, TransportKind::kTcp);
  EXPECT_EQ(d.host, "::1");
  ASSERT_TRUE(parse_destination("file:/tmp/x.ipfix", d, why));
  EXPECT_EQ(d.path, "/tmp/x.ipfix");
  for (const char* bad :
       {"udp://host", "udp://:1", "udp://h:0", "udp://h:65536", "tcp://::1:80", "file:", "http://x:1", "udp://h:12a"}) {
    EXPECT_FALSE(parse_destination(bad, d, why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(SpscRing, KeepsOrderAndRefusesWhenFull) {
  SpscRing<uint64_t> ring(3);
  EXPECT_EQ(ring.capacity(), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_NE(ring.front(), nullptr);
    EXPECT_EQ(*ring.front(), i);
    ring.pop();
  }
  EXPECT_EQ(ring.front(), nullptr);
}

TEST(SpscRing, TwoThreadsSeeEveryItemOnceInOrder) {
  SpscRing<uint64_t> ring(64);
  constexpr uint64_t kItems = 1'000'000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kItems; ++i) {
      while (!ring.try_push(i)) std::this_thread::yield();
    }
  });
  uint64_t expect = 0;
  while (expect < kItems) {
    const uint64_t* v = ring.front();
    if (v == nullptr) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(*v, expect);
    ring.pop();
    ++expect;
  }
  producer.join();
}

std::string temp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name + std::to_string(::getpid());
}

FlowRecord some_record(uint16_t port) {
  Built b = rejected_v4();
  b.record.orig_p = port;
  FlowRecord f;
  make_flow_record(b.record, f);
  return f;
}

TEST(Exporter, FileGetsEverySessionAndCountsThem) {
  const std::string path = temp_path("synscope-ipfix-file");
  ExporterConfig c;
  std::string why;
  ASSERT_TRUE(parse_destination("file:" + path, c.destination, why));
  c.mode = Mode::kUniflow;
  c.domain = 42;
  {
    Exporter e(c);
    for (uint16_t i = 0; i < 3000; ++i) e.offer(some_record(i));
    e.close();
    EXPECT_EQ(e.stats().written, 3000u);
    EXPECT_EQ(e.stats().dropped, 0u);
  }
  const std::vector<uint8_t> bytes = read_file(path);
  Stream s;
  parse(bytes.data(), bytes.size(), s);
  ASSERT_EQ(s.records.size(), 6000u);
  EXPECT_EQ(s.domains.front(), 42u);
  ::unlink(path.c_str());
}

// logrotate moves the file and sends SIGHUP: the sessions before it stay in the moved file, those after
// go to a new file that starts with the templates (each file reads on its own); none lost or doubled.
TEST(Exporter, ReopenAfterTheFileWasMovedSplitsTheExportIntoTwoReadableFiles) {
  const std::string path = temp_path("synscope-ipfix-rotate"), moved = path + ".1";
  ExporterConfig c;
  std::string why;
  ASSERT_TRUE(parse_destination("file:" + path, c.destination, why));
  {
    Exporter e(c);
    for (uint16_t i = 0; i < 1000; ++i) e.offer(some_record(i));
    for (int waited = 0; e.stats().written < 1000 && waited < 5000; waited += 10) ::usleep(10'000);
    ASSERT_EQ(e.stats().written, 1000u);
    ASSERT_EQ(::rename(path.c_str(), moved.c_str()), 0);
    e.reopen();
    for (uint16_t i = 1000; i < 2500; ++i) e.offer(some_record(i));
    e.close();
    EXPECT_EQ(e.stats().written, 2500u);
    EXPECT_EQ(e.stats().dropped, 0u);
  }
  Stream before, after;
  const std::vector<uint8_t> a = read_file(moved), b = read_file(path);
  parse(a.data(), a.size(), before);
  parse(b.data(), b.size(), after);
  EXPECT_EQ(before.records.size(), 1000u);
  EXPECT_EQ(after.records.size(), 1500u);
  EXPECT_FALSE(after.templates.empty());
  ::unlink(path.c_str());
  ::unlink(moved.c_str());
}

TEST(Exporter, ReplayWaitsForRoomInsteadOfDropping) {
  const std::string path = temp_path("synscope-ipfix-wait");
  ExporterConfig c;
  std::string why;
  ASSERT_TRUE(parse_destination("file:" + path, c.destination, why));
  c.ring_records = 2;  // the consumer outruns the exporter thread at once
  c.wait_ms = -1;
  std::atomic<bool> cancel{false};
  c.cancel = &cancel;
  Exporter e(c);
  for (uint16_t i = 0; i < 5000; ++i) e.offer(some_record(i));
  e.close();
  EXPECT_EQ(e.stats().written, 5000u);
  EXPECT_EQ(e.stats().dropped, 0u);
  ::unlink(path.c_str());
}

/// A TCP port on 127.0.0.1 with nothing listening (bound, never listened to, so nobody else takes it).
struct ClosedPort {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  uint16_t port = 0;
  ClosedPort() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~ClosedPort() { ::close(fd); }
};

TEST(Exporter, NoCollectorDropsAndCountsEverySession) {
  ClosedPort closed;
  ExporterConfig c;
  std::string why;
  ASSERT_TRUE(parse_destination("tcp://127.0.0.1:" + std::to_string(closed.port), c.destination, why));
  Exporter e(c);
  for (uint16_t i = 0; i < 1000; ++i) e.offer(some_record(i));
  const auto t0 = std::chrono::steady_clock::now();
  e.close();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(e.stats().written, 0u);
  EXPECT_EQ(e.stats().dropped, 1000u);
  EXPECT_TRUE(e.stats().dropping);
}

/// A TCP collector that accepts and never reads: sends fill the socket buffers and then block.
struct StuckCollector {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  uint16_t port = 0;
  StuckCollector() {
    const int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd, 4), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~StuckCollector() { ::close(fd); }
};

TEST(Exporter, SlowCollectorLiveDropsWithoutStallingAndAccountsForEverySession) {
  StuckCollector stuck;
  ExporterConfig c;
  std::string why;
  ASSERT_TRUE(parse_destination("tcp://127.0.0.1:" + std::to_string(stuck.port), c.destination, why));
  c.ring_records = 256;
  c.wait_ms = 300;
  Exporter e(c);
  constexpr uint64_t kOffered = 200'000;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < kOffered; ++i) e.offer(some_record(static_cast<uint16_t>(i)));
  // The consumer side never waits: 200k offers take far less than one blocked send.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  e.close();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(6));
  const ExporterStats s = e.stats();
  EXPECT_GT(s.dropped, 0u);
  EXPECT_EQ(s.written + s.dropped, kOffered) << "every session is written or dropped, once";
}

TEST(Exporter, ReplayStoppedWhileTheCollectorIsStuckEndsPromptly) {
  StuckCollector stuck;
  ExporterConfig c;
  std::string why;
  ASSERT_TRUE(parse_destination("tcp://127.0.0.1:" + std::to_string(stuck.port), c.destination, why));
  c.ring_records = 256;
  c.wait_ms = -1;
  std::atomic<bool> cancel{false};
  c.cancel = &cancel;
  Exporter e(c);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    cancel.store(true);
  });
  constexpr uint64_t kOffered = 200'000;
  for (uint64_t i = 0; i < kOffered; ++i) e.offer(some_record(static_cast<uint16_t>(i)));
  const auto t0 = std::chrono::steady_clock::now();
  e.close();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
  stopper.join();
  const ExporterStats s = e.stats();
  EXPECT_GT(s.dropped, 0u);
  EXPECT_EQ(s.written + s.dropped, kOffered);
}

TEST(Exporter, AnUnopenableFileIsAnOutputErrorNamingIt) {
  ExporterConfig c;
  std::string why;
  ASSERT_TRUE(parse_destination("file:/nonexistent-dir/x.ipfix", c.destination, why));
  try {
    Exporter e(c);
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::kOutput);
    EXPECT_NE(std::string(err.what()).find("/nonexistent-dir/x.ipfix"), std::string::npos);
    EXPECT_NE(std::string(err.what()).find("No such file"), std::string::npos);
  }
}

}  // namespace
}  // namespace synscope::ipfix
