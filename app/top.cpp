// top: see top.hpp.
#include "top.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "error/error.hpp"

namespace synscope::app {

namespace {

struct Url {
  std::string host, port, path;
};

Url parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw Error(ErrorKind::kUsage, "--url " + url + ": only http://HOST:PORT is supported");
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  Url u{rest.substr(0, colon), colon == std::string::npos ? "80" : rest.substr(colon + 1), "/api/v1/top"};
  if (u.host.size() > 2 && u.host.front() == '[' && u.host.back() == ']') u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty() || u.port.empty()) throw Error(ErrorKind::kUsage, "--url " + url + ": expected http://HOST:PORT");
  return u;
}

/// GET `u.path` (HTTP/1.0, 2-second timeouts); the body of a 200 answer.
std::string fetch(const std::string& url, const Url& u) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res); rc != 0) {
    throw Error(ErrorKind::kInput, "--url " + url + ": " + gai_strerror(rc));
  }
  int fd = -1, err = 0;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) throw Error(ErrorKind::kInput, "--url " + url + ": cannot connect: " + std::strerror(err));
  const std::string request = "GET " + u.path + " HTTP/1.0\r\nHost: " + u.host + "\r\n\r\n";
  std::string reply;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, static_cast<size_t>(n));
    if (n < 0) err = errno;
  } else {
    err = errno;
  }
  close(fd);
  const size_t body = reply.find("\r\n\r\n");
  if (body == std::string::npos) {
    throw Error(ErrorKind::kInput,
                "--url " + url + ": no answer" + (err != 0 ? std::string(": ") + std::strerror(err) : ""));
  }
  if (reply.rfind("HTTP/1.1 200", 0) != 0 && reply.rfind("HTTP/1.0 200", 0) != 0) {
    throw Error(ErrorKind::kInput, "--url " + url + u.path + ": " + reply.substr(0, reply.find("\r\n")));
  }
  return reply.substr(body + 4);
}

std::string utc(uint64_t s) {
  const auto t = static_cast<time_t>(s);
  tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string render(const nlohmann::json& doc, const TopOptions& o, const std::string& url) {
  std::ostringstream out;
  const nlohmann::json& w = doc.at("windows").at(o.window);
  out << "synscope top — " << url << " — window " << o.window << " (" << utc(w.at("from").get<uint64_t>()) << " to "
      << utc(w.at("to").get<uint64_t>()) << " UTC)";
  if (doc.value("late_sessions", 0) > 0) out << " — " << doc.at("late_sessions").get<uint64_t>() << " late sessions";
  out << "\n";
  std::stringstream kinds(o.kinds);
  std::string kind;
  while (std::getline(kinds, kind, ',')) {
    if (!w.contains(kind)) throw Error(ErrorKind::kUsage, "--kinds: no kind '" + kind + "' in the drill-down");
    out << "\n" << kind << "\n";
    char line[256];
    std::snprintf(line, sizeof(line), "%3s  %-45s %10s %8s  %s\n", "#", "key", "count", "±error", "reasons");
    out << line;
    const nlohmann::json& list = w.at(kind);
    if (list.empty()) out << "     (none)\n";
    for (size_t i = 0; i < list.size() && i < o.rows; ++i) {
      const nlohmann::json& e = list[i];
      std::string reasons;
      for (const auto& [name, n] : e.at("reasons").items()) {
        reasons += (reasons.empty() ? "" : " ") + name + "=" + std::to_string(n.get<uint64_t>());
      }
      std::snprintf(line, sizeof(line), "%3zu  %-45s %10llu %8llu  %s\n", i + 1, e.at("key").get<std::string>().c_str(),
                    static_cast<unsigned long long>(e.at("count").get<uint64_t>()),
                    static_cast<unsigned long long>(e.at("error").get<uint64_t>()), reasons.c_str());
      out << line;
    }
  }
  return out.str();
}

}  // namespace

CLI::App* add_top_command(CLI::App& app, TopOptions& out) {
  CLI::App* cmd = app.add_subcommand("top", "Watch a running synscope's top servers, clients and conversations");
  cmd->add_option("--url", out.url, "The live run's metrics endpoint (its --metrics-listen)")->capture_default_str();
  cmd->add_option("--window", out.window, "Window: bucket, 15m, 1h or 24h")
      ->check(CLI::IsMember({"bucket", "15m", "1h", "24h"}))
      ->capture_default_str();
  cmd->add_option("--kinds", out.kinds,
                  "Comma-separated lists to show: servers, clients, server_ports, conversations, server_rst, "
                  "client_rst, syn_retries")
      ->capture_default_str();
  cmd->add_option("--rows", out.rows, "Rows per list")->check(CLI::Range(1u, 10u))->capture_default_str();
  cmd->add_option("--interval", out.interval_s, "Seconds between refreshes")
      ->check(CLI::Range(0.2, 3600.0))
      ->capture_default_str();
  cmd->add_option("--count", out.count, "Refreshes before exiting (0: until Ctrl-C)")->capture_default_str();
  return cmd;
}

int run_top(const TopOptions& o, const consumers::Requests& requests) {
  const Url u = parse_url(o.url);
  const bool tty = isatty(STDOUT_FILENO) != 0;
  for (uint32_t n = 0; o.count == 0 || n < o.count; ++n) {
    const std::string body = fetch(o.url, u);
    const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.contains("windows")) {
      throw Error(ErrorKind::kInput, "--url " + o.url + u.path + ": not a synscope drill-down");
    }
    const std::string screen = render(doc, o, o.url);
    std::fputs(tty ? "\x1b[H\x1b[2J" : "", stdout);  // redraw in place on a terminal, like top(1)
    std::fputs(screen.c_str(), stdout);
    std::fflush(stdout);
    if (o.count != 0 && n + 1 == o.count) break;
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.interval_s);
    while (std::chrono::steady_clock::now() < until) {
      if (requests.stopping()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return 0;
}

}  // namespace synscope::app
