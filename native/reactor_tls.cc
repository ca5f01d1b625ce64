// The reactor's TLS connections: the same slots, rounds and fairness as TCP (reactor.cc), with
// OpenSSL between the socket and the arena. Ciphertext is read into a per-reactor scratch buffer
// and decrypted straight into the connection's place in the read arena; plaintext from JS is
// encrypted into one per-reactor buffer and leaves through the ordinary write path (writeRaw),
// so backpressure, the out ring and asyncWrite acks count wire bytes exactly as on TCP.
#include <errno.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "reactor.h"

namespace rl {

// The largest TLS record's plaintext: a record begun in an earlier read can complete now.
static constexpr size_t kRecord = 16 * 1024 + 256;
// The least ciphertext worth a read (as kMinRead in reactor.cc).
static constexpr size_t kMinCipher = 4096;
// Small plaintext pieces are gathered up to one record before they are encrypted, so a batch of
// small writes costs one record, not one each.
static constexpr size_t kGather = 16 * 1024;

static uint64_t nowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void Reactor::setListenerTls(int32_t listener, const TlsListener& tls) {
  if (listener < 0) return;
  if (static_cast<size_t>(listener) >= listenerTls_.size()) listenerTls_.resize(listener + 1);
  listenerTls_[listener] = tls;
  if (cipherIn_.empty()) cipherIn_.resize(64 * 1024);
}

const TlsSession* Reactor::tlsSession(int32_t slot) const {
  if (slot < 0 || static_cast<size_t>(slot) >= conns_.size() || !conns_[slot].open) return nullptr;
  return conns_[slot].tls;
}

std::string Reactor::takeReason(int32_t slot) {
  for (size_t i = 0; i < reasons_.size(); i++) {
    if (reasons_[i].first != slot) continue;
    std::string r = std::move(reasons_[i].second);
    reasons_.erase(reasons_.begin() + static_cast<long>(i));
    return r;
  }
  return std::string();
}

void Reactor::failTls(int32_t slot, int err, const std::string& reason) {
  Conn& c = conns_[slot];
  if (!c.open) return;
  std::string peer = sockAddress(c.fd, true);
  // Kept until JS takes it with the event; a reason nobody took (JS gone) is replaced next time.
  for (auto it = reasons_.begin(); it != reasons_.end(); ++it) {
    if (it->first == slot) {
      reasons_.erase(it);
      break;
    }
  }
  reasons_.emplace_back(slot, peer.empty() ? reason : reason + " (peer " + peer + ")");
  closeConn(slot, err);
}

void Reactor::startTls(int32_t slot, const TlsListener& l) {
  Conn& c = conns_[slot];
  c.tls = new TlsSession(l.ctx->ctx(), &tlsIo_);
  c.handshaking = true;
  if (!c.tls->ok()) {
    failTls(slot, ev::kErrTlsHandshake, tlsErrorString("TLS: cannot create a session"));
    return;
  }
  c.tls->deadlineMs = l.handshakeTimeoutMs ? nowMs() + l.handshakeTimeoutMs : 0;
  handshaking_.push_back(slot);
}

uint64_t Reactor::expireHandshakes(uint64_t now) {
  // Called after every wake-up: nothing to do (no clock read, no counters) without handshakes.
  if (handshaking_.empty()) return 0;
  if (now == 0) now = nowMs();
  uint64_t next = 0;
  size_t keep = 0;
  for (size_t i = 0; i < handshaking_.size(); i++) {
    int32_t slot = handshaking_[i];
    Conn& c = conns_[slot];
    if (!c.open || !c.handshaking || !c.tls) continue;  // done or closed: drop it from the list
    uint64_t d = c.tls->deadlineMs;
    if (d != 0 && now >= d) {
      int32_t listener = c.listener;
      uint32_t ms = static_cast<size_t>(listener) < listenerTls_.size() ? listenerTls_[listener].handshakeTimeoutMs
                    : c.dial                                               ? c.dial->handshakeMs  // a TLS dial
                                                                           : 0;
      failTls(slot, ev::kErrTlsHandshakeTimeout, "TLS handshake not done within " + std::to_string(ms) + " ms");
      continue;
    }
    if (d != 0 && (next == 0 || d < next)) next = d;
    handshaking_[keep++] = slot;
  }
  handshaking_.resize(keep);
  flushCounters();
  maybeStopped();
  return next;
}

// Idle connections give their OpenSSL record buffers back, busy ones keep them (see tls.h): a
// connection is idle when it neither read nor wrote for a whole period, so it gives them back
// between one and two periods after its last record.
static constexpr uint64_t kTlsSweepMs = 1000;

uint64_t Reactor::sweepTlsBuffers(uint64_t now) {
  if (tlsIo_.sessions == 0) {
    tlsSweepAt_ = 0;
    return 0;
  }
  if (now == 0) now = nowMs();
  if (tlsSweepAt_ == 0) tlsSweepAt_ = now + kTlsSweepMs;
  if (now < tlsSweepAt_) return tlsSweepAt_;
  int32_t released = 0;
  for (Conn& c : conns_)
    if (c.open && c.tls && !c.handshaking && c.tls->releaseIfIdle()) released++;
  if (released) inbox_.add(layout::kTlsReleased, released);
  tlsSweepAt_ = now + kTlsSweepMs;
  return tlsSweepAt_;
}

// Sends what OpenSSL wrote into the shared output. False if that closed the connection.
bool Reactor::flushTls(int32_t slot) {
  if (tlsIo_.out.empty()) return conns_[slot].open;
  iovec v{tlsIo_.out.data(), tlsIo_.out.size()};
  writeRaw(slot, &v, 1);
  tlsIo_.out.clear();
  return conns_[slot].open;
}

void Reactor::readTls(int32_t slot) {
  Conn& c = conns_[slot];
  TlsSession* s = c.tls;
  size_t leftover = c.in ? c.in->size() : 0;
  if (leftover >= opts_.readCap) {
    closeConn(slot, EMSGSIZE);
    return;
  }
  // Room for the plaintext: what we read now (never more than its ciphertext), a record that an
  // earlier read began, and one OpenSSL still holds decrypted.
  size_t want = std::min(share_, opts_.readCap - leftover);
  size_t need = leftover + want + 2 * kRecord;
  size_t free = arenaSize_ - arenaPos_;
  if (free < need) {
    if (free >= leftover + kMinCipher + 2 * kRecord) {
      want = free - leftover - 2 * kRecord;
    } else if (arenaPos_ != 0) {
      defer(c, slot);
      return;
    } else if (!growArenaFor(slot, need)) {
      return;
    }
  }
  c.round = round_;
  if (want > cipherIn_.size()) want = cipherIn_.size();
  ssize_t r = sockRead(c.fd, cipherIn_.data(), want);
  bool eof = r == 0;
  if (r < 0 && r != -EAGAIN && r != -EWOULDBLOCK) {
    closeConn(slot, static_cast<int>(-r));
    return;
  }
  tlsIo_.in = cipherIn_.data();
  tlsIo_.inLen = r > 0 ? static_cast<size_t>(r) : 0;
  if (c.handshaking) {
    size_t cap = static_cast<size_t>(c.listener) < listenerTls_.size() ? listenerTls_[c.listener].maxHandshakeBytes : 0;
    s->handshakeBytes += tlsIo_.inLen;
    if (cap && s->handshakeBytes > cap) {
      tlsIo_.inLen = 0;
      failTls(slot, ev::kErrTlsHandshake, "TLS handshake larger than " + std::to_string(cap) + " bytes");
      return;
    }
    int h = s->handshake();
    if (!flushTls(slot)) return;  // the alert or the server's flight goes out first
    if (h < 0) {
      tlsIo_.inLen = 0;
      failTls(slot, ev::kErrTlsHandshake, s->error());
      return;
    }
    if (h == 0) {
      if (eof) failTls(slot, ev::kErrTlsHandshake, "TLS handshake failed: the peer closed the connection");
      return;
    }
    c.handshaking = false;
    push(ev::kOpen, slot, static_cast<int32_t>(c.gen), c.listener);
  }
  size_t off = arenaPos_;
  size_t room = arenaSize_ - off - leftover;
  long n = s->read(arena_ + off + leftover, room);
  bool flushed = flushTls(slot);  // post-handshake messages (session tickets, key updates)
  if (tlsIo_.inLen != 0 && n >= 0) {
    // Cannot happen with the room reserved above; never drop bytes silently if it does.
    tlsIo_.inLen = 0;
    failTls(slot, ev::kErrTls, "TLS: decrypted data larger than the room reserved for it");
    return;
  }
  tlsIo_.inLen = 0;
  if (!flushed) return;
  if (n == -2) {
    failTls(slot, ev::kErrTls, s->error());
    return;
  }
  if (n > 0) {
    deliver(slot, static_cast<size_t>(n), off);
    // Plaintext OpenSSL still holds has no poll event to bring it: read it first next round.
    if (s->pendingPlain() || eof) defer(c, slot);
    return;
  }
  if (n == -1 || eof) {
    // close_notify or EOF: flush what we owe (with our close_notify), then close.
    setMask(c, c.mask & ~kPollReadable);
    closeGraceful(slot);
  }
}

void Reactor::writeTls(int32_t slot, const iovec* iov, int cnt) {
  Conn& c = conns_[slot];
  TlsSession* s = c.tls;
  if (c.handshaking) return;  // nobody holds a ref before kOpen; never plaintext on the wire
  if (plainOut_.empty()) plainOut_.reserve(kGather);
  bool ok = true;
  for (int i = 0; i < cnt && ok; i++) {
    const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t len = iov[i].iov_len;
    if (plainOut_.size() + len <= kGather) {
      plainOut_.insert(plainOut_.end(), p, p + len);
      continue;
    }
    if (!plainOut_.empty()) {
      ok = s->write(plainOut_.data(), plainOut_.size());
      plainOut_.clear();
    }
    if (ok && len <= kGather) plainOut_.insert(plainOut_.end(), p, p + len);
    else if (ok) ok = s->write(p, len);
  }
  if (ok && !plainOut_.empty()) ok = s->write(plainOut_.data(), plainOut_.size());
  plainOut_.clear();
  if (!ok) {
    tlsIo_.out.clear();
    failTls(slot, ev::kErrTls, s->error());
    return;
  }
  flushTls(slot);
}

}  // namespace rl
