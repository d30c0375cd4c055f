// capture_fuzzer: libFuzzer target for capture::CaptureReader over pcap and pcapng (every block type: section
// and interface headers with options, enhanced, simple and obsolete packets, the rest skipped). The input is
// the file, written to a memfd the reader maps. Invariants: a file that is not a capture is refused with
// CaptureError (any other exception or a crash fails); every frame handed out lies inside the file, has at
// most 262144 bytes captured (all of them are read, so AddressSanitizer sees a pointer past the mapping)
// and is parsed as the replay would; next() ends with kEnd or kError (with a message naming the offset)
// within as many calls as the file has bytes. One thread; built only in the clang fuzz build.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "capture/capture.hpp"
#include "packet/packet.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

/// The input as a file the reader can open by path (a memfd, closed when the object goes).
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) : fd_(::memfd_create("capture-fuzz", MFD_CLOEXEC)) {
    check(fd_ >= 0);
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      check(n > 0);
      done += static_cast<size_t>(n);
    }
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  [[nodiscard]] std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemFile file(data, size);
  try {
    synscope::capture::CaptureReader reader(file.path());
    synscope::capture::Frame f;
    const synscope::packet::ParseOptions options;
    uint64_t calls = 0;
    uint64_t sum = 0;
    for (;;) {
      const auto next = reader.next(f);
      check(++calls <= size);
      check(reader.offset() <= reader.size());
      if (next == synscope::capture::CaptureReader::Next::kEnd) break;
      if (next == synscope::capture::CaptureReader::Next::kError) {
        check(reader.error().find("byte offset") != std::string::npos);
        break;
      }
      check(f.caplen <= 262144 && f.wire_len >= f.caplen);
      for (uint32_t i = 0; i < f.caplen; ++i) sum += f.data[i];  // every byte must be inside the mapping
      synscope::packet::PacketMeta meta;
      (void)synscope::packet::parse_frame(f.link, f.data, f.caplen, options, meta);
    }
    check(sum != UINT64_MAX);
  } catch (const synscope::capture::CaptureError&) {
    // not a capture, too short, unknown magic: refused at open, as the CLI says (exit 2)
  }
  return 0;
}
