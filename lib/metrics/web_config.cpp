// web_config: see web_config.hpp.
#include "metrics/web_config.hpp"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>

#include "error/error.hpp"

namespace synscope::metrics {
namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::kUsage, "--web-config " + path + ": " + what);
}

void check_readable(const std::string& path, const std::string& key, const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) bad(path, key + " " + file + ": " + std::strerror(errno));
  ::close(fd);
}

std::string scalar(const std::string& path, const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) bad(path, key + " must be a string");
  return node.as<std::string>();
}

}  // namespace

WebConfig WebConfig::load(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    bad(path, std::string("cannot read: ") + std::strerror(errno));
  } catch (const YAML::Exception& e) {
    bad(path, std::string("not YAML: ") + e.what());
  }
  WebConfig c;
  if (root.IsNull()) return c;  // an empty file: no TLS, no authentication (as Prometheus)
  if (!root.IsMap()) bad(path, "must be a YAML mapping (tls_server_config, basic_auth_users)");
  for (const auto& top : root) {
    const std::string key = top.first.as<std::string>();
    if (key == "tls_server_config") {
      if (!top.second.IsMap()) bad(path, "tls_server_config must be a mapping");
      std::string client_auth = "NoClientCert";
      for (const auto& t : top.second) {
        const std::string k = t.first.as<std::string>();
        const std::string v = scalar(path, t.second, "tls_server_config." + k);
        if (k == "cert_file") {
          c.cert_file = v;
        } else if (k == "key_file") {
          c.key_file = v;
        } else if (k == "client_ca_file") {
          c.client_ca_file = v;
        } else if (k == "client_auth_type") {
          client_auth = v;
        } else if (k == "min_version") {
          if (v != "TLS12" && v != "TLS13") bad(path, "tls_server_config.min_version " + v + ": TLS12 or TLS13");
          c.min_version = v;
        } else {
          bad(path, "tls_server_config." + k +
                        " is not supported (cert_file, key_file, client_ca_file, "
                        "client_auth_type, min_version)");
        }
      }
      if (c.cert_file.empty() || c.key_file.empty()) bad(path, "tls_server_config needs cert_file and key_file");
      check_readable(path, "tls_server_config.cert_file", c.cert_file);
      check_readable(path, "tls_server_config.key_file", c.key_file);
      if (client_auth == "RequireAndVerifyClientCert") {
        if (c.client_ca_file.empty()) bad(path, "client_auth_type RequireAndVerifyClientCert needs client_ca_file");
        check_readable(path, "tls_server_config.client_ca_file", c.client_ca_file);
        c.require_client_cert = true;
      } else if (client_auth != "NoClientCert") {
        bad(path, "tls_server_config.client_auth_type " + client_auth + ": NoClientCert or RequireAndVerifyClientCert");
      }
    } else if (key == "basic_auth_users") {
      if (!top.second.IsMap()) bad(path, "basic_auth_users must map user names to bcrypt hashes");
      for (const auto& u : top.second) {
        const std::string user = u.first.as<std::string>();
        const std::string hash = scalar(path, u.second, "basic_auth_users." + user);
        if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' ||
            (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y')) {
          bad(path, "basic_auth_users." + user + " is not a bcrypt hash ($2y$..., e.g. from htpasswd -nBC 10)");
        }
        if (user.find(':') != std::string::npos) bad(path, "basic_auth_users: user name " + user + " has a ':'");
        c.users.emplace_back(user, hash);
      }
    } else {
      bad(path, key + " is not supported (tls_server_config, basic_auth_users)");
    }
  }
  return c;
}

bool decode_base64(std::string_view in, std::string& out) {
  out.clear();
  // EVP_DecodeBlock checks the alphabet but skips surrounding blanks and decodes padding as zero bytes:
  // the length and the place of '=' (only the last one or two) are checked here.
  if (in.size() % 4 != 0) return false;
  size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  if (in.substr(0, in.size() - pad).find('=') != std::string_view::npos) return false;
  if (in.empty()) return true;
  out.resize(in.size() / 4 * 3);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0 || static_cast<size_t>(n) != out.size()) {
    out.clear();
    return false;
  }
  out.resize(out.size() - pad);
  return true;
}

bool BasicAuth::allows(const char* header) {
  if (users_.empty()) return true;
  if (header == nullptr) return false;
  std::string_view h = header;
  if (h.size() < 6 || strncasecmp(h.data(), "Basic ", 6) != 0) return false;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  const std::string value(h);
  {
    const std::lock_guard lock(mutex_);
    if (verified_.count(value) != 0) return true;
  }
  std::string decoded;
  if (!decode_base64(value, decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  const std::string user = decoded.substr(0, colon), password = decoded.substr(colon + 1);
  for (const auto& [name, hash] : users_) {
    if (name != user) continue;
    crypt_data data{};
    const char* got = crypt_rn(password.c_str(), hash.c_str(), &data, sizeof(data));
    if (got == nullptr || std::strlen(got) != hash.size()) return false;
    unsigned diff = 0;  // compare every byte: no early exit on the first difference
    for (size_t i = 0; i < hash.size(); ++i) diff |= static_cast<unsigned>(got[i] ^ hash[i]);
    if (diff != 0) return false;
    const std::lock_guard lock(mutex_);
    if (verified_.size() >= kMaxCached) verified_.clear();
    verified_.insert(value);
    return true;
  }
  return false;
}

}  // namespace synscope::metrics
