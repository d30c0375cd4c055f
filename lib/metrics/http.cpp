// http: the HTTP endpoint: `/metrics` (prometheus-cpp's Exposer serving the Collector), and from a civetweb
// begin_request callback a landing page at `/`, `/-/healthy`, `/-/ready` and the top-N drill-down as JSON
// at `/api/v1/top`.
//
// A MetricsServer is built and destroyed on the main thread; the Exposer and civetweb's threads are
// started, and joined, on a DPDK control thread it owns, so they never inherit an RX lcore's affinity.
// The Impl's fields are handed between the two threads under its mutex.
#include <CivetServer.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <prometheus/exposer.h>
#include <pthread.h>
#include <rte_lcore.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <ctime>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "metrics/metrics.hpp"
#include "metrics/web_config.hpp"
#include "top/top.hpp"

namespace synscope::metrics {
namespace {

constexpr int kHttpThreads = 32;
constexpr int kRequestTimeoutMs = 2000;

// The data plane the request handlers read. One MetricsServer per process: set before civetweb starts,
// cleared after its threads are joined, so no handler ever sees a plane being destroyed.
std::atomic<const live::DataPlane*> g_plane{nullptr};
// Basic authentication for every URI (set with the plane, before civetweb starts; null: none).
std::atomic<BasicAuth*> g_auth{nullptr};

std::string html_escape(const std::string& in) {
  std::string out;
  for (const char c : in) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      default: out += c;
    }
  }
  return out;
}

void reply(mg_connection* conn, int status, const char* type, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n",
            status, status == 200 ? "OK" : "Service Unavailable", type, body.size());
  mg_write(conn, body.data(), body.size());
}

/// `/`: what an operator checks first: version, uptime, ports and their links, lcores, firing alerts.
std::string landing_page(const live::DataPlane& plane) {
  const live::Snapshot s = plane.snapshot();
  const double uptime = s.now_ns > s.started_ns ? static_cast<double>(s.now_ns - s.started_ns) / 1e9 : 0.0;
  char head[160];
  std::snprintf(head, sizeof(head), "<p>version %s, up %.0f s, %llu alert(s) firing</p>", SYNSCOPE_VERSION, uptime,
                static_cast<unsigned long long>(s.stats_core.alerts_firing));
  return std::string("<!doctype html><html><head><title>synscope</title></head><body><h1>synscope</h1>") +
         "<p>TCP session verdicts, failed-session counts and alerts from the live data plane.</p>" + head +
         "<h2>Ports, lcores, memory</h2><pre>" + html_escape(plane.describe()) + "</pre>" +
         "<h2>Endpoints</h2><ul><li><a href=\"/metrics\">/metrics</a> (Prometheus text format)</li>"
         "<li><a href=\"/api/v1/top\">/api/v1/top</a> (top servers, clients, ports, conversations: JSON)</li>"
         "<li><a href=\"/-/healthy\">/-/healthy</a>, <a href=\"/-/ready\">/-/ready</a></li>"
         "<li>rte_telemetry: <code>/synscope/stats</code> (dpdk-telemetry.py)</li></ul></body></html>\n";
}

int serve_request(mg_connection* conn) {
  const mg_request_info* ri = mg_get_request_info(conn);
  const live::DataPlane* plane = g_plane.load(std::memory_order_acquire);
  if (ri == nullptr || ri->local_uri == nullptr || plane == nullptr) return 0;
  // Every URI, /metrics included (civetweb calls this before prometheus-cpp's handler).
  if (BasicAuth* auth = g_auth.load(std::memory_order_acquire);
      auth && !auth->allows(mg_get_header(conn, "Authorization"))) {
    static const std::string kBody = "Unauthorized\n";
    mg_printf(conn,
              "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"synscope\"\r\nContent-Type: "
              "text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
              kBody.size());
    mg_write(conn, kBody.data(), kBody.size());
    return 401;
  }
  const std::string_view uri = ri->local_uri;
  if (uri == "/") {
    reply(conn, 200, "text/html; charset=utf-8", landing_page(*plane));
  } else if (uri == "/-/healthy") {
    reply(conn, 200, "text/plain", "synscope is healthy.\n");
  } else if (uri == "/-/ready") {
    // Ready: the lcores run and every port's link is up (a sensor whose tap is unplugged sees nothing).
    const bool ready = plane->snapshot().started_ns != 0 && plane->ports().links_up();
    reply(conn, ready ? 200 : 503, "text/plain",
          ready ? "synscope is ready.\n" : "synscope is not ready: a port's link is down.\n");
  } else if (uri == "/api/v1/top") {
    const live::Snapshot s = plane->snapshot();
    std::string json;
    if (s.top) top::append_json(*s.top, json);
    reply(conn, 200, "application/json", json);
  } else {
    return 0;  // /metrics and anything else: prometheus-cpp's handler or civetweb's 404
  }
  return 200;
}

// civetweb gives each connection a worker thread until the request is read and answered, so a few idle
// or slow clients can hold every worker. Enough workers that a handful of them cannot blind /metrics, a
// short limit on reading a request, and no keep-alive (a kept-alive connection holds its worker between
// a Prometheus server's scrapes); connections beyond the workers wait in the queue, not refused.
// With TLS, the port is marked 's' and civetweb reads key and certificate from one PEM file (`pem`).
std::vector<std::string> civetweb_options(const std::string& listen, const WebConfig& web, const std::string& pem) {
  std::vector<std::string> o = {"listening_ports",    web.tls() ? listen + "s" : listen,
                                "num_threads",        std::to_string(kHttpThreads),
                                "request_timeout_ms", std::to_string(kRequestTimeoutMs),
                                "enable_keep_alive",  "no",
                                "connection_queue",   "256",
                                "listen_backlog",     "256"};
  if (web.tls()) {
    // civetweb's ssl_protocol_version: 4 refuses everything before TLS 1.2, 5 everything before TLS 1.3.
    o.insert(o.end(), {"ssl_certificate", pem, "ssl_protocol_version", web.min_version == "TLS13" ? "5" : "4"});
    if (web.require_client_cert) {
      o.insert(o.end(), {"ssl_verify_peer", "yes", "ssl_ca_file", web.client_ca_file});
    }
  }
  return o;
}

/// Loads openssl3_compat (see there) before civetweb loads OpenSSL: installed, else from the build tree.
void load_openssl3_compat() {
  std::string tried;
  for (const char* path : {SYNSCOPE_OPENSSL3_COMPAT_INSTALLED, SYNSCOPE_OPENSSL3_COMPAT_BUILT}) {
    if (::access(path, R_OK) != 0) {
      tried += std::string(tried.empty() ? "" : "; ") + path + ": " + std::strerror(errno);
      continue;
    }
    if (::dlopen(path, RTLD_NOW | RTLD_GLOBAL) != nullptr) return;
    const char* why = ::dlerror();
    tried += std::string(tried.empty() ? "" : "; ") + (why ? why : path);
  }
  throw Error(ErrorKind::kStartup,
              "--web-config: TLS needs synscope's OpenSSL 3 compatibility module for civetweb (" + tried + ")");
}

/// The key and the certificate in one anonymous in-memory file (civetweb wants them in one PEM file; the
/// key is not copied to disk). Its path is /proc/self/fd/N; the descriptor stays open while the server runs.
int pem_memfd(const WebConfig& web, std::string& path) {
  std::string pem;
  for (const std::string* file : {&web.key_file, &web.cert_file}) {
    const int fd = ::open(file->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(ErrorKind::kStartup, "--web-config: cannot read " + *file + ": " + std::strerror(errno));
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) pem.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (!pem.empty() && pem.back() != '\n') pem.push_back('\n');
  }
  const int fd = ::memfd_create("synscope-tls", MFD_CLOEXEC);
  if (fd < 0 || ::write(fd, pem.data(), pem.size()) != static_cast<ssize_t>(pem.size())) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw Error(ErrorKind::kStartup,
                std::string("--web-config: cannot hold the TLS key in memory: ") + std::strerror(err));
  }
  path = "/proc/self/fd/" + std::to_string(fd);
  return fd;
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
  WebConfig web;
  std::string pem_path;
  int pem_fd = -1;
  std::unique_ptr<BasicAuth> auth;
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
      self->callbacks.begin_request = &serve_request;
      self->exposer = std::make_unique<prometheus::Exposer>(civetweb_options(self->listen, self->web, self->pem_path),
                                                            &self->callbacks);
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

MetricsServer::MetricsServer(const std::string& listen, const live::DataPlane& plane, const WebConfig& web)
    : impl_(std::make_unique<Impl>()) {
  // civetweb says only "null context" when it cannot listen: bind here first, so the error has the errno.
  probe_listen(listen);
  impl_->listen = listen;
  impl_->web = web;
  if (web.tls()) {
    load_openssl3_compat();
    impl_->pem_fd = pem_memfd(web, impl_->pem_path);
  }
  if (!web.users.empty()) impl_->auth = std::make_unique<BasicAuth>(web.users);
  impl_->collector = std::make_shared<Collector>(plane);
  g_auth.store(impl_->auth.get(), std::memory_order_release);
  g_plane.store(&plane, std::memory_order_release);
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
    g_plane.store(nullptr, std::memory_order_release);
    g_auth.store(nullptr, std::memory_order_release);
    if (impl_->pem_fd >= 0) ::close(impl_->pem_fd);
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
  g_plane.store(nullptr, std::memory_order_release);  // civetweb's threads are joined: no handler runs
  g_auth.store(nullptr, std::memory_order_release);
  if (impl_->pem_fd >= 0) ::close(impl_->pem_fd);
}

std::string listen_problem(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  char* end = nullptr;
  const unsigned long port = colon == std::string::npos ? 70000 : std::strtoul(listen.c_str() + colon + 1, &end, 10);
  if (colon == std::string::npos || colon == 0 || end == nullptr || *end != '\0' || colon + 1 == listen.size() ||
      port > 65535) {
    return "'" + listen + "' is not ADDRESS:PORT (e.g. 127.0.0.1:9355) or 'none'";
  }
  const std::string host = listen.substr(0, colon);
  if (host.front() == '[' || host.find(':') != std::string::npos) {
    if (mg_check_feature(8) == 0) {
      return "'" + listen + "': this build's HTTP server (Debian's civetweb) has no IPv6; listen on an IPv4 " +
             "address (127.0.0.1, or 0.0.0.0 behind a firewall)";
    }
    return "'" + listen + "': IPv6 listen addresses are not supported; use an IPv4 address";
  }
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) != 1) {
    return "'" + listen + "': " + host +
           " is not an IPv4 address (names are not resolved: give 127.0.0.1, 0.0.0.0, ...)";
  }
  return "";
}

void probe_listen(const std::string& listen) {
  if (const std::string problem = listen_problem(listen); !problem.empty()) {
    throw Error(ErrorKind::kUsage, "--metrics-listen " + problem);
  }
  const size_t colon = listen.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::strtoul(listen.c_str() + colon + 1, nullptr, 10)));
  (void)inet_pton(AF_INET, listen.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(ErrorKind::kStartup, "--metrics-listen " + listen + ": socket: " + std::strerror(errno));
  const int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // as civetweb: TIME_WAIT is no conflict
  const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    throw Error(ErrorKind::kStartup, "--metrics-listen " + listen + ": cannot listen: " + std::strerror(err) +
                                         (err == EADDRINUSE ? " (another process has the port)" : ""));
  }
}

}  // namespace synscope::metrics
