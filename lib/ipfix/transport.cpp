// transport: see transport.hpp.
#include "ipfix/transport.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "error/error.hpp"

namespace synscope::ipfix {
namespace {

/// A blocked send looks at its limit this often.
constexpr int kPollSliceMs = 100;

int poll_one(int fd, short events, int ms) noexcept {
  pollfd p{fd, events, 0};
  const int n = ::poll(&p, 1, ms);
  if (n < 0) return errno == EINTR ? 0 : -1;
  return n;
}

}  // namespace

int Transport::reopen_file() noexcept {
  if (destination_.kind != TransportKind::kFile) return 0;
  const int fd = ::open(destination_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return 0;
}

uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

Transport::Transport(const Destination& destination) : destination_(destination) {
  const std::string where = "--ipfix-out " + destination_.text;
  if (destination_.kind == TransportKind::kFile) {
    fd_ = ::open(destination_.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error(ErrorKind::kOutput, where + ": cannot open " + destination_.path + ": " + std::strerror(errno));
    return;
  }
  const bool udp = destination_.kind == TransportKind::kUdp;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(destination_.port);
  const int rc = ::getaddrinfo(destination_.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    throw Error(ErrorKind::kOutput, where + ": cannot resolve " + destination_.host + ": " +
                                        (rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)));
  }
  std::memcpy(&addr_, found->ai_addr, found->ai_addrlen);
  addr_len_ = found->ai_addrlen;
  family_ = found->ai_family;
  ::freeaddrinfo(found);
  const int fd = ::socket(family_, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw Error(ErrorKind::kOutput,
                where + ": cannot create a " + (udp ? "UDP" : "TCP") + " socket: " + std::strerror(errno));
  }
  if (!udp) {
    ::close(fd);  // TCP connects on the exporter thread (connect()), and again after every failure
    return;
  }
  // A connected UDP socket: send() needs no address, and a port that refuses (ICMP unreachable) shows as
  // ECONNREFUSED on a later send instead of going unseen.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0) {
    const int e = errno;
    ::close(fd);
    throw Error(ErrorKind::kOutput,
                where + ": cannot address " + destination_.host + ":" + port + ": " + std::strerror(e));
  }
  fd_ = fd;
}

Transport::~Transport() {
  if (fd_ >= 0) ::close(fd_);
}

int Transport::connect(int wait_ms) noexcept {
  if (!stream() || fd_ >= 0) return 0;
  const int fd = ::socket(family_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0) {
    if (errno != EINPROGRESS) {
      const int e = errno;
      ::close(fd);
      return e;
    }
    const int n = poll_one(fd, POLLOUT, wait_ms);
    int err = 0;
    socklen_t len = sizeof(err);
    if (n <= 0) {
      err = n == 0 ? ETIMEDOUT : errno;
    } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
      err = errno;
    }
    if (err != 0) {
      ::close(fd);
      return err;
    }
  }
  fd_ = fd;
  return 0;
}

void Transport::disconnect() noexcept {
  if (!stream() || fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

int Transport::send(const uint8_t* data, size_t len, const SendLimit& limit) noexcept {
  if (fd_ < 0) return ENOTCONN;
  const bool file = destination_.kind == TransportKind::kFile;
  while (len > 0) {
    const ssize_t n = file ? ::write(fd_, data, len) : ::send(fd_, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return errno;
    if (n == 0) return EIO;
    // The collector (or the socket buffer towards it) does not take data now: wait in slices, looking at
    // the limit between them.
    if (limit.cancel != nullptr && limit.cancel->load(std::memory_order_relaxed)) return ECANCELED;
    if (limit.deadline_ns != 0 && monotonic_ns() >= limit.deadline_ns) return ETIMEDOUT;
    if (poll_one(fd_, POLLOUT, kPollSliceMs) < 0) return errno;
  }
  return 0;
}

}  // namespace synscope::ipfix
