// capture: reads pcap and pcapng files for offline replay.
//
// The file is memory-mapped and frames are handed out as pointers into the mapping (zero copy). Each
// CaptureReader is used by one thread. We read the formats ourselves rather than through libpcap because
// libpcap 1.10 refuses pcapng files whose interfaces differ in snap length or link type (real multi-interface
// captures do), and cannot say at which byte offset a file is corrupt; both matter to users here.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/truncation_guard.hpp"
#include "error/error.hpp"
#include "packet/packet.hpp"

namespace synscope::capture {

/// A capture file could not be opened or is not pcap/pcapng (start-up error; the message names the file).
class CaptureError : public Error {
 public:
  explicit CaptureError(const std::string& message) : Error(ErrorKind::kInput, message) {}
};

/// One captured frame; `data` points into the mapped file and stays valid while the reader lives.
struct Frame {
  const uint8_t* data = nullptr;
  uint32_t caplen = 0;
  uint32_t wire_len = 0;
  uint64_t ts_ns = 0;
  packet::LinkType link = packet::LinkType::kEthernet;  ///< kUnsupported: parsed as not IP
  uint32_t link_number = 0;                             ///< the capture's own link-type number
};

class CaptureReader {
 public:
  enum class Next { kFrame, kEnd, kError };

  /// Opens and maps `path`; throws CaptureError naming the file on any failure.
  explicit CaptureReader(const std::string& path);
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  /// Advances to the next frame. kError: the file is corrupt at offset(); error() says how. A file truncated
  /// while it is read is such an error (TruncationGuard), not a SIGBUS.
  Next next(Frame& frame) noexcept;

  /// Maps the next window of the file into the page tables ahead of the reader (MADV_POPULATE_READ), up to
  /// kPopulateHorizon past the reader's position. Safe to call from another thread while next() runs: the
  /// replay engine thread calls it while it waits for bursts, so page-table work leaves the reader when the
  /// engine has time to spare. next() still maps a window itself when nobody did. True if it mapped one.
  bool populate_ahead() noexcept;
  /// Drops the page-table entries of every whole window below file offset `consumed` (MADV_DONTNEED: the
  /// page cache keeps the data; touching such a page again simply faults it back in, so a wrong offset
  /// costs time, never data). Any thread: replay calls it while a thread waits, so unmapping the capture is
  /// spread over the run instead of one munmap at the end. True if it released a window.
  bool release_behind(uint64_t consumed) noexcept;

  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] uint64_t offset() const noexcept { return pos_; }
  [[nodiscard]] uint64_t size() const noexcept { return size_; }
  [[nodiscard]] bool is_pcapng() const noexcept { return pcapng_; }

 private:
  struct Interface {
    uint32_t link_number = 1;
    packet::LinkType link = packet::LinkType::kEthernet;
    bool ts_base2 = false;
    uint8_t ts_exp = 6;  ///< timestamp unit 10^-exp (or 2^-exp) seconds
    int64_t ts_offset_s = 0;
  };

  Next next_pcap(Frame& frame) noexcept;
  Next next_pcapng(Frame& frame) noexcept;
  Next fail(uint64_t at, const char* what) noexcept;
  /// Fills `frame` with a packet whose bytes start at file offset `data_at`.
  Next emit(Frame& frame, uint64_t data_at, uint32_t caplen, uint32_t wire, uint64_t ts_ns,
            const Interface& itf) noexcept;
  [[nodiscard]] uint32_t u32(uint64_t at) const noexcept;
  [[nodiscard]] uint16_t u16(uint64_t at) const noexcept;
  bool parse_idb(uint64_t body, uint64_t body_len) noexcept;
  /// A packet block's timestamp in nanoseconds since 1970 into `out`; false when it does not fit in 64 bits.
  [[nodiscard]] bool to_ns(const Interface& itf, uint64_t ts, uint64_t& out) const noexcept;

  /// Claims the next window below `limit` and maps it; false when there is none.
  bool populate_window(uint64_t limit) noexcept;

  static constexpr uint64_t kPopulateWindow = 8u << 20;  ///< multiple of the page size
  static constexpr uint64_t kPopulateHorizon = 64u << 20;
  static constexpr uint64_t kPrefetchAhead = 2048;

  std::string path_;
  const uint8_t* base_ = nullptr;
  std::optional<TruncationGuard> guard_;  ///< while base_ is mapped
  // Shared with the worker thread, which polls them while it waits: on a cache line of their own, away
  // from the fields the reading thread writes for every frame (pos_, prefetched_to_).
  alignas(64) std::atomic<uint64_t> populated_to_{0};  ///< windows below it are claimed (by either thread)
  std::atomic<uint64_t> read_pos_{0};                  ///< pos_, published every MiB for populate_ahead()
  std::atomic<uint64_t> released_to_{0};               ///< windows below it were released (release_behind)
  alignas(64) uint64_t next_publish_ = 0;
  uint64_t prefetched_to_ = 0;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  bool pcapng_ = false;
  bool swapped_ = false;  ///< file byte order differs from ours
  bool nanos_ = false;    ///< classic pcap with nanosecond timestamps
  uint32_t snaplen_ = 0;
  Interface pcap_itf_;
  std::vector<Interface> interfaces_;
  uint64_t last_ts_ns_ = 0;
  std::string error_;
};

}  // namespace synscope::capture
