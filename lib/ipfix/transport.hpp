// transport: the socket or file IPFIX messages go to, with bounded waits and errno on every failure.
//
// libfixbuf's own network exporter connects and sends with blocking calls, no timeout, and reports a
// failure as text without the errno; ours writes each message libfixbuf encoded (Encoder) itself, so a
// slow or absent collector costs a bounded wait, the loss can name the errno, and TCP reconnects on our
// schedule (Exporter). Constructed at start-up (where it may throw), then used by the exporter thread only.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ipfix/destination.hpp"

namespace synscope::ipfix {

/// Monotonic time in nanoseconds.
[[nodiscard]] uint64_t monotonic_ns() noexcept;

/// When a blocked send gives up: at `deadline_ns` (monotonic; 0: never) or as soon as `*cancel` is set.
struct SendLimit {
  uint64_t deadline_ns = 0;
  const std::atomic<bool>* cancel = nullptr;
};

class Transport {
 public:
  /// Resolves the address (udp/tcp) and creates the UDP socket, checks that a TCP socket can be created
  /// (the connection itself is made by connect()), or creates/truncates the file. Throws Error
  /// (ErrorKind::kOutput) naming --ipfix-out, the address or path, and the errno or resolver message.
  explicit Transport(const Destination& destination);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// TCP: the transport must be connected (connect()) before it sends, and reconnected after a failure.
  [[nodiscard]] bool stream() const noexcept { return destination_.kind == TransportKind::kTcp; }
  [[nodiscard]] bool connected() const noexcept { return fd_ >= 0; }
  /// TCP: connects, waiting at most `wait_ms`. 0, or the errno (ETIMEDOUT when the wait ran out).
  [[nodiscard]] int connect(int wait_ms) noexcept;
  /// TCP: closes the connection (after a failed send: part of a message may have gone).
  void disconnect() noexcept;
  /// Writes one whole message. 0, or the errno that stopped it: ETIMEDOUT at the limit's deadline,
  /// ECANCELED when its cancel flag was set, ENOTCONN when not connected.
  [[nodiscard]] int send(const uint8_t* data, size_t len, const SendLimit& limit) noexcept;
  /// File: opens the path again (created if logrotate moved the file away, appended to if not: IPFIX
  /// messages simply follow each other) and closes the old one. 0, or the errno (the old file is kept).
  [[nodiscard]] int reopen_file() noexcept;
  [[nodiscard]] const Destination& destination() const noexcept { return destination_; }

 private:
  Destination destination_;
  int fd_ = -1;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  int family_ = 0;
};

}  // namespace synscope::ipfix
