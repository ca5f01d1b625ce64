#include "reactor.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>

#include "socket.h"
#include "wakeup.h"

namespace rl {

using namespace layout;

// Fairness. One read per ready connection per round, of at most its share of the read arena:
// the arena divided by the connections that want a read this round, between kMinRead and
// kReadChunk. So a big transfer takes several rounds, and up to arena / kMinRead ready
// connections (256 with the default 1 MiB) are all read in every round. Past that, or when
// leftovers fill the arena, a read that does not fit is deferred, and deferred connections are
// read first in the next round, oldest first: a ready connection waits at most
// ceil(ready / (arena / kMinRead)) rounds, whatever its neighbours do. (Level-triggered epoll
// reports ready connections in the same order every round, so without the queue the same
// connections would always be read first and the last ones could wait for seconds.)
static constexpr size_t kReadChunk = 64 * 1024;
static constexpr size_t kMinRead = 4096;
// Output is fair the same way: one connection hands the kernel at most this much per round
// (the rest waits for the next writable report), so megabytes pending on one connection never
// hold back a small reply to another.
static constexpr size_t kFlushChunk = 256 * 1024;
static constexpr int kPollBatch = 256;
static constexpr int kInboxBatch = 4096;
static constexpr int kMaxIov = 64;

Reactor::Reactor(const Inbox& inbox, int wakeFd, const Options& opts, ArenaHost* host)
    : inbox_(inbox), wakeFd_(wakeFd), opts_(opts), host_(host), pev_(kPollBatch) {
  events_.reserve(4096);
}

Reactor::~Reactor() {
  // The inbox may be gone by now (thread teardown): only release what this object owns.
  for (Conn& c : conns_) {
    if (c.open) sockClose(c.fd);
    delete c.in;
    delete c.out;
    delete c.acks;
    delete c.tls;
    delete c.topics;
    delete c.dial;
  }
  for (int fd : listeners_) sockClose(fd);
  pollerFree(poller_);
}

int Reactor::init() {
  int err = 0;
  poller_ = pollerCreate(&err);
  if (!poller_) return -err;
  return pollerAdd(poller_, wakeFd_, kPollReadable);
}

void Reactor::push(int32_t a, int32_t b, int32_t c, int32_t d) {
  events_.push_back(a);
  events_.push_back(b);
  events_.push_back(c);
  events_.push_back(d);
}

Conn* Reactor::live(int32_t slot, uint32_t gen) {
  if (slot < 0 || static_cast<size_t>(slot) >= conns_.size()) return nullptr;
  Conn& c = conns_[slot];
  return (c.open && c.gen == gen) ? &c : nullptr;
}

const Conn* Reactor::conn(int32_t slot, uint32_t gen) const {
  return const_cast<Reactor*>(this)->live(slot, gen);
}

int Reactor::connFd(int32_t slot) const {
  if (slot < 0 || static_cast<size_t>(slot) >= conns_.size() || !conns_[slot].open) return -1;
  return conns_[slot].fd;
}

size_t Reactor::outboundBuffered(int32_t slot) const {
  if (slot < 0 || static_cast<size_t>(slot) >= conns_.size()) return 0;
  const Conn& c = conns_[slot];
  return c.open && c.out ? c.out->size() : 0;
}

void Reactor::setMask(Conn& c, uint32_t mask) {
  if (c.mask == mask) return;
  c.mask = mask;
  if (c.parked) {
    if (mask == kPollNone) return;
    c.parked = false;  // wanted again: what it still holds is read (or written) from here
    pollerAdd(poller_, c.fd, mask);
    return;
  }
  pollerModify(poller_, c.fd, mask);
}

// Hung up (both directions shut) while not reading: bytes the peer sent before its FIN may still
// be in the kernel (a paused connection, a forwarding source held back by its target). Closing
// now would drop them and answer with a reset, which discards our own unsent tail as well.
bool Reactor::parkHungUp(Conn& c) {
  int unread = 0;
  bool held = (ioctl(c.fd, FIONREAD, &unread) == 0 && unread > 0) || (c.tls && c.tls->pendingPlain());
  if (!held) return false;
  pollerRemove(poller_, c.fd);
  c.parked = true;
  return true;
}

void Reactor::gather() {
  arenaPos_ = 0;
  round_++;
  framesPos_ = 0;
  drainInbox();
  int n = pollerWait(poller_, pev_.data(), kPollBatch, 0);
  // Each wanting connection's share of the arena (n also counts listeners and the wake fd: a
  // slightly smaller share, never a larger one).
  size_t wanting = static_cast<size_t>(n) + deferred_.size() + woken_.size();
  share_ = std::clamp(arenaSize_ / std::max<size_t>(wanting, 1), kMinRead, kReadChunk);
  if (!reframe_.empty()) deliverReframed();
  readDeferred();
  for (int i = 0; i < n; i++) {
    int fd = pev_[i].fd;
    uint32_t m = pev_[i].mask;
    if (fd == wakeFd_) {
      wakeupDrain(fd);
      continue;
    }
    if (fd < 0 || static_cast<size_t>(fd) >= fdSlot_.size() || fdSlot_[fd] == -1) continue;
    if (fdSlot_[fd] <= -2) {
      acceptFrom(fd, -(fdSlot_[fd] + 2));
      continue;
    }
    int32_t slot = fdSlot_[fd];
    Conn& c = conns_[slot];
    if (c.dgram) {
      readDgrams(slot, pev_[i].err);
      continue;
    }
    if (c.connecting) {
      finishConnect(slot);  // reactor_dial.cc
      continue;
    }
    if ((m & (kPollError | kPollHangup)) && !(c.mask & kPollReadable) && (!c.out || c.out->empty())) {
      if (!(m & kPollError) && parkHungUp(c)) continue;
      // Not reading (paused, half-closed) and nothing to write: only a close can answer the error.
      int e = 0;
      socklen_t el = sizeof e;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
      closeConn(slot, e != 0 ? e : pev_[i].err);
      continue;
    }
    if ((m & kPollWritable) || ((m & (kPollError | kPollHangup)) && !(c.mask & kPollReadable))) flushOut(slot);
    if (c.open && c.fd == fd && c.round != round_ && (c.mask & kPollReadable) &&
        (m & (kPollReadable | kPollError | kPollHangup)))
      readConn(slot, pev_[i].err);
  }
  for (int32_t slot : woken_) {
    Conn& c = conns_[slot];
    if (!c.woken) continue;  // already delivered with fresh data this round
    c.woken = false;
    if (!c.open || c.closing) continue;
    size_t leftover = c.in ? c.in->size() : 0;
    if (arenaSize_ - arenaPos_ < leftover) {
      if (arenaPos_ != 0) {  // no room this round: keep it for the next one
        c.woken = true;
        continue;
      }
      if (!growArenaFor(slot, leftover)) continue;
    }
    deliver(slot, 0, arenaPos_);
  }
  woken_.erase(std::remove_if(woken_.begin(), woken_.end(), [this](int32_t s) { return !conns_[s].woken; }),
               woken_.end());
  flushCounters();
  maybeStopped();
}

void Reactor::drainInbox() {
  InboxMsg m;
  for (int i = 0; i < kInboxBatch && inbox_.peek(&m); i++) {
    switch (m.type) {
      case kMsgAccept:
        openConn(m.a, m.b);
        break;
      case kMsgWrite:
        if (Conn* c = live(m.a, static_cast<uint32_t>(m.b)); c && c->dgram) {
          // A datagram needs a peer (MSG_SENDTO); a stream write would fail on the socket.
          dgramDropped_++;
          if (m.token) push(ev::kAck, m.token, -EDESTADDRREQ, 0);
        } else if (c && !c->closing) {
          if (m.len > 0) {
            iovec v{const_cast<uint8_t*>(m.data), static_cast<size_t>(m.len)};
            writeConn(m.a, &v, 1);
          }
          if (m.token) ackWrite(m.a, static_cast<uint32_t>(m.b), m.token, m.len);
        } else if (m.token) {
          // A stale ref (the connection closed, the slot may already serve another): dropped.
          push(ev::kAck, m.token, -ENOTCONN, 0);
        }
        break;
      case kMsgWake:
        if (Conn* c = live(m.a, static_cast<uint32_t>(m.b)); c && !c->woken && !c->dgram) {
          c->woken = true;
          woken_.push_back(m.a);
        }
        break;
      case kMsgClose:
        // A UDP socket belongs to the engine, not to one peer: only stop closes it.
        if (Conn* c = live(m.a, static_cast<uint32_t>(m.b)); c && !c->dgram) closeGraceful(m.a);
        break;
      case kMsgListen:
        if (m.c == 1) openDgram(m.a, m.b);
        else addListener(m.a, m.b);
        break;
      case kMsgSendTo:
        sendToFromInbox(m);
        break;
      case kMsgPublish:
        publishFromInbox(m);
        break;
      case kMsgBroadcast:
        broadcastFromInbox(m);
        break;
      case kMsgDial:  // JS makes the connection (it holds the context): reactor_dial.cc
        if (!stopping_ && m.len > 0) {
          dialRequests_.emplace_back(reinterpret_cast<const char*>(m.data), static_cast<size_t>(m.len));
          push(ev::kDialRequest, 0, 0, 0);
        }
        break;
      case kMsgStop:
        if (!stopping_) {
          stopping_ = true;
          closeListeners();
          inbox_.store(kState, kStateStopping);
          for (size_t s = 0; s < conns_.size(); s++)
            if (conns_[s].open) closeGraceful(static_cast<int32_t>(s));
        }
        break;
      default:
        break;
    }
    free(m.staged);
    inbox_.advance();
  }
  if (!fanPending_.empty()) flushFanout();  // one write per subscriber for the whole drain
}

void Reactor::openConn(int fd, int32_t listener) {
  inbox_.add(kAccepted, 1);
  if (stopping_ || fd < 0) {
    if (fd >= 0) sockClose(fd);
    return;
  }
  int32_t slot = takeSlot(fd, listener);
  if (slot < 0) return;
  inbox_.add(kConns, 1);
  if (listener >= 0 && static_cast<size_t>(listener) < listenerProxy_.size() && listenerProxy_[listener].first) {
    // A PROXY header comes first (before TLS too): reactor_dial.cc opens it once read.
    conns_[slot].proxyWait = true;
    conns_[slot].dial = new DialState();
    addWait(slot, listenerProxy_[listener].second);
    return;
  }
  if (listener >= 0 && static_cast<size_t>(listener) < listenerTls_.size() && listenerTls_[listener].ctx) {
    startTls(slot, listenerTls_[listener]);  // opened (kOpen) once the handshake is done
    return;
  }
  push(ev::kOpen, slot, static_cast<int32_t>(conns_[slot].gen), listener);
}

// A UDP socket is served like a connection slot (same generation rules for refs that name it),
// but it is not a connection: not counted, no onOpened/onClosed, never buffered.
void Reactor::openDgram(int fd, int32_t listener) {
  if (stopping_ || fd < 0) {
    if (fd >= 0) sockClose(fd);
    return;
  }
  int32_t slot = takeSlot(fd, listener);
  if (slot < 0) return;
  conns_[slot].dgram = true;
  push(ev::kDgramOpen, slot, static_cast<int32_t>(conns_[slot].gen), listener);
}

// Registers fd in a free slot, readable. Returns the slot, or -1 (fd closed) if the poller refused it.
int32_t Reactor::takeSlot(int fd, int32_t listener) {
  int32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<int32_t>(conns_.size());
    conns_.emplace_back();
    conns_.back().gen = opts_.generationBase;
  }
  Conn& c = conns_[slot];
  if (pollerAdd(poller_, fd, kPollReadable) < 0) {
    sockClose(fd);
    free_.push_back(slot);
    return -1;
  }
  c.fd = fd;
  c.mask = kPollReadable;
  c.listener = listener;
  c.open = true;
  c.closing = false;
  c.woken = false;
  c.throttled = false;
  c.dgram = false;
  c.deferred = false;
  resetDialFields(c);
  if (static_cast<size_t>(fd) >= fdSlot_.size()) fdSlot_.resize(fd + 1024, -1);
  fdSlot_[fd] = slot;
  openCount_++;
  return slot;
}

void Reactor::addListener(int fd, int32_t index) {
  if (stopping_ || fd < 0) {
    if (fd >= 0) sockClose(fd);
    return;
  }
  if (pollerAdd(poller_, fd, kPollReadable) < 0) {
    sockClose(fd);
    return;
  }
  if (static_cast<size_t>(fd) >= fdSlot_.size()) fdSlot_.resize(fd + 1024, -1);
  fdSlot_[fd] = -(index + 2);
  listeners_.push_back(fd);
}

void Reactor::acceptFrom(int fd, int32_t index) {
  int fds[64];
  int n = sockAcceptBatch(fd, fds, 64);
  if (n == -EMFILE || n == -ENFILE || n == -ENOBUFS || n == -ENOMEM) {
    // Level-triggered: the pending client would wake us forever. Wait for a close instead.
    for (int l : listeners_) pollerModify(poller_, l, kPollNone);
    listenersPaused_ = true;
    return;
  }
  for (int i = 0; i < n; i++) {
    sockConfigure(fds[i], opts_.sock);
    inbox_.add(kAccepted, -1);  // openConn counts hand-overs; this one was not handed over
    openConn(fds[i], index);
  }
}

void Reactor::closeListeners() {
  for (int fd : listeners_) {
    pollerRemove(poller_, fd);
    fdSlot_[fd] = -1;
    sockClose(fd);
  }
  listeners_.clear();
}

// The connections deferred last round, read before anything else this round, oldest first.
void Reactor::readDeferred() {
  if (deferred_.empty()) return;
  carry_.swap(deferred_);
  for (int32_t slot : carry_) {
    Conn& c = conns_[slot];
    // A slot closed (and maybe reused) since it was deferred has its flag cleared: skip it.
    if (!c.deferred) continue;
    c.deferred = false;
    // Not known to be readable any more: at worst one read that finds nothing (EAGAIN).
    if (c.open && !c.closing && (c.mask & kPollReadable)) readConn(slot, 0);
  }
  carry_.clear();
}

void Reactor::defer(Conn& c, int32_t slot) {
  c.round = round_;
  if (c.deferred) return;
  c.deferred = true;
  deferred_.push_back(slot);
}

// Replaces the read arena (at a round's start: nothing in it yet) by one of at least `bytes`;
// false, with `slot` closed ENOMEM, when JS could not allocate it.
bool Reactor::growArenaFor(int32_t slot, size_t bytes) {
  size_t size = 0;
  uint8_t* a = host_->growArena(bytes, &size);
  if (!a) {
    closeConn(slot, ENOMEM);
    return false;
  }
  arena_ = a;
  arenaSize_ = size;
  return true;
}

void Reactor::readConn(int32_t slot, int pollErr) {
  Conn& c = conns_[slot];
  if (c.proxyWait) {
    readProxyHeader(slot);  // reactor_dial.cc
    return;
  }
  if (c.tls) {
    readTls(slot);  // a TLS socket's error shows in the read itself
    return;
  }
  size_t leftover = c.in ? c.in->size() : 0;
  if (leftover >= opts_.readCap) {
    // The handler has not consumed a full buffer: whatever it waits for can never fit.
    closeConn(slot, EMSGSIZE);
    return;
  }
  size_t want = std::min(share_, opts_.readCap - leftover);
  size_t free = arenaSize_ - arenaPos_;
  if (free < leftover + want) {
    if (free >= leftover + kMinRead) {
      want = free - leftover;
    } else if (arenaPos_ != 0) {
      defer(c, slot);  // first in line next round
      return;
    } else if (!growArenaFor(slot, leftover + want)) {
      return;
    }
  }
  size_t off = arenaPos_;
  c.round = round_;
  ssize_t r = sockRead(c.fd, arena_ + off + leftover, want);
  if (r > 0) {
    deliver(slot, static_cast<size_t>(r), off);
    return;
  }
  if (r == -EAGAIN || r == -EWOULDBLOCK) return;
  if (r == 0 && pollErr != 0) {
    closeConn(slot, pollErr);  // the poller consumed the socket error (kqueue): report it, not EOF
    return;
  }
  if (r == 0 && (halfClose_ || c.pipeTo >= 0)) {
    peerEof(slot);  // kept open for writing (reactor_dial.cc)
    return;
  }
  if (r == 0) {
    // Peer finished sending: flush what we owe, then close (half-close is not kept open).
    setMask(c, c.mask & ~kPollReadable);
    closeGraceful(slot);
    return;
  }
  closeConn(slot, static_cast<int>(-r));
}

// Makes leftover + newBytes contiguous at arena offset `off` (new bytes are already there).
void Reactor::deliver(int32_t slot, size_t newBytes, size_t off) {
  Conn& c = conns_[slot];
  size_t leftover = c.in ? c.in->size() : 0;
  if (leftover) {
    c.in->copyOut(arena_ + off);
    c.in->clear();
    c.in->release();
  }
  size_t len = leftover + newBytes;
  arenaPos_ = off + len;
  c.woken = false;
  c.round = round_;
  if (c.pipeTo >= 0) {
    forward(slot, off, len);  // forward mode: straight to the other connection, no JS call
    return;
  }
  if (deliverFrames(slot, off, len)) return;
  push(ev::kData, slot, static_cast<int32_t>(off), static_cast<int32_t>(len));
}

void Reactor::writeConn(int32_t slot, const iovec* iov, int cnt) {
  if (conns_[slot].tls) writeTls(slot, iov, cnt);
  else writeRaw(slot, iov, cnt);
}

// Bytes as they go on the wire (plaintext on TCP, ciphertext on TLS).
void Reactor::writeRaw(int32_t slot, const iovec* iov, int cnt) {
  spillFan(slot);
  Conn& c = conns_[slot];
  if (!c.open) return;  // the spill passed writeBufferCap (ENOBUFS)
  size_t total = 0;
  for (int i = 0; i < cnt; i++) total += iov[i].iov_len;
  if (total == 0) return;
  size_t sent = 0;
  c.queued += total;
  if (!c.out || c.out->empty()) {
    ssize_t r = sockWritev(c.fd, iov, cnt);
    if (r < 0 && r != -EAGAIN && r != -EWOULDBLOCK) {
      closeConn(slot, static_cast<int>(-r));
      return;
    }
    sent = r > 0 ? static_cast<size_t>(r) : 0;
    c.written += sent;
    if (sent == total) return;
  }
  if (!c.out) c.out = new RingBuffer(opts_.writeCap);
  size_t skip = sent;
  for (int i = 0; i < cnt; i++) {
    size_t len = iov[i].iov_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    if (!c.out->write(static_cast<uint8_t*>(iov[i].iov_base) + skip, len - skip)) {
      closeConn(slot, ENOBUFS);  // never a silent drop: the handler learns it in onClosed
      return;
    }
    skip = 0;
  }
  uint32_t mask = c.mask | kPollWritable;
  if (!c.closing && (mask & kPollReadable) && c.out->size() > opts_.writeHighWater && c.pipeFrom < 0) {
    mask &= ~kPollReadable;
    c.throttled = true;
  }
  setMask(c, mask);
  if (c.pipeFrom >= 0 && c.out->size() > opts_.writeHighWater) {
    // Forward mode: it is the source that must wait for this output (reactor_dial.cc).
    Conn& src = conns_[c.pipeFrom];
    if (!src.pipeBlocked) {
      src.pipeBlocked = true;
      setMask(src, src.mask & ~kPollReadable);
    }
  }
}

// Shortens iov[0..*n) to at most `max` bytes in all.
static void clampIov(iovec* v, int* n, size_t max) {
  for (int i = 0; i < *n; i++) {
    if (v[i].iov_len >= max) {
      v[i].iov_len = max;
      *n = i + 1;
      return;
    }
    max -= v[i].iov_len;
  }
}

void Reactor::flushOut(int32_t slot) {
  Conn& c = conns_[slot];
  if (!c.open) return;
  size_t budget = kFlushChunk;
  while (c.out && !c.out->empty()) {
    if (budget == 0) return;  // still writable-registered: the rest goes in the next rounds
    iovec v[2];
    int n = c.out->peek(v);
    clampIov(v, &n, budget);
    ssize_t r = sockWritev(c.fd, v, n);
    if (r == -EAGAIN || r == -EWOULDBLOCK) return;
    if (r < 0) {
      closeConn(slot, static_cast<int>(-r));
      return;
    }
    c.out->discard(static_cast<size_t>(r));
    c.written += static_cast<uint64_t>(r);
    budget -= std::min(budget, static_cast<size_t>(r));
    if (c.acks) settleAcks(c);
    if (c.pipeFrom >= 0) pipeDrained(c);
    if (c.throttled && c.out->size() <= opts_.writeHighWater / 2) {
      c.throttled = false;
      if (readWanted(c)) setMask(c, c.mask | kPollReadable);
      // Plaintext OpenSSL decrypted before the pause has no poll event to bring it back.
      if (!c.closing && c.tls && c.tls->pendingPlain()) defer(c, slot);
    }
  }
  if (c.out) c.out->release();
  setMask(c, c.mask & ~kPollWritable);
  if (c.shutPending && !c.closing) closeWrite(slot);  // reactor_dial.cc
  if (c.closing) closeConn(slot, 0);
}

void Reactor::closeGraceful(int32_t slot) {
  Conn& c = conns_[slot];
  if (!c.open) return;
  spillFan(slot);  // published messages still held by reference go out before the close
  if (!c.open) return;
  if (c.tls && !c.handshaking && !c.closing) {
    c.tls->shutdown();  // close_notify after what is pending, then the close below
    if (!flushTls(slot)) return;
  }
  if (!c.out || c.out->empty()) {
    closeConn(slot, 0);
    return;
  }
  c.closing = true;
  setMask(c, kPollWritable);
}

void Reactor::closeConn(int32_t slot, int err) {
  Conn& c = conns_[slot];
  if (!c.open) return;
  unlinkPipes(slot, err);  // forwarding partners close too (reactor_dial.cc)
  // Counted down before the peer can see the close, so an observer who saw it never reads a stale count.
  openCount_--;
  if (!c.dgram) inbox_.add(kConns, -1);
  pollerRemove(poller_, c.fd);
  sockClose(c.fd);
  fdSlot_[c.fd] = -1;
  delete c.in;
  delete c.out;
  delete c.tls;
  c.in = c.out = nullptr;
  c.tls = nullptr;
  c.fanFirst = c.fanLast = -1;  // its referenced messages (if any) are dropped with it
  bool dialFailed = c.connecting || (c.dialed && c.handshaking);  // a dial that never connected (or shook hands)
  bool rejected = !dialFailed && (c.handshaking || c.proxyWait);  // never opened (TLS, PROXY header): no kClosed
  resetDialFields(c);
  c.handshaking = false;
  if (c.acks) {
    for (const PendingAck& a : *c.acks) push(ev::kAck, a.token, -(err ? err : EPIPE), 0);
    delete c.acks;
    c.acks = nullptr;
  }
  if (c.topics) dropTopics(c, slot);
  c.queued = c.written = 0;
  c.open = c.closing = c.woken = c.deferred = false;
  c.fd = -1;
  c.mask = 0;
  if (rejected) push(ev::kRejected, slot, err, c.listener);
  else if (dialFailed) push(ev::kDialFailed, slot, err, static_cast<int32_t>(c.gen));
  else push(ev::kClosed, slot, err, static_cast<int32_t>(c.gen));
  if (listenersPaused_) {  // a descriptor just came free
    listenersPaused_ = false;
    for (int l : listeners_) pollerModify(poller_, l, kPollReadable);
  }
  c.gen++;  // a stale ref to this slot can no longer match
  free_.push_back(slot);
}

void Reactor::ackWrite(int32_t slot, uint32_t gen, int32_t token, int32_t len) {
  Conn* c = live(slot, gen);
  if (!c) {
    push(ev::kAck, token, -EPIPE, 0);  // the write itself failed and closed the connection
    return;
  }
  if (c->written >= c->queued) {
    push(ev::kAck, token, len, 0);
    return;
  }
  if (!c->acks) c->acks = new std::vector<PendingAck>();
  c->acks->push_back(PendingAck{c->queued, token, len});
}

void Reactor::settleAcks(Conn& c) {
  auto& v = *c.acks;
  size_t done = 0;
  while (done < v.size() && v[done].end <= c.written) {
    push(ev::kAck, v[done].token, v[done].len, 0);
    done++;
  }
  v.erase(v.begin(), v.begin() + static_cast<long>(done));
  if (v.empty()) {
    delete c.acks;
    c.acks = nullptr;
  }
}

void Reactor::maybeStopped() {
  if (stopping_ && !stopEmitted_ && openCount_ == 0) {
    stopEmitted_ = true;
    inbox_.store(kState, kStateStopped);
    push(ev::kStopped, 0, 0, 0);
  }
}

void Reactor::commit(const int32_t* recs, int n, const uint8_t* outArena, size_t outSize) {
  iovec iov[kMaxIov];
  for (int i = 0; i < n;) {
    const int32_t* r = recs + static_cast<size_t>(i) * out::kRecordInts;
    int32_t op = r[0], slot = r[1];
    uint32_t gen = static_cast<uint32_t>(r[2]);
    Conn* c = live(slot, gen);
    if (op == out::kWrite) {
      int cnt = 0;
      // Coalesce consecutive writes to the same connection into one writev.
      while (i < n && cnt < kMaxIov) {
        const int32_t* w = recs + static_cast<size_t>(i) * out::kRecordInts;
        if (w[0] != out::kWrite || w[1] != slot || static_cast<uint32_t>(w[2]) != gen) break;
        i++;
        size_t off = static_cast<uint32_t>(w[3]), len = static_cast<uint32_t>(w[4]);
        const uint8_t* base = w[5] == 0 ? arena_ : outArena;
        size_t limit = w[5] == 0 ? arenaSize_ : outSize;
        if (len == 0 || off > limit || len > limit - off) continue;  // never read outside a buffer
        iov[cnt++] = iovec{const_cast<uint8_t*>(base + off), len};
      }
      if (c && !c->closing && !c->dgram && cnt > 0) writeConn(slot, iov, cnt);
      continue;
    }
    if (op == out::kSendTo || op == out::kSendToRead) {
      i = commitDatagrams(recs, i, n, outArena, outSize);
      continue;
    }
    if (op == out::kPublish) {
      i++;
      publishRecord(r, outArena, outSize);
      continue;
    }
    i++;
    if (!c || c->dgram) continue;
    if (op == out::kKeep) {
      size_t off = static_cast<uint32_t>(r[3]), len = static_cast<uint32_t>(r[4]);
      if (len == 0 || off > arenaSize_ || len > arenaSize_ - off) continue;
      if (!c->in) c->in = new RingBuffer(opts_.readCap);
      if (!c->in->write(arena_ + off, len)) closeConn(slot, EMSGSIZE);
    } else if (op == out::kClose) {
      if (r[5] == 0) closeGraceful(slot);
      else closeConn(slot, r[5]);
    } else if (op == out::kCloseWrite) {
      closeWrite(slot);
    }
  }
  if (!fanPending_.empty()) flushFanout();
  flushCounters();
  maybeStopped();
}

int Reactor::writeNow(int32_t slot, uint32_t gen, const uint8_t* data, size_t len) {
  Conn* c = live(slot, gen);
  if (!c || c->closing || c->dgram) return -EPIPE;
  iovec v{const_cast<uint8_t*>(data), len};
  writeConn(slot, &v, 1);
  return 0;
}

void Reactor::closeAll(int err) {
  for (size_t s = 0; s < conns_.size(); s++)
    if (conns_[s].open) closeConn(static_cast<int32_t>(s), err);
  maybeStopped();
}

void Reactor::closeSilently() {
  closeListeners();
  for (Conn& c : conns_) {
    if (!c.open) continue;
    if (!c.dgram) inbox_.add(kConns, -1);
    if (c.topics) dropTopics(c, static_cast<int32_t>(&c - conns_.data()));
    sockClose(c.fd);
    delete c.in;
    delete c.out;
    delete c.acks;
    delete c.tls;
    delete c.dial;
    c.dial = nullptr;
    c.in = c.out = nullptr;
    c.acks = nullptr;
    c.tls = nullptr;
    c.handshaking = false;
    c.open = false;
  }
  openCount_ = 0;
}

}  // namespace rl
