// web_config: the HTTP endpoint's protection, from a Prometheus-style web configuration file (the format
// of Prometheus's and its exporters' `--web.config.file`): TLS (certificate, key, optional client
// certificates) and HTTP basic authentication with bcrypt-hashed passwords.
//
// Loaded once at start-up on the main thread (load() throws Error naming the file and the key); then a
// BasicAuth is shared read-mostly by civetweb's request threads, with a small cache of credentials already
// verified (bcrypt costs tens of milliseconds per check by design, and Prometheus sends the same header on
// every scrape), as Prometheus's exporter-toolkit keeps.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace synscope::metrics {

struct WebConfig {
  // tls_server_config
  std::string cert_file;              ///< PEM certificate (chain); empty: plain HTTP
  std::string key_file;               ///< PEM private key
  std::string client_ca_file;         ///< CAs that sign client certificates
  bool require_client_cert = false;   ///< client_auth_type RequireAndVerifyClientCert
  std::string min_version = "TLS12";  ///< TLS12 or TLS13
  // basic_auth_users: name -> bcrypt hash ($2a$, $2b$, $2y$)
  std::vector<std::pair<std::string, std::string>> users;

  [[nodiscard]] bool tls() const noexcept { return !cert_file.empty(); }

  /// Reads and checks `path`: YAML with only the keys above (an unknown key is an error, as in Prometheus),
  /// readable certificate and key files, bcrypt hashes. Throws Error(kUsage) naming the file and the key.
  [[nodiscard]] static WebConfig load(const std::string& path);
};

/// Checks the `Authorization` header of a request against the configured users.
class BasicAuth {
 public:
  explicit BasicAuth(std::vector<std::pair<std::string, std::string>> users) : users_(std::move(users)) {}
  /// True when no user is configured (no authentication) or `header` is "Basic base64(user:password)" of a
  /// configured user whose bcrypt hash matches. Thread-safe.
  [[nodiscard]] bool allows(const char* header);
  [[nodiscard]] bool enabled() const noexcept { return !users_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> users_;
  std::mutex mutex_;
  std::unordered_set<std::string> verified_;  ///< header values already checked good (at most kMaxCached)
  static constexpr size_t kMaxCached = 64;
};

/// Decodes standard base64 (RFC 4648, with padding); false on any other character or length.
[[nodiscard]] bool decode_base64(std::string_view in, std::string& out);

}  // namespace synscope::metrics
