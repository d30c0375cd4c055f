// output: the hand-written number formatting agrees with the standard library at every digit boundary,
// JSON strings are escaped, ISO 8601 dates agree with gmtime, a session line is valid JSON with Zeek's or
// ECS field names and values and the flow's Community ID, and output files keep lines in order (faults:
// output_file_test.cpp).
#include "output/output.hpp"

#include "engine/uid_text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/files.hpp"

namespace synscope::output {
namespace {

std::string text(const LineBuffer& l) { return {l.data(), l.size()}; }

std::string u64_text(uint64_t v) {
  char storage[64];
  LineBuffer l(storage);
  l.clear();
  l.u64(v);
  return text(l);
}

TEST(LineBuffer, IntegersMatchToStringAtEveryDigitBoundary) {
  uint64_t p = 1;
  for (int digits = 1; digits <= 19; ++digits) {
    for (uint64_t v : {p - 1, p, p + 1, p * 5, p * 9, p * 10 - 1}) EXPECT_EQ(u64_text(v), std::to_string(v)) << v;
    p *= 10;
  }
  EXPECT_EQ(u64_text(UINT64_MAX), std::to_string(UINT64_MAX));
  // Around 2^32, where the 32-bit path ends, and with zeros inside the eight-digit groups above it.
  for (uint64_t v : std::initializer_list<uint64_t>{UINT32_MAX, uint64_t{UINT32_MAX} + 1, 100'000'000'000ULL,
                                                    1'000'000'000'000'000'000ULL, 10'000'000'000'000'000'000ULL,
                                                    1'234'500'000'000'000'001ULL, 12'000'000'700'000'000ULL}) {
    EXPECT_EQ(u64_text(v), std::to_string(v)) << v;
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    ASSERT_EQ(u64_text(v), std::to_string(v)) << v;
  }
}

TEST(LineBuffer, SecondsHaveMicrosecondPrecisionLikeZeek) {
  const auto seconds = [](uint64_t ns) {
    char storage[64];
    LineBuffer l(storage);
    l.seconds(ns);
    return text(l);
  };
  EXPECT_EQ(seconds(0), "0.000000");
  EXPECT_EQ(seconds(999), "0.000000");  // below a microsecond: truncated
  EXPECT_EQ(seconds(1'000), "0.000001");
  EXPECT_EQ(seconds(1'700'000'000'029'745'123ULL), "1700000000.029745");
  EXPECT_EQ(seconds(12'340'500'000ULL), "12.340500");
  EXPECT_EQ(seconds(999'999'999ULL), "0.999999");
}

TEST(LineBuffer, StringsAreEscaped) {
  char storage[64];
  LineBuffer l(storage);
  l.clear();
  l.str("ShADadFf");
  l.raw(",");
  l.str(std::string_view("a\"b\\c\x01", 6));
  EXPECT_EQ(text(l), R"("ShADadFf","a\"b\\c\u0001")");
}

TEST(LineBuffer, NeverWritesPastItsEnd) {
  char storage[2048 + 64];
  std::memset(storage, '#', sizeof(storage));
  LineBuffer l(storage, 2048);
  l.clear();
  const std::string chunk(100, 'x');
  for (int i = 0; i < 100; ++i) {
    l.raw(chunk);
    l.u64(UINT64_MAX);
    l.seconds(UINT64_MAX);
  }
  EXPECT_LE(l.size(), 2048u);
  EXPECT_GT(l.size(), 1900u);  // it did fill up
  EXPECT_TRUE(l.overflowed());
  l.clear();
  EXPECT_FALSE(l.overflowed());
  l.u64(UINT64_MAX);
  EXPECT_FALSE(l.overflowed());
  for (size_t i = 2048; i < sizeof(storage); ++i) ASSERT_EQ(storage[i], '#') << "wrote past its end at " << i;
}

// A rejected outbound session (its Session in `s`), the record the JSON tests format.
engine::SessionRecord rejected_session(tcp_session::Session& s) {
  s.first_ns = 1'700'000'000'250'000'000ULL;
  s.last_ns = s.first_ns + 1'500'000'000ULL;
  s.syn_mark = tcp_session::mark_at(s.first_ns, s.first_ns);
  s.marks[0].syn = 3;
  s.ep[0].pkts = 3;
  s.ep[0].ip_bytes = 180;
  s.marks[1].rst = 1;
  s.ep[1].pkts = 1;
  s.ep[1].ip_bytes = 40;
  const std::string_view history = "ShR";
  std::copy(history.begin(), history.end(), s.history);
  s.history_len = static_cast<uint8_t>(history.size());
  engine::SessionRecord r;
  r.session = &s;
  uint8_t ip_version = 0;
  EXPECT_TRUE(packet::parse_ip("10.1.2.3", r.orig_h, ip_version));
  EXPECT_TRUE(packet::parse_ip("192.0.2.80", r.resp_h, ip_version));
  r.orig_p = 40000;
  r.resp_p = 443;
  r.ip_version = 4;
  r.uid = 12345;
  r.state = tcp_session::ConnState::kREJ;
  r.perspective = buckets::Perspective::kOutbound;
  return r;
}

/// format()'s line for `r`, in a buffer of kMaxLine.
std::string formatted(const engine::SessionRecord& r) {
  char storage[kMaxLine];
  LineBuffer l(storage);
  SessionJsonWriter::format(r, l);
  return text(l);
}

TEST(SessionJsonWriter, LineIsJsonWithZeekFieldsAndOurs) {
  tcp_session::Session s;
  const engine::SessionRecord r = rejected_session(s);
  const std::string line = formatted(r);
  ASSERT_EQ(line.back(), '\n');
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"].get<double>(), 1700000000.25);
  EXPECT_EQ(j["id.orig_h"], "10.1.2.3");
  EXPECT_EQ(j["id.orig_p"], 40000);
  EXPECT_EQ(j["id.resp_h"], "192.0.2.80");
  EXPECT_EQ(j["id.resp_p"], 443);
  EXPECT_EQ(j["proto"], "tcp");
  EXPECT_EQ(j["duration"].get<double>(), 1.5);
  EXPECT_EQ(j["conn_state"], "REJ");
  EXPECT_EQ(j["history"], "ShR");
  EXPECT_EQ(j["orig_pkts"], 3);
  EXPECT_EQ(j["resp_pkts"], 1);
  EXPECT_EQ(j["orig_ip_bytes"], 180);
  EXPECT_EQ(j["resp_ip_bytes"], 40);
  EXPECT_EQ(j["failed"], true);
  EXPECT_EQ(j["reason"], std::string(tcp_session::failure_reason(tcp_session::ConnState::kREJ)));
  EXPECT_EQ(j["perspective"], "outbound");
  EXPECT_EQ(j["orig_syn"], 3);
  EXPECT_EQ(j["resp_rst"], 1);
  char uid[24];
  EXPECT_EQ(j["uid"], std::string(uid, engine::format_uid(12345, uid)));
  // Computed apart (Python: hashlib.sha1 over the spec's layout, base64) for 10.1.2.3:40000 -> 192.0.2.80:443.
  EXPECT_EQ(j["community_id"], "1:eOUAodohAo474VlPWbdiqeyeDyw=");
}

TEST(SessionJsonWriter, CommunityIdTakesTheSeedAndIgnoresTheDirection) {
  tcp_session::Session s;
  engine::SessionRecord r = rejected_session(s);
  char storage[kMaxLine];
  LineBuffer l(storage);
  SessionJsonWriter::format_zeek(r, l, 7);
  EXPECT_EQ(nlohmann::json::parse(text(l))["community_id"], "1:0xte6Hp9sauRM28bZLwmd+HSznY=");
  std::swap(r.orig_h, r.resp_h);
  std::swap(r.orig_p, r.resp_p);
  EXPECT_EQ(nlohmann::json::parse(formatted(r))["community_id"], "1:eOUAodohAo474VlPWbdiqeyeDyw=");
}

TEST(Put, Iso8601MatchesGmtimeAtEveryBoundary) {
  const auto iso = [](uint64_t ns) {
    char b[32];
    return std::string(b, put::iso8601(b, ns));
  };
  EXPECT_EQ(iso(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(iso(1'700'000'000'250'000'999ULL), "2023-11-14T22:13:20.250000Z");
  EXPECT_EQ(iso(951'782'400'000'001'000ULL), "2000-02-29T00:00:00.000001Z");    // a leap day of a 400th year
  EXPECT_EQ(iso(4'107'542'399'999'999'999ULL), "2100-02-28T23:59:59.999999Z");  // 2100 is no leap year
  EXPECT_EQ(iso(UINT64_MAX), "2554-07-21T23:34:33.709551Z");
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t ns = rng() % (UINT64_MAX / 1000) * (1 + rng() % 1000);
    const auto t = static_cast<time_t>(ns / 1'000'000'000ULL);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char expected[40];
    const size_t n = std::strftime(expected, sizeof(expected), "%Y-%m-%dT%H:%M:%S", &tm);
    char us[16];
    std::snprintf(us, sizeof(us), ".%06uZ", static_cast<unsigned>(ns % 1'000'000'000ULL / 1000));
    ASSERT_EQ(iso(ns), std::string(expected, n) + us) << ns;
  }
}

/// format_ecs()'s line for `r`, parsed.
nlohmann::json ecs(const engine::SessionRecord& r, uint16_t seed = 0) {
  char storage[kMaxLine];
  LineBuffer l(storage);
  SessionJsonWriter::format_ecs(r, l, seed);
  EXPECT_FALSE(l.overflowed());
  EXPECT_EQ(text(l).back(), '\n');
  return nlohmann::json::parse(text(l));
}

TEST(SessionJsonWriter, EcsLineHasEveryFieldWithItsTypeAndValue) {
  tcp_session::Session s;
  const engine::SessionRecord r = rejected_session(s);
  const nlohmann::json j = ecs(r);
  EXPECT_EQ(j["@timestamp"], "2023-11-14T22:13:20.250000Z");
  const nlohmann::json& e = j["event"];
  EXPECT_EQ(e["kind"], "event");
  EXPECT_EQ(e["category"], nlohmann::json::array({"network"}));
  EXPECT_EQ(e["type"], nlohmann::json::array({"connection", "end"}));
  EXPECT_EQ(e["start"], "2023-11-14T22:13:20.250000Z");
  EXPECT_EQ(e["end"], "2023-11-14T22:13:21.750000Z");
  ASSERT_TRUE(e["duration"].is_number_unsigned());
  EXPECT_EQ(e["duration"], 1'500'000'000u);
  EXPECT_EQ(e["outcome"], "failure");
  EXPECT_EQ(e["reason"], std::string(tcp_session::failure_reason(tcp_session::ConnState::kREJ)));
  const nlohmann::json& src = j["source"];
  EXPECT_EQ(src["ip"], "10.1.2.3");
  EXPECT_EQ(src["port"], 40000);
  EXPECT_EQ(src["packets"], 3);
  EXPECT_EQ(src["bytes"], 180);
  const nlohmann::json& dst = j["destination"];
  EXPECT_EQ(dst["ip"], "192.0.2.80");
  EXPECT_EQ(dst["port"], 443);
  EXPECT_EQ(dst["packets"], 1);
  EXPECT_EQ(dst["bytes"], 40);
  const nlohmann::json& n = j["network"];
  EXPECT_EQ(n["transport"], "tcp");
  EXPECT_EQ(n["type"], "ipv4");
  EXPECT_EQ(n["iana_number"], "6");  // a keyword in ECS: a string
  EXPECT_EQ(n["community_id"], "1:eOUAodohAo474VlPWbdiqeyeDyw=");
  EXPECT_EQ(n["direction"], "outbound");
  EXPECT_EQ(n["packets"], 4);
  EXPECT_EQ(n["bytes"], 220);
  char uid[24];
  EXPECT_EQ(j["zeek"]["session_id"], std::string(uid, engine::format_uid(12345, uid)));
  EXPECT_EQ(j["zeek"]["connection"]["state"], "REJ");
  EXPECT_EQ(j["zeek"]["connection"]["history"], "ShR");
  const nlohmann::json& o = j["synscope"];
  EXPECT_EQ(o["failed"], true);
  EXPECT_EQ(o["reason"], e["reason"]);
  EXPECT_EQ(o["perspective"], "outbound");
  EXPECT_EQ(o["orig_syn"], 3);
  EXPECT_EQ(o["orig_fin"], 0);
  EXPECT_EQ(o["orig_rst"], 0);
  EXPECT_EQ(o["resp_syn"], 0);
  EXPECT_EQ(o["resp_fin"], 0);
  EXPECT_EQ(o["resp_rst"], 1);
  EXPECT_EQ(o["end"], std::string(engine::session_end_name(engine::session_end(r))));
  EXPECT_EQ(o["removed"], "timeout");
  EXPECT_FALSE(o.contains("history_truncated"));
  // Nothing but the documented objects at the top.
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"@timestamp", "destination", "event", "network", "source", "synscope", "zeek"}));
  // The same synscope fields, names and values as the Zeek flavour's line.
  const nlohmann::json z = nlohmann::json::parse(formatted(r));
  for (const auto& [k, v] : o.items()) EXPECT_EQ(v, z[k]) << k;
  EXPECT_EQ(z["community_id"], n["community_id"]);
  EXPECT_EQ(ecs(r, 7)["network"]["community_id"], "1:0xte6Hp9sauRM28bZLwmd+HSznY=");
}

TEST(SessionJsonWriter, EcsLineOfAnEstablishedIpv6SessionSucceeds) {
  tcp_session::Session s;
  engine::SessionRecord r = rejected_session(s);
  uint8_t ip_version = 0;
  ASSERT_TRUE(packet::parse_ip("2001:db8::1", r.orig_h, ip_version));
  ASSERT_TRUE(packet::parse_ip("2001:db8::2", r.resp_h, ip_version));
  r.ip_version = 6;
  r.state = tcp_session::ConnState::kSF;
  r.perspective = buckets::Perspective::kPrivate;
  const nlohmann::json j = ecs(r);
  EXPECT_EQ(j["source"]["ip"], "2001:db8::1");
  EXPECT_EQ(j["destination"]["ip"], "2001:db8::2");
  EXPECT_EQ(j["network"]["type"], "ipv6");
  EXPECT_EQ(j["network"]["direction"], "internal");
  EXPECT_EQ(j["network"]["community_id"], "1:RYG3Msb11GthNt1OYXJouPzmrvA=");  // computed apart (Python)
  EXPECT_EQ(j["event"]["outcome"], "success");
  EXPECT_FALSE(j["event"].contains("reason"));
  EXPECT_EQ(j["synscope"]["failed"], false);
  EXPECT_TRUE(j["synscope"]["reason"].is_null());
  EXPECT_EQ(j["zeek"]["connection"]["state"], "SF");
  r.perspective = buckets::Perspective::kEdge;
  EXPECT_EQ(ecs(r)["network"]["direction"], "external");
  r.perspective = buckets::Perspective::kInbound;
  EXPECT_EQ(ecs(r)["network"]["direction"], "inbound");
}

TEST(OutputFile, AnUnopenablePathIsAnErrorNamingIt) {
  try {
    OutputFile f("/nonexistent-dir/sessions.json");
    FAIL() << "opened a path in a missing directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/sessions.json"), std::string::npos) << e.what();
  }
}

// Formats "<word><i>\n" in place in `f` (reserve/commit) and appends the same text to `expected`.
void commit_numbered_line(OutputFile& f, std::string_view word, uint64_t i, std::string& expected) {
  LineBuffer l(f.reserve(64), 64);
  l.raw(word);
  l.u64(i);
  l.raw("\n");
  f.commit(l.size());
  expected += std::string(word) + std::to_string(i) + "\n";
}

// Lines formatted in place (reserve/commit) and copied ones (write) reach the file in order, across many
// drains of the 256 KiB buffer, and a record longer than the buffer passes through whole.
TEST(OutputFile, ReservedAndWrittenLinesArriveInOrder) {
  const test::TempFile file("synscope-output-test");
  std::string expected;
  {
    OutputFile f(file.path());
    for (uint64_t i = 0; i < 40000; ++i) {
      if (i % 3 == 0) {
        const std::string line = "written " + std::to_string(i) + "\n";
        f.write(line.data(), line.size());
        expected += line;
      } else {
        commit_numbered_line(f, "reserved ", i, expected);
      }
      if (i == 20000) {
        const std::string big(300000, 'b');
        f.write(big.data(), big.size());
        expected += big;
      }
    }
    ASSERT_TRUE(f.flush());
  }
  const std::string got = file.read();
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
}

// Two outputs on stdout ("-", e.g. --sessions-out - --alerts-out -) share one OutputFile (consumers):
// lines appear in the order they were written, whether formatted in place or copied with write().
TEST(OutputFile, TwoWritersOnStdoutInterleaveInOrder) {
  const test::TempFile file("synscope-output-test");
  const int fd = ::open(file.path().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(::dup2(fd, STDOUT_FILENO), 0);
  std::string expected;
  {
    OutputFile out("-");
    for (uint64_t i = 0; i < 1000; ++i) {
      commit_numbered_line(out, "session ", i, expected);
      const std::string alert = "alert " + std::to_string(i) + "\n";
      out.write(alert.data(), alert.size());
      expected += alert;
    }
    EXPECT_TRUE(out.flush());
    EXPECT_EQ(out.written_records(), 2000u);
  }
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(fd);
  const std::string got = file.read();
  EXPECT_TRUE(got == expected) << got.substr(0, 200);
}

// The longest line a session can give stays within the room format() asks for, in either flavour: every field
// at its widest.
TEST(SessionJsonWriter, TheLongestLineFitsItsRoom) {
  tcp_session::Session s;
  engine::SessionRecord r = rejected_session(s);
  uint8_t ip_version = 0;
  ASSERT_TRUE(packet::parse_ip("ffff:eeee:dddd:cccc:bbbb:aaaa:9999:8888", r.orig_h, ip_version));
  ASSERT_TRUE(packet::parse_ip("1111:2222:3333:4444:5555:6666:7777:8888", r.resp_h, ip_version));
  r.ip_version = 6;
  r.orig_p = r.resp_p = 65535;
  r.uid = UINT64_MAX;
  s.first_ns = 1;
  s.last_ns = UINT64_MAX;
  s.syn_mark = 1;
  s.synack_mark = tcp_session::kMarkMax / 2;
  s.handshake_ack_mark = tcp_session::kMarkMax;
  for (tcp_session::EndpointMarks& m : s.marks) m.syn = m.fin = m.rst = UINT16_MAX;
  for (tcp_session::Endpoint& e : s.ep) {
    e.pkts = UINT32_MAX;
    e.ip_bytes = UINT64_MAX;
    e.state = tcp_session::EndpointState::kEstablished;
    e.start_seq = 0;
    e.last_seq = UINT32_MAX;
  }
  s.history_len = tcp_session::kHistoryMax;
  std::fill(s.history, s.history + tcp_session::kHistoryMax, 'D');
  s.history_truncated = true;
  size_t longest = 0, longest_ecs = 0;
  for (size_t st = 0; st < static_cast<size_t>(tcp_session::ConnState::kCount); ++st) {
    for (size_t pe = 0; pe < buckets::kPerspectiveCount; ++pe) {
      for (engine::EndReason end : {engine::EndReason::kTimeout, engine::EndReason::kReuse, engine::EndReason::kEvicted,
                                    engine::EndReason::kEndOfInput, engine::EndReason::kShutdown}) {
        r.state = static_cast<tcp_session::ConnState>(st);
        r.perspective = static_cast<buckets::Perspective>(pe);
        r.end = end;
        for (const SessionFlavour flavour : {SessionFlavour::kZeek, SessionFlavour::kEcs}) {
          char storage[kMaxLine];
          LineBuffer l(storage);
          SessionJsonWriter::format(r, l, {flavour, UINT16_MAX, std::string(kMaxSensorName, 'n')});
          ASSERT_FALSE(l.overflowed());
          ASSERT_TRUE(nlohmann::json::accept(text(l))) << text(l);
          size_t& most = flavour == SessionFlavour::kEcs ? longest_ecs : longest;
          most = std::max(most, l.size());
        }
      }
    }
  }
  EXPECT_LE(longest, SessionJsonWriter::kMaxSessionLine);
  EXPECT_GT(longest, 700u);  // it did take the wide paths
  EXPECT_LE(longest_ecs, SessionJsonWriter::kMaxEcsSessionLine);
  EXPECT_GT(longest_ecs, 1000u);
  std::printf("longest session line: %zu bytes (zeek), %zu bytes (ecs)\n", longest, longest_ecs);
}

TEST(SessionJsonWriter, LinesNameTheSensorWhenOneIsSet) {
  tcp_session::Session s;
  const engine::SessionRecord r = rejected_session(s);
  char storage[kMaxLine];
  LineBuffer l(storage);
  SessionJsonWriter::format(r, l, {SessionFlavour::kZeek, 0, "tap-fra1"});
  EXPECT_EQ(nlohmann::json::parse(text(l))["sensor"], "tap-fra1");
  SessionJsonWriter::format(r, l, {SessionFlavour::kEcs, 0, "tap-fra1"});
  const nlohmann::json e = nlohmann::json::parse(text(l));
  EXPECT_EQ(e["observer"]["name"], "tap-fra1");
  EXPECT_EQ(e["observer"]["product"], "synscope");
  SessionJsonWriter::format(r, l, {});
  EXPECT_FALSE(nlohmann::json::parse(text(l)).contains("sensor"));  // none set: no field
}

TEST(SessionJsonWriter, RenderIsFormatOrNothingWhenTheLineDoesNotFit) {
  tcp_session::Session s;
  const engine::SessionRecord r = rejected_session(s);
  char rendered[kMaxLine];
  const size_t n = SessionJsonWriter::render(r, {}, rendered, sizeof(rendered));
  EXPECT_EQ(std::string(rendered, n), formatted(r));
  char small[100];
  EXPECT_EQ(SessionJsonWriter::render(r, {}, small, sizeof(small)), 0u);  // a cut line is never passed on
  const size_t e = SessionJsonWriter::render(r, {SessionFlavour::kEcs, 0, {}}, rendered, sizeof(rendered));
  EXPECT_EQ(nlohmann::json::parse(std::string(rendered, e)), ecs(r));
  EXPECT_EQ(SessionJsonWriter::render(r, {SessionFlavour::kEcs, 0, {}}, rendered, SessionJsonWriter::kMaxSessionLine),
            0u);
}

// A line already written on another thread (channel::SessionChannel's producer) is written as it came; a
// record is formatted here. Both end up in order in the file.
TEST(SessionJsonWriter, WritesAPreparedLineAsItCame) {
  const test::TempFile file("synscope-output-test");
  tcp_session::Session s;
  engine::SessionRecord r = rejected_session(s);
  const std::string line = formatted(r);
  {
    OutputFile f(file.path());
    SessionJsonWriter writer(f);
    writer.write_prepared("prepared elsewhere\n");
    writer.on_session(r);
    ASSERT_TRUE(f.flush());
  }
  EXPECT_EQ(file.read(), "prepared elsewhere\n" + line);
}

TEST(SessionJsonWriter, WritesTheFlavourItWasGiven) {
  const test::TempFile file("synscope-output-test");
  tcp_session::Session s;
  const engine::SessionRecord r = rejected_session(s);
  {
    OutputFile f(file.path());
    SessionJsonWriter writer(f, {SessionFlavour::kEcs, 7, {}});
    writer.on_session(r);
    ASSERT_TRUE(f.flush());
  }
  EXPECT_EQ(nlohmann::json::parse(file.read()), ecs(r, 7));
  EXPECT_EQ(session_flavour_name(SessionFlavour::kEcs), "ecs");
  EXPECT_EQ(session_flavour_name(SessionFlavour::kZeek), "zeek");
}

}  // namespace
}  // namespace synscope::output
