// service_notify: see service_notify.hpp.
#include "service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstring>

namespace synscope::app {

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_usec_ = usec;
}

void ServiceNotifier::ready(const std::string& status) const {
  const int rc = sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
  if (rc < 0) std::fprintf(stderr, "synscope: warning: sd_notify READY: %s\n", std::strerror(-rc));
}

void ServiceNotifier::tick() {
  if (watchdog_usec_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_ping_) return;
  next_ping_ = now + std::chrono::microseconds(watchdog_usec_ / 2);
  (void)sd_notify(0, "WATCHDOG=1");
}

void ServiceNotifier::stopping(const std::string& status) const {
  (void)sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status.c_str());
}

}  // namespace synscope::app
