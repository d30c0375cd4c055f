// capture: frames come back exactly as written (bytes, lengths, times) while another thread maps pages
// ahead and releases them behind, as the replay worker does; corrupt and foreign files are errors that
// name the file or the byte offset.
#include "capture/capture.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/frames.hpp"

namespace synscope::capture {
namespace {

/// A microsecond pcap (Ethernet) whose frame i has 60 + i % 1400 bytes, each byte a function of (i, offset).
std::vector<uint8_t> make_pcap(uint32_t frames) {
  test::PcapBuilder pcap(1);  // LINKTYPE_ETHERNET
  std::vector<uint8_t> frame;
  for (uint32_t i = 0; i < frames; ++i) {
    frame.resize(60 + i % 1400);
    for (uint32_t k = 0; k < frame.size(); ++k) frame[k] = static_cast<uint8_t>(i * 31 + k);
    pcap.add((1700000000ULL + i / 1000) * 1'000'000'000ULL + (i % 1000) * 1'000'000ULL, frame);
  }
  return pcap.bytes();
}

TEST(CaptureReader, FramesSurvivePagesMappedAheadAndReleasedBehindByAnotherThread) {
  constexpr uint32_t kFrames = 60000;  // ~44 MB: several 8 MiB windows
  test::TempFile file("synscope-capture-test");
  file.write(make_pcap(kFrames));
  CaptureReader reader(file.path());
  std::atomic<uint64_t> consumed{0};
  std::atomic<bool> done{false};
  uint64_t mapped_by_helper = 0;
  std::thread helper([&] {
    while (!done.load()) {
      mapped_by_helper += reader.populate_ahead();
      // Release everything the reader has finished with, and now and then (wrongly) more: a released page
      // that is touched again must simply come back.
      reader.release_behind(consumed.load() + (mapped_by_helper % 3 == 0 ? (16u << 20) : 0));
    }
  });
  Frame f;
  uint32_t i = 0;
  bool all_match = true;
  while (reader.next(f) == CaptureReader::Next::kFrame) {
    const uint32_t len = 60 + i % 1400;
    all_match &= f.caplen == len && f.wire_len == len;
    all_match &= f.ts_ns == (1700000000ULL + i / 1000) * 1'000'000'000ULL + (i % 1000) * 1'000'000ULL;
    for (uint32_t k = 0; k < f.caplen; k += 97) all_match &= f.data[k] == static_cast<uint8_t>(i * 31 + k);
    consumed.store(reader.offset());
    ++i;
  }
  done.store(true);
  helper.join();
  // Offsets past the end must stay inside the mapping: advice beyond it would hit whatever is mapped next
  // (the first version crashed here, under load, on a thread stack).
  std::vector<uint8_t> canary(1 << 20, 0x5a);
  reader.release_behind(reader.size() + (256u << 20));
  reader.release_behind(UINT64_MAX);
  for (uint8_t c : canary) all_match &= c == 0x5a;
  EXPECT_TRUE(all_match);
  EXPECT_EQ(i, kFrames);
  EXPECT_EQ(reader.offset(), reader.size());
  EXPECT_TRUE(reader.error().empty()) << reader.error();
}

TEST(CaptureReader, TruncatedRecordIsAnErrorAtItsOffset) {
  test::TempFile file("synscope-capture-test");
  std::vector<uint8_t> b = make_pcap(3);
  const uint64_t third = 24 + (16 + 60) + (16 + 61);
  b.resize(third + 16 + 10);  // the third record's header promises 62 bytes; 10 are there
  file.write(b);
  CaptureReader reader(file.path());
  Frame f;
  ASSERT_EQ(reader.next(f), CaptureReader::Next::kFrame);
  ASSERT_EQ(reader.next(f), CaptureReader::Next::kFrame);
  EXPECT_EQ(reader.next(f), CaptureReader::Next::kError);
  EXPECT_NE(reader.error().find(std::to_string(third)), std::string::npos) << reader.error();
}

/// Little-endian pcapng writer for the tests below: section header, interface blocks and packet blocks.
class PcapngBuilder {
 public:
  PcapngBuilder() {
    block(0x0a0d0d0a, {0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }
  /// An Ethernet interface; `tsoffset` adds an if_tsoffset option (seconds) when non-zero.
  void interface(int64_t tsoffset = 0) {
    test::Bytes b;
    test::put_le(b, 1, 2);      // LINKTYPE_ETHERNET
    test::put_le(b, 0, 2);      // reserved
    test::put_le(b, 65535, 4);  // snaplen
    if (tsoffset != 0) {
      test::put_le(b, 14, 2);
      test::put_le(b, 8, 2);
      test::put_le(b, static_cast<uint64_t>(tsoffset), 8);
      test::put_le(b, 0, 4);  // opt_endofopt
    }
    block(1, b);
  }
  /// An enhanced packet block on interface 0 stamped `ts_us` microseconds, `caplen` bytes captured.
  void enhanced(uint64_t ts_us, uint32_t caplen) {
    test::Bytes b;
    test::put_le(b, 0, 4);
    test::put_le(b, ts_us >> 32, 4);
    test::put_le(b, ts_us & 0xffffffff, 4);
    test::put_le(b, caplen, 4);
    test::put_le(b, caplen, 4);
    b.resize(b.size() + ((caplen + 3) & ~3u), 0x11);
    block(6, b);
  }
  /// A simple packet block of `len` bytes (original length `len`).
  void simple(uint32_t len) {
    test::Bytes b;
    test::put_le(b, len, 4);
    b.resize(b.size() + ((len + 3) & ~3u), 0x22);
    block(3, b);
  }
  /// An obsolete packet block (type 2) of `caplen` bytes on interface 0.
  void obsolete(uint32_t caplen) {
    test::Bytes b;
    test::put_le(b, 0, 2);  // interface
    test::put_le(b, 0, 2);  // drops
    test::put_le(b, 0, 4);
    test::put_le(b, 1, 4);
    test::put_le(b, caplen, 4);
    test::put_le(b, caplen, 4);
    b.resize(b.size() + ((caplen + 3) & ~3u), 0x33);
    block(2, b);
  }
  [[nodiscard]] const test::Bytes& bytes() const noexcept { return bytes_; }

 private:
  void block(uint32_t type, const test::Bytes& body) {
    const uint32_t total = static_cast<uint32_t>(body.size() + 12);
    test::put_le(bytes_, type, 4);
    test::put_le(bytes_, total, 4);
    bytes_.insert(bytes_.end(), body.begin(), body.end());
    test::put_le(bytes_, total, 4);
  }
  test::Bytes bytes_;
};

CaptureReader::Next read_all(const test::Bytes& bytes, std::vector<Frame>& frames, std::string& error) {
  test::TempFile file("synscope-capture-test");
  file.write(bytes);
  CaptureReader reader(file.path());
  Frame f;
  CaptureReader::Next n;
  while ((n = reader.next(f)) == CaptureReader::Next::kFrame) frames.push_back(f);
  error = reader.error();
  return n;
}

// if_tsoffset shifts every time of its interface by whole seconds. A legal offset (a day back) applies; one
// whose product with 10^9 overflows 64 bits (it used to wrap silently: timestamps in the year 2377, and
// undefined behaviour) or that pushes a time before 1970 is a corrupt block at its offset.
TEST(CaptureReader, TsoffsetIsAppliedOrRejectedNeverWrapped) {
  for (const int64_t offset : {int64_t{-86400}, int64_t{1} << 62, int64_t{-2000000000}, INT64_MIN + 1}) {
    PcapngBuilder b;
    b.interface(offset);
    const uint64_t block_at = b.bytes().size();
    b.enhanced(1'700'000'000'000'000ULL, 60);
    std::vector<Frame> frames;
    std::string error;
    const auto end = read_all(b.bytes(), frames, error);
    if (offset == -86400) {
      ASSERT_EQ(end, CaptureReader::Next::kEnd) << error;
      ASSERT_EQ(frames.size(), 1u);
      EXPECT_EQ(frames[0].ts_ns, (1'700'000'000ULL - 86400) * 1'000'000'000ULL);
    } else {
      EXPECT_EQ(end, CaptureReader::Next::kError) << "offset " << offset;
      EXPECT_TRUE(frames.empty()) << "offset " << offset << " gave time " << frames[0].ts_ns;
      EXPECT_NE(error.find("offset " + std::to_string(block_at)), std::string::npos) << error;
    }
  }
}

// Every packet block type obeys the 262144-byte cap of enhanced blocks and classic records (simple and
// obsolete blocks used to hand out frames of any length).
TEST(CaptureReader, EveryPacketBlockTypeIsCappedAt262144Bytes) {
  for (int type : {2, 3, 6}) {
    for (uint32_t len : {262144u, 262148u}) {
      PcapngBuilder b;
      b.interface();
      if (type == 2) b.obsolete(len);
      if (type == 3) b.simple(len);
      if (type == 6) b.enhanced(1, len);
      std::vector<Frame> frames;
      std::string error;
      const auto end = read_all(b.bytes(), frames, error);
      if (len <= 262144) {
        EXPECT_EQ(end, CaptureReader::Next::kEnd) << "type " << type << ": " << error;
        ASSERT_EQ(frames.size(), 1u) << "type " << type;
        EXPECT_EQ(frames[0].caplen, len);
      } else {
        EXPECT_EQ(end, CaptureReader::Next::kError) << "type " << type << " length " << len;
        EXPECT_TRUE(frames.empty()) << "type " << type << " handed out " << frames[0].caplen << " bytes";
      }
    }
  }
}

// A capture cut short while it is mapped (a rotating tcpdump, a copy still being written, a careless
// operator) used to kill the replay with SIGBUS at the first read past its new end. Now the read gets zeros
// and the reader reports a corrupt capture at that frame; every frame before the cut is intact.
TEST(CaptureReader, TruncatedWhileMappedIsAnErrorNotSigbus) {
  test::TempFile file("synscope-capture-test");
  file.write(make_pcap(20000));  // ~14 MB
  CaptureReader reader(file.path());
  Frame f;
  uint32_t i = 0;
  bool intact = true;
  for (; i < 100; ++i) {
    ASSERT_EQ(reader.next(f), CaptureReader::Next::kFrame);
    intact &= f.caplen == 60 + i % 1400 && f.data[7] == static_cast<uint8_t>(i * 31 + 7);
  }
  ASSERT_EQ(::truncate(file.path().c_str(), 1 << 20), 0);
  CaptureReader::Next next;
  uint64_t sum = 0;
  while ((next = reader.next(f)) == CaptureReader::Next::kFrame) {
    for (uint32_t k = 0; k < f.caplen; ++k) sum += f.data[k];  // as the parser and the checksum would
    ++i;
  }
  EXPECT_EQ(next, CaptureReader::Next::kError);
  EXPECT_NE(reader.error().find("truncated while being read"), std::string::npos) << reader.error();
  EXPECT_LT(reader.offset(), reader.size());
  EXPECT_GT(i, 1000u);  // the first MiB was read
  EXPECT_LT(i, 2000u);
  EXPECT_TRUE(intact);
  EXPECT_GT(sum, 0u);
}

TEST(CaptureReader, NotACaptureIsAnErrorNamingTheFile) {
  test::TempFile file("synscope-capture-test");
  file.write(std::vector<uint8_t>(100, 'x'));
  try {
    CaptureReader reader(file.path());
    FAIL() << "accepted a file of 'x' bytes";
  } catch (const CaptureError& e) {
    EXPECT_NE(std::string(e.what()).find(file.path()), std::string::npos) << e.what();
  }
  EXPECT_THROW(CaptureReader("/nonexistent/synscope.pcap"), CaptureError);
}

}  // namespace
}  // namespace synscope::capture
