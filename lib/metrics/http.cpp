// http: the HTTP endpoint: `/metrics` (prometheus-cpp's Exposer serving the Collector) and a landing page
// at `/` (a civetweb begin_request callback).
//
// A MetricsServer is built and destroyed on the main thread; the Exposer and civetweb's threads are
// started, and joined, on a DPDK control thread it owns, so they never inherit an RX lcore's affinity.
// The Impl's fields are handed between the two threads under its mutex; the landing page is constant.
#include <CivetServer.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <prometheus/exposer.h>
#include <pthread.h>
#include <rte_lcore.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "metrics/metrics.hpp"

namespace synscope::metrics {
namespace {

constexpr int kHttpThreads = 32;
constexpr int kRequestTimeoutMs = 2000;

constexpr const char* kLandingPage =
    "<!doctype html><html><head><title>synscope</title></head><body>"
    "<h1>synscope</h1><p>TCP session verdicts and failed-session counts from the live data plane.</p>"
    "<ul><li><a href=\"/metrics\">/metrics</a> (Prometheus text format)</li>"
    "<li>rte_telemetry: <code>/synscope/stats</code> (dpdk-telemetry.py)</li></ul></body></html>\n";

int serve_landing_page(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  if (ri == nullptr || ri->local_uri == nullptr || std::strcmp(ri->local_uri, "/") != 0) return 0;  // not ours
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n%s",
            std::strlen(kLandingPage), kLandingPage);
  return 200;
}

// civetweb gives each connection a worker thread until the request is read and answered, so a few idle
// or slow clients can hold every worker. Enough workers that a handful of them cannot blind /metrics, a
// short limit on reading a request, and no keep-alive (a kept-alive connection holds its worker between
// a Prometheus server's scrapes); connections beyond the workers wait in the queue, not refused.
std::vector<std::string> civetweb_options(const std::string& listen) {
  return {"listening_ports",    listen,
          "num_threads",        std::to_string(kHttpThreads),
          "request_timeout_ms", std::to_string(kRequestTimeoutMs),
          "enable_keep_alive",  "no",
          "connection_queue",   "256",
          "listen_backlog",     "256"};
}

// Opens and closes a TCP connection to the listening address (0.0.0.0: loopback); failures are ignored.
void wake(const std::string& listen, int port) noexcept {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  close(fd);
}

}  // namespace

struct MetricsServer::Impl {
  std::string listen;
  std::shared_ptr<Collector> collector;
  std::unique_ptr<prometheus::Exposer> exposer;
  CivetCallbacks callbacks;
  std::mutex mutex;
  std::condition_variable cv;
  bool ready = false, stop = false;
  std::string error;
  int port = 0;
  pthread_t thread{};

  static void* control_main(void* arg) {
    auto* self = static_cast<Impl*>(arg);
    try {
      self->callbacks.begin_request = &serve_landing_page;
      self->exposer = std::make_unique<prometheus::Exposer>(civetweb_options(self->listen), &self->callbacks);
      self->exposer->RegisterCollectable(self->collector);
      const std::vector<int> ports = self->exposer->GetListeningPorts();
      self->port = ports.empty() ? 0 : ports.front();
    } catch (const std::exception& e) {
      self->error = e.what();
      self->exposer.reset();
    }
    std::unique_lock lock(self->mutex);
    self->ready = true;
    self->cv.notify_all();
    self->cv.wait(lock, [self] { return self->stop; });
    self->exposer.reset();  // joins civetweb's threads on the thread that started them
    return nullptr;
  }
};

MetricsServer::MetricsServer(const std::string& listen, const live::DataPlane& plane)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = listen;
  impl_->collector = std::make_shared<Collector>(plane);
  // A control thread (DPDK's control-thread CPU set, never an RX lcore) starts the Exposer, so civetweb's
  // threads inherit its affinity instead of the main lcore's.
  const int ret = rte_ctrl_thread_create(&impl_->thread, "synscope-http", nullptr, &Impl::control_main, impl_.get());
  if (ret != 0) throw Error(ErrorKind::kStartup, "--metrics-listen: cannot start the HTTP control thread");
  std::unique_lock lock(impl_->mutex);
  impl_->cv.wait(lock, [this] { return impl_->ready; });
  if (!impl_->error.empty()) {
    impl_->stop = true;
    impl_->cv.notify_all();
    lock.unlock();
    pthread_join(impl_->thread, nullptr);
    throw Error(ErrorKind::kStartup, "--metrics-listen " + listen + ": cannot listen (" + impl_->error + ")");
  }
  port_ = impl_->port;
}

MetricsServer::~MetricsServer() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  // civetweb's listening thread sees the stop only when its poll() returns, which without a connection
  // takes up to a second: connect to wake it, until the control thread has joined civetweb.
  timespec deadline{};
  do {
    wake(impl_->listen, port_);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 20'000'000;
    if (deadline.tv_nsec >= 1'000'000'000) {
      deadline.tv_nsec -= 1'000'000'000;
      ++deadline.tv_sec;
    }
  } while (pthread_timedjoin_np(impl_->thread, nullptr, &deadline) == ETIMEDOUT);
}

}  // namespace synscope::metrics
