#include "tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <mutex>

namespace rl {

std::string tlsErrorString(const char* fallback) {
  std::string out;
  char buf[256];
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string(fallback) : out;
}

// ---- The BIO every session of a reactor reads and writes through (see tls.h) ----

static int ioWrite(BIO* b, const char* data, int len) {
  auto* io = static_cast<TlsIo*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  io->out.insert(io->out.end(), data, data + len);
  return len;
}

static int ioRead(BIO* b, char* dst, int len) {
  auto* io = static_cast<TlsIo*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (io->inLen == 0) {
    BIO_set_retry_read(b);  // WANT_READ: the reactor feeds more when the socket has it
    return -1;
  }
  size_t n = std::min(io->inLen, static_cast<size_t>(len));
  memcpy(dst, io->in, n);
  io->in += n;
  io->inLen -= n;
  return static_cast<int>(n);
}

static long ioCtrl(BIO*, int cmd, long, void*) {
  // FLUSH must succeed (OpenSSL flushes after each flight); everything else is not supported.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int ioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

static BIO_METHOD* ioMethod() {
  static BIO_METHOD* m = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ringloop reactor io");
    BIO_meth_set_write(m, ioWrite);
    BIO_meth_set_read(m, ioRead);
    BIO_meth_set_ctrl(m, ioCtrl);
    BIO_meth_set_create(m, ioCreate);
  });
  return m;
}

// ---- Contexts ----

struct TlsCallbacks {
  // ALPN: the first of our protocols (in our order) that the client offers; none in common is a
  // fatal no_application_protocol alert, as RFC 7301 asks.
  static int alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void* arg) {
    auto* self = static_cast<TlsContext*>(arg);
    const auto* ours = reinterpret_cast<const unsigned char*>(self->alpn_.data());
    unsigned char* sel = nullptr;
    if (SSL_select_next_proto(&sel, outlen, ours, static_cast<unsigned>(self->alpn_.size()), in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
  }

  // SNI: switch to the identity named by the client; an unknown name keeps the default one.
  static int servername(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<TlsContext*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_OK;
    for (auto& [host, ctx] : self->sni_) {
      if (strcasecmp(host.c_str(), name) == 0) {
        SSL_set_SSL_CTX(ssl, ctx);
        break;
      }
    }
    return SSL_TLSEXT_ERR_OK;
  }

  static int acceptAny(int, X509_STORE_CTX*) { return 1; }
};

static int passphraseCb(char* buf, int size, int, void* u) {
  const auto* p = static_cast<const std::string*>(u);
  int n = static_cast<int>(std::min(p->size(), static_cast<size_t>(size)));
  memcpy(buf, p->data(), n);
  return n;
}

static bool fail(std::string* err, const std::string& what) {
  *err = what + ": " + tlsErrorString("unknown OpenSSL error");
  return false;
}

// Certificate chain and key from PEM.
static bool useIdentity(SSL_CTX* ctx, const TlsConfig::Identity& id, std::string* err) {
  BIO* b = BIO_new_mem_buf(id.cert.data(), static_cast<int>(id.cert.size()));
  X509* leaf = b ? PEM_read_bio_X509_AUX(b, nullptr, nullptr, nullptr) : nullptr;
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
    X509_free(leaf);
    BIO_free(b);
    return fail(err, "tls.cert is not a usable PEM certificate");
  }
  X509_free(leaf);
  SSL_CTX_clear_chain_certs(ctx);
  while (X509* ca = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {  // takes ownership on success
      X509_free(ca);
      BIO_free(b);
      return fail(err, "tls.cert: adding a chain certificate");
    }
  }
  ERR_clear_error();  // the loop ends on "no start line": not an error
  BIO_free(b);
  b = BIO_new_mem_buf(id.key.data(), static_cast<int>(id.key.size()));
  EVP_PKEY* key = b ? PEM_read_bio_PrivateKey(b, nullptr, passphraseCb, const_cast<std::string*>(&id.passphrase))
                    : nullptr;
  BIO_free(b);
  if (!key) return fail(err, "tls.key is not a usable PEM private key (or the passphrase is wrong)");
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) return fail(err, "tls.key does not match tls.cert");
  return true;
}

static bool trustCa(SSL_CTX* ctx, const std::string& pem, std::string* err) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  int n = 0;
  while (X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, c);
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(c)));
    X509_free(c);
    n++;
  }
  ERR_clear_error();
  BIO_free(b);
  if (n == 0) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    *err = "tls.ca holds no PEM certificate";
    return false;
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership: the names sent in CertificateRequest
  return true;
}

static bool setCiphers(SSL_CTX* ctx, const std::string& list, std::string* err) {
  if (list.empty()) return true;
  std::string v13, v12;
  size_t at = 0;
  while (at <= list.size()) {
    size_t end = list.find(':', at);
    if (end == std::string::npos) end = list.size();
    std::string name = list.substr(at, end - at);
    if (!name.empty()) {
      std::string& dst = name.rfind("TLS_", 0) == 0 ? v13 : v12;
      if (!dst.empty()) dst += ':';
      dst += name;
    }
    at = end + 1;
  }
  if (!v12.empty() && SSL_CTX_set_cipher_list(ctx, v12.c_str()) != 1) return fail(err, "tls.ciphers");
  if (!v13.empty() && SSL_CTX_set_ciphersuites(ctx, v13.c_str()) != 1) return fail(err, "tls.ciphers (TLS 1.3)");
  return true;
}

static SSL_CTX* buildCtx(const TlsConfig& cfg, const TlsConfig::Identity& id, TlsContext* owner, std::string* err) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    fail(err, "creating an SSL_CTX");
    return nullptr;
  }
  // Secure by default: no renegotiation (a client cannot make us redo handshakes), the server's
  // cipher order, TLS 1.2 at least unless the config says TLS 1.3.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  bool ok = SSL_CTX_set_min_proto_version(ctx, cfg.minVersion) == 1 &&
            (cfg.maxVersion == 0 || SSL_CTX_set_max_proto_version(ctx, cfg.maxVersion) == 1);
  if (!ok) fail(err, "tls.minVersion / maxVersion");
  ok = ok && setCiphers(ctx, cfg.ciphers, err) && useIdentity(ctx, id, err);
  if (ok && !cfg.ca.empty()) ok = trustCa(ctx, cfg.ca, err);
  if (ok) {
    static const unsigned char sid[] = "ringloop";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    if (cfg.requestCert) {
      int mode = SSL_VERIFY_PEER | (cfg.rejectUnauthorized ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
      // Not rejecting: the handshake goes on whatever the chain; c.tls.authorized tells.
      SSL_CTX_set_verify(ctx, mode, cfg.rejectUnauthorized ? nullptr : TlsCallbacks::acceptAny);
    }
    if (!cfg.alpn.empty()) SSL_CTX_set_alpn_select_cb(ctx, TlsCallbacks::alpn, owner);
  }
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

std::shared_ptr<TlsContext> TlsContext::create(const TlsConfig& cfg, std::string* err) {
  ERR_clear_error();
  auto self = std::shared_ptr<TlsContext>(new TlsContext());
  self->alpn_ = cfg.alpn;
  self->ctx_ = buildCtx(cfg, cfg.id, self.get(), err);
  if (!self->ctx_) return nullptr;
  for (const auto& [host, id] : cfg.sni) {
    SSL_CTX* c = buildCtx(cfg, id, self.get(), err);
    if (!c) {
      *err = "tls.sni['" + host + "']: " + *err;
      return nullptr;
    }
    self->sni_.emplace_back(host, c);
  }
  if (!self->sni_.empty()) {
    SSL_CTX_set_tlsext_servername_callback(self->ctx_, TlsCallbacks::servername);
    SSL_CTX_set_tlsext_servername_arg(self->ctx_, self.get());
  }
  return self;
}

TlsContext::~TlsContext() {
  for (auto& [host, c] : sni_) SSL_CTX_free(c);
  SSL_CTX_free(ctx_);
}

// ---- Sessions ----

TlsSession::TlsSession(SSL_CTX* ctx, TlsIo* io) : io_(io) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) return;
  BIO* b = BIO_new(ioMethod());
  if (!b) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  BIO_set_data(b, io);
  SSL_set_bio(ssl_, b, b);  // one reference, read and write
  SSL_set_accept_state(ssl_);
  io_->sessions++;
}

TlsSession::~TlsSession() {
  if (!ssl_) return;
  SSL_free(ssl_);
  io_->sessions--;
}

bool TlsSession::releaseIfIdle() {
  if (active_) {
    active_ = false;
    return false;
  }
  if (released_) return false;
  // 0 when a buffer still holds bytes (a partial record): kept, and tried again next period.
  released_ = SSL_free_buffers(ssl_) == 1;
  return released_;
}

void TlsSession::fail(const char* what, int sslErr) {
  if (sslErr == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    error_ = std::string(what) + ": the peer closed the connection";
    return;
  }
  error_ = std::string(what) + ": " + tlsErrorString("unknown OpenSSL error");
}

int TlsSession::handshake() {
  active_ = true;
  released_ = false;
  clearErrors();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) return 1;
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  fail("TLS handshake failed", e);
  return -1;
}

long TlsSession::read(uint8_t* dst, size_t cap) {
  active_ = true;
  released_ = false;
  clearErrors();
  size_t got = 0;
  while (got < cap) {
    int r = SSL_read(ssl_, dst + got, static_cast<int>(std::min<size_t>(cap - got, 1 << 30)));
    if (r > 0) {
      got += static_cast<size_t>(r);
      // All ciphertext consumed and no record buffered: another SSL_read could only say WANT_READ
      // (an SSL_get_error and an error-queue lookup per connection per round, for nothing).
      if (io_->inLen == 0 && !SSL_has_pending(ssl_)) break;
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
    if (got) break;  // report the bytes first; the error shows again on the next read
    if (e == SSL_ERROR_ZERO_RETURN) return -1;
    fail("TLS record error", e);
    return -2;
  }
  return static_cast<long>(got);
}

bool TlsSession::write(const uint8_t* data, size_t len) {
  active_ = true;
  released_ = false;
  clearErrors();
  while (len > 0) {
    int n = static_cast<int>(std::min<size_t>(len, 1 << 30));
    int r = SSL_write(ssl_, data, n);
    if (r <= 0) {
      fail("TLS write failed", SSL_get_error(ssl_, r));
      return false;
    }
    data += r;
    len -= static_cast<size_t>(r);
  }
  return true;
}

void TlsSession::shutdown() {
  if (shutdownSent_ || !SSL_is_init_finished(ssl_)) return;
  shutdownSent_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // writes close_notify into the reactor's output; we do not wait for the peer's
  ERR_clear_error();
}

}  // namespace rl
