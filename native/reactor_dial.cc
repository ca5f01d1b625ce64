// Outbound connections, half-close, flow control between connections, forwarding, and the
// PROXY protocol on listeners: the parts of a connection's life that reactor.cc only hooks into.
//
// A dialed connection is an ordinary slot of this reactor (same generation rules, caps, events):
// it waits for writability while connect() is in progress, then is opened (kOpen, listener -1)
// or fails (kDialFailed with the errno: ECONNREFUSED, ETIMEDOUT at its deadline, ...).
//
// Forward mode (setPipe) moves the bytes read from one connection straight into another's output
// in the same round, without a JS call: the proxy's hot path. The target's pending output above
// writeHighWater holds the source's reads back (TCP flow control then reaches the sender) until
// it drains to half; the source's EOF becomes closeWrite on the target, after its pending output.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy_protocol.h"
#include "reactor.h"
#include "socket_compat.h"

namespace rl {

static uint64_t monoMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

static int sockError(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

bool Reactor::readWanted(const Conn& c) const {
  return !c.paused && !c.throttled && !c.readClosed && !c.closing && !c.connecting && !c.pipeBlocked &&
         !c.dgram;
}

void Reactor::resetDialFields(Conn& c) {
  delete c.dial;
  c.dial = nullptr;
  c.connecting = c.dialed = c.paused = c.readClosed = c.shutPending = c.wrShut = c.proxyWait = false;
  c.pipeBlocked = c.parked = false;
  c.pipeTo = c.pipeFrom = -1;
  c.dueMs = 0;
}

void Reactor::addWait(int32_t slot, uint32_t ms) {
  if (ms == 0) return;
  conns_[slot].dueMs = monoMs() + ms;
  waits_.push_back(slot);
}

int32_t Reactor::dial(int family, const std::string& host, int port, uint32_t timeoutMs, const std::string& first,
                      uint32_t* gen, const TlsDial* tls) {
  if (stopping_) return -ECANCELED;
  SSL_CTX* tlsCtx = nullptr;
  if (tls) {
    std::string why;
    tlsCtx = clientCtx(tls->ca, tls->verify, &why);
    if (!tlsCtx) return -EBADMSG;  // the CA bundle: JS says so
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  int domain;
  if (family == 0) {
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    if (host.empty() || host.size() >= sizeof un->sun_path) return -ENAMETOOLONG;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, host.c_str(), host.size() + 1);
    len = sizeof(sockaddr_un);
    domain = AF_UNIX;
  } else if (family == 6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) return -EINVAL;
    len = sizeof(sockaddr_in6);
    domain = AF_INET6;
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) != 1) return -EINVAL;
    len = sizeof(sockaddr_in);
    domain = AF_INET;
  }
  if (port < 0 || port > 65535 || (family != 0 && port == 0)) return -EINVAL;
  int fd = socketNonBlocking(domain, SOCK_STREAM);
  if (fd < 0) return -errno;
  if (domain != AF_UNIX) sockConfigure(fd, opts_.sock);
  int r = connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
  int err = r == 0 ? 0 : errno;
  int32_t slot = takeSlot(fd, -1);
  if (slot < 0) return -ENOMEM;
  inbox_.add(layout::kConns, 1);
  Conn& c = conns_[slot];
  *gen = c.gen;
  c.dialed = true;
  c.connecting = true;
  if (tlsCtx) {
    c.dial = new DialState();
    c.dial->clientCtx = tlsCtx;
    c.dial->servername = tls->servername;
    c.dial->handshakeMs = timeoutMs;
  }
  if (!first.empty()) {
    // Queued ahead of everything: it leaves first once the connect completes.
    c.out = new RingBuffer(opts_.writeCap);
    if (!c.out->write(reinterpret_cast<const uint8_t*>(first.data()), first.size())) {
      closeConn(slot, ENOBUFS);
      return slot;
    }
    c.queued += first.size();
  }
  setMask(c, kPollWritable);
  // EAGAIN is "in progress" only for TCP; a Unix connect that cannot complete at once means the
  // listener's backlog is full, and nothing would ever report its completion.
  if (err != 0 && err != EINPROGRESS && !(err == EAGAIN && domain != AF_UNIX)) {
    closeConn(slot, err);  // reported as kDialFailed, like a connect that fails later
    return slot;
  }
  // A Unix connect completes (or fails) at once; so may a loopback TCP one: the writable report
  // that follows finishes it in the next round, the same path as a connect in progress.
  addWait(slot, timeoutMs);
  return slot;
}

void Reactor::finishConnect(int32_t slot) {
  Conn& c = conns_[slot];
  if (c.closing) {
    closeConn(slot, ECANCELED);  // closed (engine stop, a close by ref) before it ever connected
    return;
  }
  int err = sockError(c.fd);
  if (err == EINPROGRESS || err == EALREADY) return;
  if (err != 0) {
    closeConn(slot, err);
    return;
  }
  // Writable with no error can still mean "not yet" on some systems: a peer name says connected.
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  if (getpeername(c.fd, reinterpret_cast<sockaddr*>(&ss), &sl) < 0) {
    closeConn(slot, errno == ENOTCONN ? ECONNREFUSED : errno);
    return;
  }
  c.connecting = false;
  c.dueMs = 0;
  bool pending = c.out && !c.out->empty();
  setMask(c, (readWanted(c) ? uint32_t{kPollReadable} : 0u) | (pending ? uint32_t{kPollWritable} : 0u));
  if (c.dial && c.dial->clientCtx) {
    // TLS: a PROXY header (pending) goes first in the clear, then the ClientHello; opened
    // (kOpen) once the handshake is done, by readTls.
    if (pending) flushOut(slot);
    if (conns_[slot].open) startClientTls(slot);
    return;
  }
  push(ev::kOpen, slot, static_cast<int32_t>(c.gen), -1);
  if (pending) flushOut(slot);
}

uint64_t Reactor::expireWaits(uint64_t now) {
  if (waits_.empty()) return 0;
  if (now == 0) now = monoMs();
  uint64_t next = 0;
  size_t keep = 0;
  for (size_t i = 0; i < waits_.size(); i++) {
    int32_t slot = waits_[i];
    Conn& c = conns_[slot];
    if (!c.open || (!c.connecting && !c.proxyWait) || c.dueMs == 0) continue;  // done: dropped
    if (now >= c.dueMs) {
      if (c.connecting) {
        closeConn(slot, ETIMEDOUT);
      } else {
        uint32_t ms = static_cast<size_t>(c.listener) < listenerProxy_.size() ? listenerProxy_[c.listener].second : 0;
        failTls(slot, ev::kErrProxyHeaderTimeout, "no PROXY protocol header within " + std::to_string(ms) + " ms");
      }
      continue;
    }
    if (next == 0 || c.dueMs < next) next = c.dueMs;
    waits_[keep++] = slot;
  }
  waits_.resize(keep);
  maybeStopped();
  return next;
}

bool Reactor::setPaused(int32_t slot, uint32_t gen, bool paused) {
  Conn* c = live(slot, gen);
  if (!c || c->dgram) return false;
  if (c->paused == paused) return true;
  c->paused = paused;
  if (c->connecting) return true;  // the mask is set when the connect completes
  setMask(*c, readWanted(*c) ? (c->mask | kPollReadable) : (c->mask & ~kPollReadable));
  // Plaintext OpenSSL decrypted before the pause has no poll event to bring it back.
  if (!paused && readWanted(*c) && c->tls && c->tls->pendingPlain()) defer(*c, slot);
  return true;
}

void Reactor::closeWrite(int32_t slot) {
  Conn& c = conns_[slot];
  if (!c.open || c.wrShut || c.dgram) return;
  spillFan(slot);  // published messages still held by reference go out before the FIN
  if (!c.open) return;
  if (c.tls && !c.handshaking && !c.shutPending) {
    c.tls->shutdown();  // close_notify first: TLS has no half-close of its own
    if (!flushTls(slot)) return;
  }
  if (c.connecting || (c.out && !c.out->empty())) {
    c.shutPending = true;  // flushOut comes back here once the output is gone
    return;
  }
  c.shutPending = false;
  c.wrShut = true;
  int r = sockShutdownWrite(c.fd);
  if (r < 0 && r != -ENOTCONN) {
    closeConn(slot, -r);
    return;
  }
  if (c.readClosed) closeConn(slot, 0);  // both directions are done
}

void Reactor::peerEof(int32_t slot) {
  Conn& c = conns_[slot];
  c.readClosed = true;
  setMask(c, c.mask & ~kPollReadable);
  if (c.pipeTo >= 0) {
    closeWrite(c.pipeTo);  // the half-close travels on, after the target's pending output
  } else {
    push(ev::kReadClosed, slot, static_cast<int32_t>(c.gen), 0);
  }
  if (conns_[slot].open && c.wrShut) closeConn(slot, 0);
}

void Reactor::forward(int32_t slot, size_t off, size_t len) {
  Conn& c = conns_[slot];
  arenaPos_ = off;  // written (or copied into the target's ring) now: the arena space is free again
  if (len == 0) return;
  Conn& t = conns_[c.pipeTo];
  if (!t.open || t.wrShut || t.shutPending) {
    closeConn(slot, EPIPE);  // nowhere to put the bytes: never dropped silently
    return;
  }
  iovec v{arena_ + off, len};
  forwarded_ = true;
  writeConn(c.pipeTo, &v, 1);
}

// The target's output drained: a source held back by it may read again.
void Reactor::pipeDrained(Conn& t) {
  if (t.pipeFrom < 0) return;
  if (t.out && t.out->size() > opts_.writeHighWater / 2) return;
  int32_t s = t.pipeFrom;
  Conn& src = conns_[s];
  if (!src.pipeBlocked) return;
  src.pipeBlocked = false;
  if (readWanted(src)) {
    setMask(src, src.mask | kPollReadable);
    if (src.tls && src.tls->pendingPlain()) defer(src, s);
  }
}

int Reactor::setPipe(int32_t slot, uint32_t gen, int32_t to, uint32_t toGen) {
  Conn* c = live(slot, gen);
  if (!c || c->dgram) return -ENOTCONN;
  if (to < 0) {
    if (c->pipeTo >= 0) {
      Conn& t = conns_[c->pipeTo];
      t.pipeFrom = -1;
      c->pipeTo = -1;
      if (c->pipeBlocked) {
        c->pipeBlocked = false;
        if (readWanted(*c)) setMask(*c, c->mask | kPollReadable);
      }
    }
    return 0;
  }
  Conn* t = live(to, toGen);
  if (!t || t->dgram) return -ENOTCONN;
  if (to == slot) return -EINVAL;
  if (c->pipeTo >= 0 || (t->pipeFrom >= 0 && t->pipeFrom != slot)) return -EBUSY;
  c->pipeTo = to;
  t->pipeFrom = slot;
  // Bytes this side held between events go first.
  if (c->in && !c->in->empty()) {
    iovec v[2];
    int n = c->in->peek(v);
    writeConn(to, v, n);
    if (c->in) {
      c->in->clear();
      c->in->release();
    }
    if (!conns_[slot].open) return 0;
  }
  if (t->open && t->out && t->out->size() > opts_.writeHighWater && !c->pipeBlocked) {
    c->pipeBlocked = true;
    setMask(*c, c->mask & ~kPollReadable);
  }
  if (c->readClosed && conns_[to].open) closeWrite(to);
  return 0;
}

// A closing connection takes its forwarding partners with it (after their pending output).
void Reactor::unlinkPipes(int32_t slot, int) {
  Conn& c = conns_[slot];
  int32_t a = c.pipeTo, b = c.pipeFrom;
  if (a < 0 && b < 0) return;
  c.pipeTo = c.pipeFrom = -1;
  for (int32_t p : {a, b}) {
    if (p < 0) continue;
    Conn& o = conns_[p];
    if (o.pipeTo == slot) o.pipeTo = -1;
    if (o.pipeFrom == slot) o.pipeFrom = -1;
    o.pipeBlocked = false;
  }
  for (int32_t p : {a, b}) {
    if (p >= 0 && conns_[p].open && !conns_[p].closing) closeGraceful(p);
  }
}

void Reactor::setListenerProxy(int32_t listener, int mode, uint32_t timeoutMs) {
  if (listener < 0) return;
  if (static_cast<size_t>(listener) >= listenerProxy_.size()) listenerProxy_.resize(listener + 1, {0, 0});
  listenerProxy_[listener] = {mode, timeoutMs};
}

const DialState* Reactor::proxyInfo(int32_t slot) const {
  if (slot < 0 || static_cast<size_t>(slot) >= conns_.size() || !conns_[slot].open) return nullptr;
  const DialState* d = conns_[slot].dial;
  return d && d->version ? d : nullptr;
}

// Reads no byte past the header: it peeks, then consumes only what is certainly header, so what
// follows (the client's bytes, or a TLS ClientHello) stays in the socket for the ordinary read.
void Reactor::readProxyHeader(int32_t slot) {
  Conn& c = conns_[slot];
  DialState& d = *c.dial;
  uint8_t buf[kProxyMax];
  size_t room = kProxyMax - d.hdr.size();
  ssize_t n;
  do n = recv(c.fd, buf, room, MSG_PEEK);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    closeConn(slot, errno);
    return;
  }
  if (n == 0) {
    failTls(slot, ev::kErrProxyHeader, "the connection closed before a whole PROXY protocol header");
    return;
  }
  std::string all = d.hdr;
  all.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
  ProxyHeader h;
  size_t used = 0;
  std::string why;
  int mode = listenerProxy_[c.listener].first;
  switch (proxyParse(reinterpret_cast<const uint8_t*>(all.data()), all.size(), &h, &used, &why)) {
    case ProxyParse::kDone: {
      size_t take = used - d.hdr.size();
      if (take > 0 && recv(c.fd, buf, take, 0) != static_cast<ssize_t>(take)) {
        closeConn(slot, EIO);
        return;
      }
      d.hdr.clear();
      d.hdr.shrink_to_fit();
      d.version = h.version;
      if (!h.local) {
        d.source = std::move(h.source);
        d.dest = std::move(h.dest);
      }
      d.tlvs = std::move(h.tlvs);
      openAfterProxy(slot, std::string());
      return;
    }
    case ProxyParse::kNeedMore:
      if (all.size() >= kProxyMax) {
        failTls(slot, ev::kErrProxyHeader, "PROXY protocol header longer than the cap");
        return;
      }
      if (recv(c.fd, buf, static_cast<size_t>(n), 0) != n) {
        closeConn(slot, EIO);
        return;
      }
      d.hdr = std::move(all);
      return;
    case ProxyParse::kNotProxy:
      if (mode == 2) {
        std::string kept = std::move(d.hdr);
        openAfterProxy(slot, kept);
        return;
      }
      failTls(slot, ev::kErrProxyHeader, "expected a PROXY protocol header (v1 or v2)");
      return;
    case ProxyParse::kBad:
      failTls(slot, ev::kErrProxyHeader, why);
      return;
  }
}

void Reactor::openAfterProxy(int32_t slot, const std::string& leftover) {
  Conn& c = conns_[slot];
  c.proxyWait = false;
  c.dueMs = 0;
  int32_t l = c.listener;
  if (static_cast<size_t>(l) < listenerTls_.size() && listenerTls_[l].ctx) {
    if (!leftover.empty()) {
      failTls(slot, ev::kErrProxyHeader, "a partial PROXY protocol header before the TLS handshake");
      return;
    }
    startTls(slot, listenerTls_[l]);
    return;
  }
  push(ev::kOpen, slot, static_cast<int32_t>(c.gen), l);
  if (!leftover.empty()) {
    // Bytes taken for a header that was not one ('optional'): delivered as the first data.
    c.in = new RingBuffer(opts_.readCap);
    c.in->write(reinterpret_cast<const uint8_t*>(leftover.data()), leftover.size());
    if (!c.woken) {
      c.woken = true;
      woken_.push_back(slot);
    }
  }
}

bool Reactor::takeDialRequest(std::string* out) {
  if (dialRequests_.empty()) return false;
  *out = std::move(dialRequests_.front());
  dialRequests_.erase(dialRequests_.begin());
  return true;
}

}  // namespace rl
