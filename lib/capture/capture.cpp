// capture: pcap/pcapng parsing over a read-only mapping. See capture.hpp.
#include "capture/capture.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace synscope::capture {
namespace {

constexpr uint32_t kPcapMagicMicro = 0xa1b2c3d4;
constexpr uint32_t kPcapMagicNano = 0xa1b23c4d;
constexpr uint32_t kPcapngShb = 0x0a0d0d0a;
constexpr uint32_t kPcapngByteOrder = 0x1a2b3c4d;
constexpr uint32_t kMaxFrame = 262144;  // tcpdump's MAXIMUM_SNAPLEN, for every packet block type
constexpr const char* kTimeOutOfRange =
    "packet time outside 1970-2554 (its interface's if_tsresol/if_tsoffset push it out of 64-bit nanoseconds)";

std::string sys_error(const std::string& path, const char* what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

}  // namespace

CaptureReader::CaptureReader(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw CaptureError(sys_error(path, "cannot open"));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw CaptureError(sys_error(path, "cannot stat"));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw CaptureError(path + ": not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ < 24) {
    ::close(fd);
    throw CaptureError(path + ": too short to be a pcap or pcapng file (" + std::to_string(size_) + " bytes)");
  }
  void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) throw CaptureError(sys_error(path, "cannot map"));
  // Advice values are an enum, not flags: give both hints separately.
  ::madvise(m, size_, MADV_SEQUENTIAL);
  ::madvise(m, size_, MADV_WILLNEED);
  base_ = static_cast<const uint8_t*>(m);
  guard_.emplace(base_, size_);

  uint32_t magic;
  std::memcpy(&magic, base_, 4);
  if (magic == kPcapngShb) {
    pcapng_ = true;  // byte order is read from the section header in next_pcapng()
    return;
  }
  if (magic == kPcapMagicMicro || magic == kPcapMagicNano) {
    swapped_ = false;
  } else if (__builtin_bswap32(magic) == kPcapMagicMicro || __builtin_bswap32(magic) == kPcapMagicNano) {
    swapped_ = true;
    magic = __builtin_bswap32(magic);
  } else {
    guard_.reset();
    ::munmap(m, size_);
    base_ = nullptr;
    throw CaptureError(path + ": not a pcap or pcapng file (unknown magic at byte offset 0)");
  }
  nanos_ = magic == kPcapMagicNano;
  snaplen_ = u32(16);
  const uint32_t network = u32(20);
  pcap_itf_.link_number = network & 0x03ffffff;  // upper bits carry FCS information
  pcap_itf_.link = packet::link_type_of(pcap_itf_.link_number);
  pos_ = 24;
}

CaptureReader::~CaptureReader() {
  guard_.reset();  // before the range goes: an address reused after munmap is not the capture's
  if (base_ != nullptr) ::munmap(const_cast<uint8_t*>(base_), size_);
}

[[gnu::always_inline]] inline uint32_t CaptureReader::u32(uint64_t at) const noexcept {
  uint32_t v;
  std::memcpy(&v, base_ + at, 4);
  return swapped_ ? __builtin_bswap32(v) : v;
}

uint16_t CaptureReader::u16(uint64_t at) const noexcept {
  uint16_t v;
  std::memcpy(&v, base_ + at, 2);
  return swapped_ ? __builtin_bswap16(v) : v;
}

CaptureReader::Next CaptureReader::fail(uint64_t at, const char* what) noexcept {
  pos_ = at;
  error_ = path_ + ": corrupt capture at byte offset " + std::to_string(at) + ": " + what;
  return Next::kError;
}

[[gnu::always_inline]] inline CaptureReader::Next CaptureReader::emit(Frame& frame, uint64_t data_at, uint32_t caplen,
                                                                      uint32_t wire, uint64_t ts_ns,
                                                                      const Interface& itf) noexcept {
  frame.data = base_ + data_at;
  frame.caplen = caplen;
  frame.wire_len = wire < caplen ? caplen : wire;
  frame.ts_ns = ts_ns;
  frame.link = itf.link;
  frame.link_number = itf.link_number;
  return Next::kFrame;
}

CaptureReader::Next CaptureReader::next(Frame& frame) noexcept {
  // Stay ahead of the parser in two steps. Page tables: map the next window in one madvise call
  // (MADV_POPULATE_READ, Linux 5.14+) instead of one fault per 16 pages; where the kernel refuses, the
  // faults simply happen as before. Cache: prefetch the lines kPrefetchAhead bytes ahead, since the
  // hardware prefetcher stops at every 4 KiB page boundary and the checksum reads every payload byte.
  if (pos_ >= next_publish_) {
    read_pos_.store(pos_, std::memory_order_relaxed);
    next_publish_ = pos_ + (1u << 20);
  }
  if (pos_ + kPopulateWindow / 2 > populated_to_.load(std::memory_order_relaxed)) {
    (void)populate_window(pos_ + kPopulateWindow);
  }
  const uint64_t want = pos_ + kPrefetchAhead < size_ ? pos_ + kPrefetchAhead : size_;
  for (; prefetched_to_ < want; prefetched_to_ += 64) __builtin_prefetch(base_ + prefetched_to_);
  const uint64_t at = pos_;
  const Next next = pcapng_ ? next_pcapng(frame) : next_pcap(frame);
  // A read past the file's new end got zeros instead of SIGBUS (TruncationGuard): whatever this call read
  // is not the file's, and nothing after it is there any more.
  if (__builtin_expect(guard_->truncated(), 0)) {
    return fail(at, "the file was truncated while being read (the bytes from here on are gone)");
  }
  return next;
}

bool CaptureReader::populate_window(uint64_t limit) noexcept {
  uint64_t from = populated_to_.load(std::memory_order_relaxed);
  while (from < size_ && from < limit) {
    const uint64_t len = size_ - from < kPopulateWindow ? size_ - from : kPopulateWindow;
    if (populated_to_.compare_exchange_weak(from, from + len, std::memory_order_relaxed)) {
      // Only page tables change: the reader may touch the window meanwhile and simply fault as before.
      (void)::madvise(const_cast<uint8_t*>(base_) + from, len, MADV_POPULATE_READ);
      return true;
    }
  }
  return false;
}

bool CaptureReader::populate_ahead() noexcept {
  return populate_window(read_pos_.load(std::memory_order_relaxed) + kPopulateHorizon);
}

bool CaptureReader::release_behind(uint64_t consumed) noexcept {
  // Whole windows inside the file only: advice past the mapping would reach whatever is mapped next to it.
  const uint64_t limit = consumed < size_ ? consumed : size_;
  const uint64_t below = limit / kPopulateWindow * kPopulateWindow;
  uint64_t from = released_to_.load(std::memory_order_relaxed);
  while (from < below) {
    if (released_to_.compare_exchange_weak(from, below, std::memory_order_relaxed)) {
      (void)::madvise(const_cast<uint8_t*>(base_) + from, below - from, MADV_DONTNEED);
      return true;
    }
  }
  return false;
}

[[gnu::always_inline]] inline CaptureReader::Next CaptureReader::next_pcap(Frame& frame) noexcept {
  if (pos_ == size_) return Next::kEnd;
  if (size_ - pos_ < 16) return fail(pos_, "truncated record header");
  const uint32_t sec = u32(pos_), frac = u32(pos_ + 4), caplen = u32(pos_ + 8), wire = u32(pos_ + 12);
  if (caplen > kMaxFrame) return fail(pos_, "record length larger than 262144 bytes");
  if (size_ - pos_ - 16 < caplen) return fail(pos_, "truncated record (file ends inside a packet)");
  const uint64_t data_at = pos_ + 16;
  pos_ += 16 + caplen;
  return emit(frame, data_at, caplen, wire,
              uint64_t{sec} * 1'000'000'000ULL + (nanos_ ? frac : uint64_t{frac} * 1000ULL), pcap_itf_);
}

bool CaptureReader::to_ns(const Interface& itf, uint64_t ts, uint64_t& out) const noexcept {
  // 128-bit throughout: a 64-bit tick count in any resolution, shifted by an if_tsoffset of up to 2^63
  // seconds, cannot overflow it; what does not fit in 64-bit nanoseconds is the caller's error.
  __extension__ using i128 = __int128;
  __extension__ using u128 = unsigned __int128;
  i128 ns;
  if (itf.ts_base2) {
    ns = static_cast<i128>((static_cast<u128>(ts) * 1'000'000'000ULL) >> itf.ts_exp);
  } else if (itf.ts_exp <= 9) {
    uint64_t mul = 1;
    for (int i = itf.ts_exp; i < 9; ++i) mul *= 10;
    ns = static_cast<i128>(ts) * mul;
  } else {
    uint64_t div = 1;
    for (int i = 9; i < itf.ts_exp && i < 28; ++i) div *= 10;
    ns = ts / div;
  }
  ns += static_cast<i128>(itf.ts_offset_s) * 1'000'000'000;
  if (ns < 0 || ns > static_cast<i128>(UINT64_MAX)) return false;
  out = static_cast<uint64_t>(ns);
  return true;
}

bool CaptureReader::parse_idb(uint64_t body, uint64_t body_len) noexcept {
  if (body_len < 8) return false;
  Interface itf;
  itf.link_number = u16(body);
  itf.link = packet::link_type_of(itf.link_number);
  uint64_t opt = body + 8;
  const uint64_t end = body + body_len;
  while (opt + 4 <= end) {
    const uint16_t code = u16(opt), len = u16(opt + 2);
    if (code == 0) break;
    if (opt + 4 + len > end) return false;
    if (code == 9 && len >= 1) {  // if_tsresol
      const uint8_t r = base_[opt + 4];
      itf.ts_base2 = (r & 0x80) != 0;
      itf.ts_exp = r & 0x7f;
      if (itf.ts_base2 ? itf.ts_exp > 63 : itf.ts_exp > 27) return false;
    } else if (code == 14 && len >= 8) {  // if_tsoffset
      uint64_t v;
      std::memcpy(&v, base_ + opt + 4, 8);
      itf.ts_offset_s = static_cast<int64_t>(swapped_ ? __builtin_bswap64(v) : v);
    }
    opt += 4 + ((len + 3u) & ~3u);
  }
  interfaces_.push_back(itf);
  return true;
}

CaptureReader::Next CaptureReader::next_pcapng(Frame& frame) noexcept {
  for (;;) {
    if (pos_ == size_) return Next::kEnd;
    if (size_ - pos_ < 12) return fail(pos_, "truncated block header");
    uint32_t type;
    std::memcpy(&type, base_ + pos_, 4);
    if (type == kPcapngShb) {
      uint32_t bom;
      std::memcpy(&bom, base_ + pos_ + 8, 4);
      if (bom == kPcapngByteOrder) {
        swapped_ = false;
      } else if (__builtin_bswap32(bom) == kPcapngByteOrder) {
        swapped_ = true;
      } else {
        return fail(pos_ + 8, "bad byte-order magic in section header");
      }
      interfaces_.clear();  // interface ids are per section
    } else {
      type = swapped_ ? __builtin_bswap32(type) : type;
    }
    const uint32_t total = u32(pos_ + 4);
    if (total < 12 || (total & 3) != 0) return fail(pos_, "bad block length");
    if (total > size_ - pos_) return fail(pos_, "truncated block (file ends inside it)");
    if (u32(pos_ + total - 4) != total) return fail(pos_, "block trailer length does not match its header");
    const uint64_t block = pos_;
    const uint64_t body = pos_ + 8;
    const uint64_t body_len = total - 12;
    pos_ += total;

    switch (type) {
      case 0x00000001:  // interface description
        if (!parse_idb(body, body_len)) return fail(block, "malformed interface description block");
        break;
      case 0x00000006: {  // enhanced packet
        if (body_len < 20) return fail(block, "enhanced packet block too short");
        const uint32_t itf_id = u32(body), caplen = u32(body + 12), wire = u32(body + 16);
        if (itf_id >= interfaces_.size()) return fail(block, "packet names an undeclared interface");
        if (caplen > body_len - 20 || caplen > kMaxFrame) return fail(block, "packet length exceeds its block");
        const Interface& itf = interfaces_[itf_id];
        if (!to_ns(itf, (uint64_t{u32(body + 4)} << 32) | u32(body + 8), last_ts_ns_)) {
          return fail(block, kTimeOutOfRange);
        }
        return emit(frame, body + 20, caplen, wire, last_ts_ns_, itf);
      }
      case 0x00000003: {  // simple packet: interface 0, no timestamp
        if (body_len < 4) return fail(block, "simple packet block too short");
        if (interfaces_.empty()) return fail(block, "packet before any interface description");
        const uint32_t wire = u32(body);
        const uint64_t caplen = wire < body_len - 4 ? wire : body_len - 4;
        if (caplen > kMaxFrame) return fail(block, "packet length larger than 262144 bytes");
        return emit(frame, body + 4, static_cast<uint32_t>(caplen), wire, last_ts_ns_, interfaces_[0]);
      }
      case 0x00000002: {  // obsolete packet block
        if (body_len < 20) return fail(block, "packet block too short");
        const uint32_t itf_id = u16(body), caplen = u32(body + 12), wire = u32(body + 16);
        if (itf_id >= interfaces_.size()) return fail(block, "packet names an undeclared interface");
        if (caplen > body_len - 20 || caplen > kMaxFrame) return fail(block, "packet length exceeds its block");
        if (!to_ns(interfaces_[itf_id], (uint64_t{u32(body + 4)} << 32) | u32(body + 8), last_ts_ns_)) {
          return fail(block, kTimeOutOfRange);
        }
        return emit(frame, body + 20, caplen, wire, last_ts_ns_, interfaces_[itf_id]);
      }
      default: break;  // name resolution, statistics, custom, decryption secrets...: not needed
    }
  }
}

}  // namespace synscope::capture
