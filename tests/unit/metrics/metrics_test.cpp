// metrics: the web configuration (Prometheus's web config format) and basic authentication against bcrypt
// hashes; the --metrics-listen address check.
#include "metrics/metrics.hpp"
#include "metrics/web_config.hpp"

#include <crypt.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

#include "error/error.hpp"
#include "support/files.hpp"

namespace synscope::metrics {
namespace {

std::string bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);  // cost 4: a fast test
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), salt, &data, sizeof(data));
  EXPECT_NE(hash, nullptr);
  return hash;
}

std::string basic(const std::string& user_password) {
  std::string out(4 * ((user_password.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(user_password.data()),
                                static_cast<int>(user_password.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

TEST(Base64, DecodesTheRfc4648VectorsAndRefusesGarbage) {
  std::string out;
  for (const auto& [enc, dec] : std::initializer_list<std::pair<std::string, std::string>>{{"", ""},
                                                                                           {"Zg==", "f"},
                                                                                           {"Zm8=", "fo"},
                                                                                           {"Zm9v", "foo"},
                                                                                           {"Zm9vYg==", "foob"},
                                                                                           {"Zm9vYmE=", "fooba"},
                                                                                           {"Zm9vYmFy", "foobar"}}) {
    ASSERT_TRUE(decode_base64(enc, out)) << enc;
    EXPECT_EQ(out, dec);
  }
  EXPECT_FALSE(decode_base64("Zm9", out));
  EXPECT_FALSE(decode_base64("Zm9v!A==", out));
  EXPECT_FALSE(decode_base64("Z=9v", out));
}

TEST(BasicAuth, AllowsOnlyAConfiguredUserWithTheRightPassword) {
  BasicAuth auth({{"prom", bcrypt("s3cret")}, {"ops", bcrypt("other")}});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.allows(basic("prom:s3cret").c_str()));
  EXPECT_TRUE(auth.allows(basic("prom:s3cret").c_str()));  // from the cache
  EXPECT_TRUE(auth.allows(basic("ops:other").c_str()));
  EXPECT_FALSE(auth.allows(basic("prom:wrong").c_str()));
  EXPECT_FALSE(auth.allows(basic("prom:other").c_str()));  // another user's password
  EXPECT_FALSE(auth.allows(basic("nobody:s3cret").c_str()));
  EXPECT_FALSE(auth.allows(basic("prom").c_str()));  // no colon
  EXPECT_FALSE(auth.allows(nullptr));
  EXPECT_FALSE(auth.allows("Bearer abc"));
  EXPECT_TRUE(BasicAuth({}).allows(nullptr));  // no users: no authentication
}

TEST(WebConfig, LoadsPrometheusFormatAndNamesWhatIsWrong) {
  const test::TempFile cert_file("synscope-cert"), key_file("synscope-key"), config("synscope-web");
  cert_file.write(std::string_view("cert"));
  key_file.write(std::string_view("key"));
  const std::string &cert = cert_file.path(), &key = key_file.path();
  auto write_config = [&](const std::string&, const std::string& text) {
    config.write(std::string_view(text));
    return config.path();
  };
  const std::string dir_path;
  const std::string hash = bcrypt("pw");
  WebConfig c =
      WebConfig::load(write_config(dir_path, "tls_server_config:\n  cert_file: " + cert + "\n  key_file: " + key +
                                                 "\nbasic_auth_users:\n  alice: '" + hash + "'\n"));
  EXPECT_TRUE(c.tls());
  EXPECT_EQ(c.key_file, key);
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].first, "alice");
  EXPECT_FALSE(WebConfig::load(write_config(dir_path, "")).tls());

  auto refused = [&](const std::string& text, const std::string& says) {
    try {
      (void)WebConfig::load(write_config(dir_path, text));
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  refused("tls_server_config:\n  cert_file: " + cert + "\n", "needs cert_file and key_file");
  refused("tls_server_config:\n  cert_file: /nonexistent/c.pem\n  key_file: " + key + "\n", "/nonexistent/c.pem");
  refused("tls_server_config:\n  cert_file: " + cert + "\n  key_file: " + key + "\n  ciphers: x\n", "ciphers");
  refused("basic_auth_users:\n  bob: plaintext\n", "not a bcrypt hash");
  refused("http_server_config:\n  http2: true\n", "http_server_config");
  refused("tls_server_config: [\n", "not YAML");
  refused("tls_server_config:\n  cert_file: " + cert + "\n  key_file: " + key +
              "\n  client_auth_type: RequireAndVerifyClientCert\n",
          "needs client_ca_file");
  try {
    (void)WebConfig::load(config.path() + "-missing.yml");
    ADD_FAILURE() << "a missing file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.yml"), std::string::npos) << e.what();
  }
}

TEST(ListenAddress, AcceptsIpv4AndSaysWhyOthersCannotServe) {
  EXPECT_EQ(listen_problem("127.0.0.1:9355"), "");
  EXPECT_EQ(listen_problem("0.0.0.0:0"), "");
  EXPECT_NE(listen_problem("[::1]:9355").find("IPv6"), std::string::npos);
  EXPECT_NE(listen_problem("localhost:9355").find("not an IPv4 address"), std::string::npos);
  EXPECT_NE(listen_problem("127.0.0.1").find("not ADDRESS:PORT"), std::string::npos);
  EXPECT_NE(listen_problem("127.0.0.1:70000").find("not ADDRESS:PORT"), std::string::npos);
  EXPECT_NE(listen_problem("127.0.0.1:").find("not ADDRESS:PORT"), std::string::npos);
}

}  // namespace
}  // namespace synscope::metrics
