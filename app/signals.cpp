// signals: see signals.hpp.
#include "signals.hpp"

#include <csignal>

namespace synscope::app {
namespace {

consumers::Requests* g_requests = nullptr;  // set once, before any handler is installed

extern "C" void on_stop(int signal) {
  g_requests->stop_signal.store(signal, std::memory_order_relaxed);
  g_requests->stop.store(true, std::memory_order_relaxed);
}
extern "C" void on_reopen(int) { g_requests->reopen.store(true, std::memory_order_relaxed); }
extern "C" void on_report(int) { g_requests->report.store(true, std::memory_order_relaxed); }

void handle(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(signal, &action, nullptr);
}

}  // namespace

void install_signal_handlers(consumers::Requests& requests) {
  g_requests = &requests;
  handle(SIGINT, on_stop);
  handle(SIGTERM, on_stop);
  handle(SIGHUP, on_reopen);
  handle(SIGUSR1, on_report);
  handle(SIGUSR2, on_report);
  handle(SIGPIPE, SIG_IGN);
  handle(SIGXFSZ, SIG_IGN);
  sigset_t handled;
  sigemptyset(&handled);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGXFSZ}) sigaddset(&handled, s);
  sigprocmask(SIG_UNBLOCK, &handled, nullptr);
}

const char* signal_name(int signal) noexcept {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

}  // namespace synscope::app
