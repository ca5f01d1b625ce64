// TLS on dialed connections: the client side of the reactor's TLS (reactor_tls.cc does the
// records and the handshake's reads for both sides). Once the connect completes, a session in
// connect state sends its ClientHello; the server's certificate is verified against the dial's
// CAs and name (SNI and hostname or IP check) unless the dial turned verification off, and the
// connection is opened when the handshake is done, or fails with ERR_TLS_HANDSHAKE (kDialFailed).
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "reactor.h"

namespace rl {

static uint64_t clockMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

SSL_CTX* Reactor::clientCtx(const std::string& ca, bool verify, std::string* err) {
  std::string key = (verify ? "1" : "0") + ca;
  for (auto& [k, ctx] : clientCtxs_)
    if (k == key) return ctx.get();
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *err = tlsErrorString("creating a client SSL_CTX");
    return nullptr;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!ca.empty()) {
    BIO* b = BIO_new_mem_buf(ca.data(), static_cast<int>(ca.size()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int n = 0;
    while (X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, x);
      X509_free(x);
      n++;
    }
    ERR_clear_error();
    BIO_free(b);
    if (n == 0) {
      SSL_CTX_free(ctx);
      *err = "tls.ca holds no PEM certificate";
      return nullptr;
    }
  }
  SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  clientCtxs_.emplace_back(key, std::shared_ptr<SSL_CTX>(ctx, SSL_CTX_free));
  return ctx;
}

void Reactor::startClientTls(int32_t slot) {
  Conn& c = conns_[slot];
  DialState& d = *c.dial;
  if (cipherIn_.empty()) cipherIn_.resize(64 * 1024);
  c.tls = new TlsSession(d.clientCtx, &tlsIo_);
  c.handshaking = true;
  if (!c.tls->ok()) {
    failTls(slot, ev::kErrTlsHandshake, tlsErrorString("TLS: cannot create a session"));
    return;
  }
  SSL* ssl = c.tls->ssl();
  SSL_set_connect_state(ssl);
  if (!d.servername.empty()) {
    unsigned char ip[16];
    bool literal = inet_pton(AF_INET, d.servername.c_str(), ip) == 1 || inet_pton(AF_INET6, d.servername.c_str(), ip) == 1;
    if (literal) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), d.servername.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, d.servername.c_str());  // SNI is for names only (RFC 6066)
      SSL_set1_host(ssl, d.servername.c_str());
    }
  }
  c.tls->deadlineMs = d.handshakeMs ? clockMs() + d.handshakeMs : 0;
  handshaking_.push_back(slot);
  tlsIo_.in = nullptr;
  tlsIo_.inLen = 0;
  int h = c.tls->handshake();  // the ClientHello
  if (!flushTls(slot)) return;
  if (h < 0) failTls(slot, ev::kErrTlsHandshake, c.tls->error());
}

}  // namespace rl
