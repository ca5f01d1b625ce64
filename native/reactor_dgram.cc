// The reactor's datagram half: UDP sockets it owns, read with batched receives straight into the
// read arena (each datagram preceded by its 32-byte peer record) and answered with batched sends.
// Nothing is buffered: a datagram the kernel will not take now is dropped and counted, as the
// network itself would drop it, and a failed one (too large, ICMP error) never stops the others.
#include <errno.h>
#include <string.h>

#include <algorithm>

#include "reactor.h"

namespace rl {

using namespace layout;

static constexpr int kDgramBatch = 64;
// Datagrams taken from one socket per round, so other sockets and connections get their turn.
static constexpr int kDgramRoundCap = 1024;

static size_t align8(size_t v) { return (v + 7) & ~static_cast<size_t>(7); }

void Reactor::readDgrams(int32_t slot, int pollErr) {
  Conn& c = conns_[slot];
  if (pollErr != 0) dgramTakeError(c.fd);  // an ICMP report for an earlier send: nothing to deliver
  const size_t cap = opts_.maxDatagram;
  const size_t stride = align8(kPeerBytes + cap);
  if (dgIn_.size() < static_cast<size_t>(kDgramBatch)) dgIn_.resize(kDgramBatch);
  for (int total = 0; total < kDgramRoundCap;) {
    int want = static_cast<int>(std::min<size_t>(kDgramBatch, (arenaSize_ - arenaPos_) / stride));
    if (want == 0) {
      if (arenaPos_ != 0) return;  // level-triggered: the rest waits for the next round
      size_t size = 0;
      uint8_t* a = host_->growArena(stride, &size);
      if (!a) return;
      arena_ = a;
      arenaSize_ = size;
      continue;
    }
    uint8_t* base = arena_ + arenaPos_;
    for (int i = 0; i < want; i++) {
      dgIn_[i].data = base + static_cast<size_t>(i) * stride + kPeerBytes;
      dgIn_[i].cap = cap;
    }
    int r = dgramRecvBatch(c.fd, dgIn_.data(), want);
    if (r < 0) {
      dgramTakeError(c.fd);  // e.g. ECONNREFUSED where the OS reports ICMP here: the socket goes on
      return;
    }
    // Pack them: each one moves down to just after the previous (never over a later one).
    size_t pos = arenaPos_;
    for (int i = 0; i < r; i++) {
      DgramIn& d = dgIn_[i];
      if (d.truncated) {
        dgramTruncated_++;  // larger than maxDatagramSize: delivering a cut datagram would lie
        continue;
      }
      uint8_t* peer = arena_ + pos;
      if (!peerEncode(d.from, peer)) continue;
      if (peer + kPeerBytes != d.data) memmove(peer + kPeerBytes, d.data, d.len);
      push(ev::kDatagram, slot, static_cast<int32_t>(pos + kPeerBytes), static_cast<int32_t>(d.len));
      pos = align8(pos + kPeerBytes + d.len);
      dgramIn_++;
    }
    arenaPos_ = pos;
    total += r;
    if (r < want) return;  // drained
  }
}

int Reactor::sendDgrams(Conn& c, DgramOut* out, int n) {
  int done = 0, sent = 0;
  lastDgramErr_ = 0;
  while (done < n) {
    int r = dgramSendBatch(c.fd, out + done, n - done);
    if (r > 0) {
      done += r;
      sent += r;
      continue;
    }
    lastDgramErr_ = -r;
    if (r == -EAGAIN || r == -EWOULDBLOCK || r == -ENOBUFS) {
      dgramDropped_ += n - done;  // the socket's send buffer is full: unbuffered, so dropped
      break;
    }
    dgramDropped_++;  // this one failed (too large, unreachable peer): the others still go
    done++;
  }
  dgramOut_ += sent;
  return sent;
}

int Reactor::commitDatagrams(const int32_t* recs, int i, int n, const uint8_t* outArena, size_t outSize) {
  const int32_t* first = recs + static_cast<size_t>(i) * out::kRecordInts;
  const int32_t slot = first[1];
  const uint32_t gen = static_cast<uint32_t>(first[2]);
  iovec iov[kDgramBatch];
  DgramOut msgs[kDgramBatch];
  int cnt = 0, bad = 0;
  while (i < n && cnt < kDgramBatch) {
    const int32_t* r = recs + static_cast<size_t>(i) * out::kRecordInts;
    if ((r[0] != out::kSendTo && r[0] != out::kSendToRead) || r[1] != slot || static_cast<uint32_t>(r[2]) != gen) break;
    i++;
    const bool fromRead = r[0] == out::kSendToRead;
    const uint8_t* base = fromRead ? arena_ : outArena;
    const size_t limit = fromRead ? arenaSize_ : outSize;
    const size_t off = static_cast<uint32_t>(r[3]), len = static_cast<uint32_t>(r[4]);
    const uint8_t* peer = nullptr;
    if (r[5] >= 0) {
      size_t po = static_cast<size_t>(r[5]);
      if (po <= outSize && outSize - po >= kPeerBytes) peer = outArena + po;
    } else {
      size_t po = static_cast<size_t>(-(static_cast<int64_t>(r[5]) + 1));
      if (po <= arenaSize_ && arenaSize_ - po >= kPeerBytes) peer = arena_ + po;
    }
    // Never read outside a buffer, never send to an address we cannot decode.
    if (off > limit || len > limit - off || !peer || (msgs[cnt].tolen = peerDecode(peer, &msgs[cnt].to)) == 0) {
      bad++;
      continue;
    }
    iov[cnt] = iovec{const_cast<uint8_t*>(base + off), len};
    msgs[cnt].iov = &iov[cnt];
    msgs[cnt].iovcnt = 1;
    cnt++;
  }
  dgramDropped_ += bad;
  Conn* c = live(slot, gen);
  if (c && c->dgram) sendDgrams(*c, msgs, cnt);
  else dgramDropped_ += cnt;
  return i;
}

void Reactor::sendToFromInbox(const InboxMsg& m) {
  Conn* c = live(m.a, static_cast<uint32_t>(m.b));
  int32_t result;
  DgramOut o;
  if (!c || !c->dgram) {
    result = -ENOTCONN;  // the socket is gone (or the ref never named one): nobody sent it
    dgramDropped_++;
  } else if (m.len < static_cast<int32_t>(kPeerBytes) || (o.tolen = peerDecode(m.data, &o.to)) == 0) {
    result = -EINVAL;
    dgramDropped_++;
  } else {
    iovec v{const_cast<uint8_t*>(m.data + kPeerBytes), static_cast<size_t>(m.len) - kPeerBytes};
    o.iov = &v;
    o.iovcnt = 1;
    result = sendDgrams(*c, &o, 1) == 1 ? static_cast<int32_t>(v.iov_len) : -lastDgramErr_;
  }
  if (m.token) push(ev::kAck, m.token, result, 0);
}

void Reactor::flushCounters() {
  if ((dgramIn_ | dgramOut_ | dgramDropped_ | dgramTruncated_) == 0) return;
  if (dgramIn_) inbox_.add(kDgramIn, dgramIn_);
  if (dgramOut_) inbox_.add(kDgramOut, dgramOut_);
  if (dgramDropped_) inbox_.add(kDgramDropped, dgramDropped_);
  if (dgramTruncated_) inbox_.add(kDgramTruncated, dgramTruncated_);
  dgramIn_ = dgramOut_ = dgramDropped_ = dgramTruncated_ = 0;
}

}  // namespace rl
