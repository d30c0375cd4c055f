// service_notify: tells a service manager (systemd, Type=notify) how a live run is doing, via sd_notify:
// READY=1 once the lcores run and the metrics endpoint listens, WATCHDOG=1 at half the unit's WatchdogSec
// for as long as the loop that consumes every engine's sessions keeps turning, STOPPING=1 when a stop
// begins, and STATUS= lines a `systemctl status` shows. Without $NOTIFY_SOCKET (not started by systemd)
// every call is a no-op.
//
// Used on the main thread only (the live run's consumer loop calls tick()).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace synscope::app {

class ServiceNotifier {
 public:
  ServiceNotifier();
  /// READY=1 with a STATUS line.
  void ready(const std::string& status) const;
  /// WATCHDOG=1 when half the watchdog interval has passed since the last one (and nothing without one).
  void tick();
  /// STOPPING=1 with a STATUS line.
  void stopping(const std::string& status) const;
  [[nodiscard]] bool watchdog() const noexcept { return watchdog_usec_ != 0; }

 private:
  uint64_t watchdog_usec_ = 0;
  std::chrono::steady_clock::time_point next_ping_{};
};

}  // namespace synscope::app
