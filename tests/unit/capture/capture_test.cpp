// capture: frames come back exactly as written (bytes, lengths, times) while another thread maps pages
// ahead and releases them behind, as the replay worker does; corrupt and foreign files are errors that
// name the file or the byte offset.
#include "capture/capture.hpp"

#include <gtest/gtest.h>

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
