// TLS in the reactor, with the OpenSSL that Node ships (its headers come with Node's development
// headers, its symbols are exported by the node binary). Handshakes and records run on the
// reactor thread; JS only ever sees plaintext.
//
// No per-connection buffers: every session of a reactor does its I/O through one BIO of ours
// (TlsIo) that reads ciphertext from the buffer the reactor just read from the socket and
// appends ciphertext to one output buffer the reactor then writes with its ordinary write path
// (so backpressure, the out ring and asyncWrite acks work as on TCP). OpenSSL's own record
// buffers (~34 KiB a connection) stay with busy connections and are given back by idle ones
// (Reactor::sweepTlsBuffers): SSL_MODE_RELEASE_BUFFERS, which frees them whenever they drain,
// cost a malloc and a free per record, ~3% of an HTTPS keep-alive server.
//
// Kernel TLS is not offered: Node's OpenSSL is built with OPENSSL_NO_KTLS (see
// openssl/configuration.h in Node's headers), so SSL_OP_ENABLE_KTLS does nothing there.
#pragma once
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rl {

// What a TLS listener is configured with (the engine's `tls` option, resolved to PEM bytes).
struct TlsConfig {
  struct Identity {
    std::string cert;  // PEM, leaf first, then its chain
    std::string key;   // PEM
    std::string passphrase;
  };
  Identity id;
  std::vector<std::pair<std::string, Identity>> sni;  // server name -> identity
  std::string ca;          // PEM bundle trusted for client certificates
  std::string alpn;        // wire format: length-prefixed names, in preference order
  std::string ciphers;     // OpenSSL cipher string; TLS 1.3 suites (TLS_*) and the rest, ':'-separated
  int minVersion = TLS1_2_VERSION;
  int maxVersion = 0;      // 0: the highest OpenSSL supports
  bool requestCert = false;
  bool rejectUnauthorized = true;
};

// A listener's SSL_CTX (and one per SNI name), built once per process and shared by every
// reactor: SSL_CTX is safe to use from several threads once configured, and sharing it lets
// session tickets made by one reactor resume on another.
class TlsContext {
 public:
  // Returns nullptr and sets *err (OpenSSL's reason) on bad certificates, keys or options.
  static std::shared_ptr<TlsContext> create(const TlsConfig& cfg, std::string* err);
  ~TlsContext();
  SSL_CTX* ctx() const { return ctx_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  std::vector<std::pair<std::string, SSL_CTX*>> sni_;
  std::string alpn_;
  friend struct TlsCallbacks;
};

// The ciphertext a reactor's sessions read and write in the current call (see the top).
struct TlsIo {
  const uint8_t* in = nullptr;
  size_t inLen = 0;
  std::vector<uint8_t> out;
  size_t sessions = 0;  // live TlsSessions of this reactor (the buffer sweep runs while there are any)
};

// One connection's TLS state. All calls on the reactor thread that owns the connection.
class TlsSession {
 public:
  TlsSession(SSL_CTX* ctx, TlsIo* io);
  ~TlsSession();
  bool ok() const { return ssl_ != nullptr; }
  // Advances the handshake on the ciphertext in io->in: 1 done, 0 wants more input, -1 failed
  // (reason in error()).
  int handshake();
  // Decrypts into dst: bytes (> 0), 0 nothing more for now, -1 the peer closed (close_notify),
  // -2 failed (reason in error()).
  long read(uint8_t* dst, size_t cap);
  // Decrypted bytes OpenSSL still holds (the next read returns them without new input).
  bool pendingPlain() const { return SSL_pending(ssl_) > 0; }
  // Encrypts one plaintext piece into io->out. False if OpenSSL refused (reason in error()).
  bool write(const uint8_t* data, size_t len);
  // Queues close_notify into io->out, once.
  void shutdown();
  // Called once per sweep period: true the first time the session had no read or write (or
  // handshake step) since the previous call; its record buffers are then given back (OpenSSL
  // allocates them again on the next record).
  bool releaseIfIdle();
  SSL* ssl() const { return ssl_; }
  const std::string& error() const { return error_; }
  // Ciphertext bytes taken during the handshake (capped by the reactor).
  size_t handshakeBytes = 0;
  // When the handshake must be done, in ms of the monotonic clock.
  uint64_t deadlineMs = 0;

 private:
  void fail(const char* what, int sslErr);
  // SSL_get_error trusts this thread's error queue to hold only what the last call left; clearing it
  // walks all 16 entries, so it is done only when something is queued (the usual case is nothing).
  static void clearErrors() {
    if (ERR_peek_error() != 0) ERR_clear_error();
  }
  SSL* ssl_ = nullptr;
  TlsIo* io_ = nullptr;
  bool shutdownSent_ = false;
  bool active_ = true;     // read, wrote or shook hands since the last sweep
  bool released_ = false;  // buffers given back and not used since
  std::string error_;
};

// OpenSSL's error queue of this thread as one line (and cleared), or `fallback` if empty.
std::string tlsErrorString(const char* fallback);

}  // namespace rl
