// Topics on one reactor: the local topic -> subscribers table, the shared directory that tells
// publishers on any thread which reactors hold a topic, and the fan-out of one published buffer to
// every local subscriber.
//
// Directory: `buckets` x `loops` Int32 counts in a SharedArrayBuffer (lib/channel/topics.ts is the
// producer side and computes the same hash). A reactor counts its column up *before* subscribe()
// returns and down only *after* the subscriber left the local table, so a publisher that reads
// the count after a subscribe returned sees it (no false negative); hash collisions only cost a
// message the exact local lookup then ignores (a false positive).
//
// Fan-out: a published message is copied once into this drain's fanBytes_, and each subscriber
// with nothing pending queues a reference to it (a chain of FanRefs per subscriber, in order);
// when the inbox drain (or the handler's commit) ends, every such subscriber gets one writev
// straight from those bytes: a burst of publishes costs one writev per subscriber and no copy per
// subscriber (redis coalesces the same way, per event-loop turn, but copies into each client's
// buffer). Only what a socket does not take is copied, into that subscriber's out ring. A
// subscriber that already has output pending gets its copy appended to its ring, behind it. A TLS
// subscriber's copy goes through writeConn (encrypted at once, the path every TLS write takes).
// A subscriber whose pending output would pass writeBufferCap is
// closed with ENOBUFS (the slow-subscriber policy); the others are not held back by it. Order
// holds: anything written to the connection later (asyncWrite, the handler's writes) goes behind
// what is in its ring.
#include <errno.h>

#include <algorithm>
#include <cstring>

#include "reactor.h"

namespace rl {

static constexpr uint32_t kNoStash = UINT32_MAX;
// fanBytes_ capacity kept between drains; beyond it the memory goes back after the drain.
static constexpr size_t kFanKeep = 1 << 20;

// FNV-1a, 32 bits (lib/channel/topics.ts hashes the same way).
static uint32_t topicHash(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

void Reactor::setTopicDirectory(int32_t* dir, uint32_t buckets, int32_t loops, int32_t index) {
  topicDir_ = dir;
  topicBuckets_ = buckets;
  topicLoops_ = loops;
  topicIndex_ = index;
}

void Reactor::countTopic(const std::string& topic, int32_t delta) {
  if (!topicDir_) return;
  uint32_t b = topicHash(reinterpret_cast<const uint8_t*>(topic.data()), topic.size()) & (topicBuckets_ - 1);
  __atomic_add_fetch(&topicDir_[static_cast<size_t>(b) * topicLoops_ + topicIndex_], delta, __ATOMIC_SEQ_CST);
}

int Reactor::subscribe(int32_t slot, uint32_t gen, const uint8_t* topic, size_t len) {
  Conn* c = live(slot, gen);
  if (!c || c->dgram) return -1;
  topicKey_.assign(reinterpret_cast<const char*>(topic), len);
  if (!c->topics) c->topics = new std::vector<std::string>();
  auto& mine = *c->topics;
  if (std::find(mine.begin(), mine.end(), topicKey_) != mine.end()) return 0;
  mine.push_back(topicKey_);
  topics_[topicKey_].push_back(TopicSub{slot, gen});
  countTopic(topicKey_, 1);
  return 1;
}

// `slot` leaves `topic`'s local subscribers (the topic goes when it has none left), and the
// directory's count goes down after that, as the ordering above requires.
void Reactor::leaveTopic(const std::string& topic, int32_t slot) {
  auto it = topics_.find(topic);
  if (it != topics_.end()) {
    auto& subs = it->second;
    for (size_t i = 0; i < subs.size(); i++) {
      if (subs[i].slot == slot) {
        subs[i] = subs.back();
        subs.pop_back();
        break;
      }
    }
    if (subs.empty()) topics_.erase(it);
  }
  countTopic(topic, -1);
}

int Reactor::unsubscribe(int32_t slot, uint32_t gen, const uint8_t* topic, size_t len) {
  Conn* c = live(slot, gen);
  if (!c || !c->topics) return c ? 0 : -1;
  topicKey_.assign(reinterpret_cast<const char*>(topic), len);
  auto& mine = *c->topics;
  auto at = std::find(mine.begin(), mine.end(), topicKey_);
  if (at == mine.end()) return 0;
  *at = std::move(mine.back());
  mine.pop_back();
  leaveTopic(topicKey_, slot);
  if (mine.empty()) {
    delete c->topics;
    c->topics = nullptr;
  }
  return 1;
}

const std::vector<std::string>* Reactor::topicsOf(int32_t slot, uint32_t gen) const {
  const Conn* c = conn(slot, gen);
  return c ? c->topics : nullptr;
}

// A connection closes: it leaves every topic it was in (before its slot can be reused).
void Reactor::dropTopics(Conn& c, int32_t slot) {
  for (const std::string& t : *c.topics) leaveTopic(t, slot);
  delete c.topics;
  c.topics = nullptr;
}

void Reactor::publishFromInbox(const InboxMsg& m) {
  if (m.len < 0) return;
  fanoutFramed(m.data, static_cast<size_t>(m.len), m.a, static_cast<uint32_t>(m.b));
}

// A handler's publish on this reactor: its local subscribers get it in record order (after the
// writes recorded before it), the other reactors' through their inboxes (lib/channel/topics.ts).
void Reactor::publishRecord(const int32_t* r, const uint8_t* outArena, size_t outSize) {
  size_t off = static_cast<uint32_t>(r[3]), len = static_cast<uint32_t>(r[4]);
  if (off > outSize || len > outSize - off) return;  // never read outside the out arena
  fanoutFramed(outArena + off, len, r[1], static_cast<uint32_t>(r[2]));
}

// `framed`: topic length (u32, little-endian), topic, message. Queues the message for every local
// subscriber of the topic but (exSlot, exGen); flushFanout hands them to the kernel.
void Reactor::fanoutFramed(const uint8_t* framed, size_t flen, int32_t exSlot, uint32_t exGen) {
  if (flen < 4) return;
  uint32_t tlen;
  memcpy(&tlen, framed, 4);
  if (tlen > flen - 4) return;  // malformed: never read past the message
  topicKey_.assign(reinterpret_cast<const char*>(framed + 4), tlen);
  auto it = topics_.find(topicKey_);
  if (it == topics_.end()) return;  // a hash collision, or every subscriber left meanwhile
  size_t len = flen - 4 - tlen;
  if (len == 0) return;
  // A write can close its subscriber (ENOBUFS, EPIPE), which edits the table: walk a copy.
  fanout_.assign(it->second.begin(), it->second.end());
  const uint8_t* bytes = framed + 4 + tlen;
  uint32_t stash = kNoStash;
  for (const TopicSub& s : fanout_) {
    if (s.slot == exSlot && s.gen == exGen) continue;  // the publisher itself
    Conn* c = live(s.slot, s.gen);
    if (!c || c->closing) continue;
    queueFanout(s.slot, bytes, len, &stash);
  }
}

void Reactor::queueFanout(int32_t slot, const uint8_t* data, size_t len, uint32_t* stash) {
  Conn& c = conns_[slot];
  if (c.tls) {
    iovec v{const_cast<uint8_t*>(data), len};
    writeTls(slot, &v, 1);
    return;
  }
  if ((c.out && !c.out->empty()) || (c.mask & kPollWritable) ||
      (*stash == kNoStash && fanBytes_.size() + len >= kNoStash)) {  // references are 32-bit offsets
    // Output already pending: this message goes behind it, in the ring.
    if (!c.out) c.out = new RingBuffer(opts_.writeCap);
    c.queued += len;
    if (!c.out->write(data, len)) {
      closeConn(slot, ENOBUFS);  // never a silent drop: the handler learns it in onClosed
      return;
    }
  } else {
    if (*stash == kNoStash) {
      *stash = static_cast<uint32_t>(fanBytes_.size());
      fanBytes_.insert(fanBytes_.end(), data, data + len);
    }
    int32_t ref = static_cast<int32_t>(fanRefs_.size());
    fanRefs_.push_back(FanRef{-1, *stash, static_cast<uint32_t>(len)});
    if (c.fanLast >= 0) fanRefs_[static_cast<size_t>(c.fanLast)].next = ref;
    else c.fanFirst = ref;
    c.fanLast = ref;
  }
  if (!c.fanPending) {
    c.fanPending = true;
    fanPending_.push_back(slot);
  }
}

// Copies the subscriber's referenced messages into its out ring (see spillFan).
void Reactor::spillFanRefs(int32_t slot) {
  Conn& c = conns_[slot];
  int32_t ref = c.fanFirst;
  c.fanFirst = c.fanLast = -1;
  if (!c.out) c.out = new RingBuffer(opts_.writeCap);
  for (; ref >= 0; ref = fanRefs_[static_cast<size_t>(ref)].next) {
    const FanRef& f = fanRefs_[static_cast<size_t>(ref)];
    c.queued += f.len;
    if (!c.out->write(fanBytes_.data() + f.off, f.len)) {
      closeConn(slot, ENOBUFS);
      return;
    }
  }
}

// Writes the subscriber's referenced messages from fanBytes_, kMaxFanIov at a time; writeRaw
// copies what the socket does not take into the ring. False if the connection closed.
bool Reactor::writeFanRefs(int32_t slot) {
  constexpr int kMaxFanIov = 64;
  iovec v[kMaxFanIov];
  int32_t ref = conns_[slot].fanFirst;
  conns_[slot].fanFirst = conns_[slot].fanLast = -1;
  while (ref >= 0) {
    int n = 0;
    for (; ref >= 0 && n < kMaxFanIov; ref = fanRefs_[static_cast<size_t>(ref)].next) {
      const FanRef& f = fanRefs_[static_cast<size_t>(ref)];
      v[n++] = iovec{fanBytes_.data() + f.off, f.len};
    }
    writeRaw(slot, v, n);
    if (!conns_[slot].open) return false;
  }
  return true;
}

// Hands each subscriber's queued bytes to the kernel (up to the per-round flush budget); what the
// socket does not take waits for writability, reading paused past the high water as for any write.
void Reactor::flushFanout() {
  for (int32_t slot : fanPending_) {
    Conn& c = conns_[slot];
    if (!c.fanPending) continue;
    c.fanPending = false;
    if (!c.open) continue;
    if (c.fanFirst >= 0 && !writeFanRefs(slot)) continue;
    if (!c.out || c.out->empty()) continue;
    if (c.mask & kPollWritable) continue;  // already waiting for writability: the poller flushes it
    flushOut(slot);
    if (!c.open || !c.out || c.out->empty()) continue;
    uint32_t mask = c.mask | kPollWritable;
    if (!c.closing && (mask & kPollReadable) && c.out->size() > opts_.writeHighWater) {
      mask &= ~kPollReadable;
      c.throttled = true;
    }
    setMask(c, mask);
  }
  fanPending_.clear();
  fanRefs_.clear();
  // A drain that fanned out large messages does not keep their memory.
  if (fanBytes_.capacity() > kFanKeep) std::vector<uint8_t>().swap(fanBytes_);
  else fanBytes_.clear();
}

void Reactor::broadcastFromInbox(const InboxMsg& m) {
  if (m.len <= 0) return;
  // Slots are never removed from conns_, and a write only closes (never opens) connections.
  uint32_t stash = kNoStash;
  for (size_t s = 0; s < conns_.size(); s++) {
    Conn& c = conns_[s];
    if (!c.open || c.closing || c.dgram || c.handshaking) continue;
    if (static_cast<int32_t>(s) == m.a && c.gen == static_cast<uint32_t>(m.b)) continue;
    queueFanout(static_cast<int32_t>(s), m.data, static_cast<size_t>(m.len), &stash);
  }
}

}  // namespace rl
