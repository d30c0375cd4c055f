// openssl3_compat: the one OpenSSL function Debian bookworm's civetweb asks for by a name OpenSSL 3 no
// longer exports, for synscope's TLS endpoint.
//
// civetweb 1.15 loads OpenSSL at run time (dlopen("libssl.so"), then dlsym by name) and was built against
// the OpenSSL 1.1 API: it looks up SSL_get_peer_certificate, which OpenSSL 3 turned into a macro for
// SSL_get1_peer_certificate. The lookup yields a null pointer and civetweb calls it after every TLS handshake
// (a crash). This module is built as a shared object whose soname is "libssl.so" and which depends on the
// real libssl.so.3: loaded before civetweb starts (metrics::MetricsServer), it is what civetweb's
// dlopen("libssl.so") returns (the dynamic loader matches an already loaded object by soname), and a dlsym
// on it finds this function here and every other one in libssl.so.3 and libcrypto.so.3 behind it.
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" {
[[gnu::visibility("default")]] X509* SSL_get_peer_certificate(const SSL* ssl);
// OpenSSL 1.1's function returned a new reference, as SSL_get1_peer_certificate does (civetweb frees it).
X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }
}
