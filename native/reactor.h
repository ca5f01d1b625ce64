// One reactor loop's state and logic, free of N-API and libuv so it can be read (and tested) as
// plain C++. reactor_binding.cc nests it in the thread's libuv loop and carries batches to JS.
//
// A round: drain the inbox (accepts, async writes, wakes, closes, stop), poll without blocking,
// read each ready connection once into the shared read arena, and record events. JS then handles
// the whole batch in one call and answers with out-records, which commit() applies (writev).
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "codec.h"
#include "inbox.h"
#include "poller.h"
#include "ringbuf.h"
#include "socket.h"
#include "socket_dgram.h"
#include "tls.h"

namespace rl {

namespace ev {
// Event records (4 Int32 each), native -> JS. Must match lib/layout.ts.
constexpr int kRecordInts = 4;
constexpr int kOpen = 1;     // slot, generation, listener
constexpr int kData = 2;     // slot, arena offset, length (leftover + new bytes, contiguous)
constexpr int kClosed = 3;   // slot, errno (0 = clean), generation
constexpr int kStopped = 4;  // -
constexpr int kAck = 5;      // token, bytes handed to the kernel or -errno (dropped / failed)
constexpr int kDgramOpen = 6;  // slot, generation, listener: a UDP socket this reactor now serves
constexpr int kDatagram = 7;   // slot, arena offset, length; the peer record sits kPeerBytes before
// A TLS connection that closed before its handshake completed (it was never opened): slot,
// error, listener. The error's text is in Reactor::takeReason.
constexpr int kRejected = 8;
// Data on a connection whose listener has a codec (reactor_codec.cc): slot, arena offset, index
// of its group in the frame table (the group holds the length, then the frames; codec.h).
constexpr int kFrames = 9;

// Close reasons past the errno range (kClosed / kRejected), with a text in Reactor::takeReason.
constexpr int kErrTlsHandshake = 0x10001;         // the handshake failed (OpenSSL's reason)
constexpr int kErrTlsHandshakeTimeout = 0x10002;  // not done within the listener's deadline
constexpr int kErrTls = 0x10003;                  // a record could not be decrypted or encrypted

// Outbound connections, half-close, PROXY protocol (reactor_dial.cc). Codes 24.. are this part's.
constexpr int kDialFailed = 24;  // slot, errno, generation: a dialed connection that never connected
constexpr int kReadClosed = 25;  // slot, generation: the peer half-closed (FIN); writing still works
constexpr int kDialRequest = 26;  // a dial request from another thread is waiting (takeDialRequest)
constexpr int kErrProxyHeader = 0x10004;         // a missing or malformed PROXY protocol header
constexpr int kErrProxyHeaderTimeout = 0x10005;  // no whole PROXY header within the deadline
// A codec's limits or grammar were broken and the handler did not consume past it (reactor_codec.cc).
// (0x10004/5 are the PROXY header's.)
constexpr int kErrFrameTooLarge = 0x10006;
constexpr int kErrFrameProtocol = 0x10007;
}  // namespace ev

namespace out {
// Out-records (6 Int32 each), JS -> native.
constexpr int kRecordInts = 6;  // op, slot, generation, offset, length, source/errno
constexpr int kWrite = 1;       // source 0: read arena, 1: out arena
constexpr int kKeep = 2;        // keep read-arena bytes [offset, offset+length) as leftover
constexpr int kClose = 3;       // source field = errno to report (0: graceful, after flushing)
// One datagram to a peer, payload in the out arena (kSendTo) or the read arena (kSendToRead). The
// last field names the peer record: an out-arena offset, or -(read-arena offset + 1).
constexpr int kSendTo = 4;
constexpr int kSendToRead = 5;
// A publish from this reactor's handler (reactor_fanout.cc), delivered here in record order: slot and
// generation name the publisher left out (-1: none); offset/length frame topic length (u32 LE),
// topic, message in the out arena.
constexpr int kPublish = 16;
constexpr int kCloseWrite = 24;  // shutdown(SHUT_WR) once the pending output is flushed
}  // namespace out

// An asyncWrite waiting to be confirmed: done once `written` reaches `end`.
struct PendingAck {
  uint64_t end;
  int32_t token;
  int32_t len;
};

struct Conn {
  int fd = -1;
  uint32_t gen = 0;
  uint32_t mask = 0;
  int32_t listener = 0;
  bool open = false;
  bool closing = false;  // close once the outbound ring drains
  bool woken = false;
  bool throttled = false;  // reading paused for backpressure (see Options::writeHighWater)
  bool dgram = false;      // a UDP socket: datagrams in and out, no rings, not a connection
  bool deferred = false;   // its read did not fit this round's arena: first in line next round
  // The round that last read or deferred it: one read (one data event) per connection per round.
  uint32_t round = 0;
  bool handshaking = false;  // TLS: not opened (no kOpen) until the handshake is done
  RingBuffer* in = nullptr;
  RingBuffer* out = nullptr;
  TlsSession* tls = nullptr;  // TLS listeners' connections only
  // Bytes ever queued for / handed to the kernel: asyncWrite completions are positions in this stream.
  uint64_t queued = 0;
  uint64_t written = 0;
  std::vector<PendingAck>* acks = nullptr;  // allocated only while completions are pending
  std::vector<std::string>* topics = nullptr;  // its subscriptions (reactor_fanout.cc), while any
  bool fanPending = false;  // published bytes queued this drain (in `out` or as refs), flushed once at its end
  // Published messages queued for it this drain by reference (Reactor::fanRefs_, a chain in
  // order): not copied, written from the one copy the reactor keeps (reactor_fanout.cc).
  int32_t fanFirst = -1;
  int32_t fanLast = -1;
  // Outbound connections, half-close, flow control, forwarding, PROXY headers (reactor_dial.cc).
  bool connecting = false;  // dialed, connect() in progress: opened (kOpen) once it completes
  bool dialed = false;
  bool paused = false;       // pauseRead(): not read until resumeRead()
  bool readClosed = false;   // the peer sent FIN (kept open for writing: halfClose mode or forwarding)
  bool shutPending = false;  // closeWrite(): SHUT_WR once the outbound ring drains
  bool wrShut = false;       // SHUT_WR done
  bool proxyWait = false;    // its listener wants a PROXY header first: not opened until it is read
  bool pipeBlocked = false;  // forwarding source held back: its target's output is above high water
  // Out of the poller: hung up while not reading, with bytes still unread. Level-triggered epoll
  // reports a hang-up whatever the mask, so it would spin; setMask puts it back once it reads again.
  bool parked = false;
  int32_t pipeTo = -1;       // forward mode: what is read goes straight to this slot (no JS)
  int32_t pipeFrom = -1;     // the slot forwarding into this one
  uint64_t dueMs = 0;        // connect or PROXY-header deadline (CLOCK_MONOTONIC ms), 0 = none
  struct DialState* dial = nullptr;  // PROXY listeners only: the header (reactor_dial.cc)
};

// One subscriber of a topic on this reactor.
struct TopicSub {
  int32_t slot;
  uint32_t gen;
};

// What a PROXY listener's connection holds: the header bytes read so far, then what it said.
struct DialState {
  std::string hdr;     // PROXY header bytes read so far
  std::string source;  // from the PROXY header: the original client, and the address it reached
  std::string dest;
  std::string tlvs;
  int version = 0;
  // A TLS dial (reactor_tls_client.cc): the client context, the name to verify, the handshake's ms.
  SSL_CTX* clientCtx = nullptr;  // owned by Reactor::clientCtxs_
  std::string servername;
  uint32_t handshakeMs = 0;
};

// What a TLS dial asks for: the server name (SNI and the name or IP verified), trusted CAs (PEM),
// and whether a certificate that does not verify fails the handshake.
struct TlsDial {
  std::string servername;
  std::string ca;
  bool verify = true;
};

class ArenaHost {
 public:
  virtual ~ArenaHost() = default;
  // Replaces the read arena with one of at least `bytes`; returns it (nullptr if impossible).
  virtual uint8_t* growArena(size_t bytes, size_t* size) = 0;
};

// A TLS listener as a reactor serves it.
struct TlsListener {
  std::shared_ptr<TlsContext> ctx;
  uint32_t handshakeTimeoutMs = 10000;
  size_t maxHandshakeBytes = 64 * 1024;
};

class Reactor {
 public:
  struct Options {
    size_t readCap;
    size_t writeCap;
    // Past this much pending output a connection stops being read until half of it drained: a
    // client that sends without reading is held back by TCP flow control, not by our memory.
    size_t writeHighWater;
    // Applied to connections this reactor accepts itself (reusePort mode).
    SockOptions sock;
    // Largest datagram received whole; larger ones are dropped and counted (kDgramTruncated).
    size_t maxDatagram;
    // Generation of every new slot: a restarted reactor starts past its predecessor's refs.
    uint32_t generationBase;
  };
  Reactor(const Inbox& inbox, int wakeFd, const Options& opts, ArenaHost* host);
  ~Reactor();
  // Returns 0 or -errno.
  int init();
  int pollFd() const { return pollerFd(poller_); }
  void setArena(uint8_t* arena, size_t size) {
    arena_ = arena;
    arenaSize_ = size;
  }
  // One round of input; events accumulate in events().
  void gather();
  // Applies JS's out-records. inArena may differ from the current arena only if JS kept an old view.
  void commit(const int32_t* recs, int n, const uint8_t* outArena, size_t outSize);
  // Writes bytes for a connection now (large writes that skip the out arena).
  int writeNow(int32_t slot, uint32_t gen, const uint8_t* data, size_t len);
  std::vector<int32_t>& events() { return events_; }
  bool stopped() const { return stopEmitted_; }
  // Closes every connection at once, reporting err to each (stop timeout).
  void closeAll(int err);
  // Closes every fd without events (teardown).
  void closeSilently();
  const Conn* conn(int32_t slot, uint32_t gen) const;
  // Connections accepted for `listener` from now on speak TLS with `tls`.
  void setListenerTls(int32_t listener, const TlsListener& tls);
  // Closes the handshakes past their deadline; returns the next deadline (ms, monotonic), 0 if none.
  uint64_t expireHandshakes(uint64_t nowMs);
  // Gives back the record buffers of TLS connections idle for a whole period (reactor_tls.cc);
  // returns when to run next (ms, monotonic), 0 while there is no TLS connection.
  uint64_t sweepTlsBuffers(uint64_t nowMs);
  // The text of the TLS error slot closed with (kErrTls*), once; empty if none.
  std::string takeReason(int32_t slot);
  const TlsSession* tlsSession(int32_t slot) const;
  size_t outboundBuffered(int32_t slot) const;
  int connFd(int32_t slot) const;
  // Topics (reactor_fanout.cc). The directory: `buckets` x `loops` Int32 counts in shared memory,
  // this reactor's column `index`, counted up before a subscribe returns, down after removal.
  void setTopicDirectory(int32_t* dir, uint32_t buckets, int32_t loops, int32_t index);
  // 1: subscribed now, 0: already was, -1: no such open connection.
  int subscribe(int32_t slot, uint32_t gen, const uint8_t* topic, size_t len);
  int unsubscribe(int32_t slot, uint32_t gen, const uint8_t* topic, size_t len);
  const std::vector<std::string>* topicsOf(int32_t slot, uint32_t gen) const;
  // Outbound connections (reactor_dial.cc). family 4/6/0 (Unix path in host). Returns the slot
  // (generation in *gen) or -errno if no socket could be made; a connect that fails later, or
  // not within timeoutMs (0 = none), closes with kDialFailed.
  int32_t dial(int family, const std::string& host, int port, uint32_t timeoutMs, const std::string& first,
               uint32_t* gen, const TlsDial* tls = nullptr);
  // The client SSL_CTX for (ca, verify), built once per reactor (reactor_tls_client.cc); nullptr
  // and *err if the CA bundle holds no certificate.
  SSL_CTX* clientCtx(const std::string& ca, bool verify, std::string* err);
  // Closes the connects and PROXY-header waits past their deadline; returns the next deadline, 0 if none.
  uint64_t expireWaits(uint64_t nowMs);
  // pauseRead / resumeRead. False if the ref is stale.
  bool setPaused(int32_t slot, uint32_t gen, bool paused);
  // Forward mode: bytes read from `slot` are written to `to` natively; EOF becomes closeWrite on
  // `to`, a close closes `to` after its pending output. to = -1 ends it. Returns 0 or -errno.
  int setPipe(int32_t slot, uint32_t gen, int32_t to, uint32_t toGen);
  // Connections accepted for `listener` must (mode 1) or may (mode 2) begin with a PROXY header.
  void setListenerProxy(int32_t listener, int mode, uint32_t timeoutMs);
  // Half-close mode: EOF reports kReadClosed and keeps the connection open for writing.
  void setHalfClose(bool on) { halfClose_ = on; }
  const DialState* proxyInfo(int32_t slot) const;
  // The oldest dial request that came through the inbox (kMsgDial); false if none.
  bool takeDialRequest(std::string* out);
  // Whether forward mode moved bytes since the last call: a round that did counts as busy (the
  // reply is often back already), though it produced no event for JS.
  bool takeForwarded() {
    bool f = forwarded_;
    forwarded_ = false;
    return f;
  }
  // Codecs (reactor_codec.cc): the frame table deliveries write their groups into, and the codec
  // of a listener's connections (type kNone: raw kData events).
  void setFrameTable(int32_t* table, size_t ints) {
    frames_ = table;
    framesCap_ = ints;
  }
  void setListenerCodec(int32_t listener, const codec::Spec& spec);
  // Connections wait to be framed again next round: another round must run (not park).
  bool hasReframes() const { return !reframe_.empty(); }

 private:
  Conn* live(int32_t slot, uint32_t gen);
  void drainInbox();
  void openConn(int fd, int32_t listener);
  void readConn(int32_t slot, int pollErr);
  void readDeferred();
  void defer(Conn& c, int32_t slot);
  bool growArenaFor(int32_t slot, size_t bytes);
  void deliver(int32_t slot, size_t newBytes, size_t off);
  // Frames a delivery when its listener has a codec (pushes kFrames); false if it has none.
  bool deliverFrames(int32_t slot, size_t off, size_t len);
  // Connections whose frames did not fit the table: their leftover is delivered (framed) first
  // in the next round, before any read, so a full table never starves the same connections.
  void deliverReframed();
  void flushOut(int32_t slot);
  void writeConn(int32_t slot, const iovec* iov, int cnt);
  void writeRaw(int32_t slot, const iovec* iov, int cnt);
  void startTls(int32_t slot, const TlsListener& l);
  void readTls(int32_t slot);
  void writeTls(int32_t slot, const iovec* iov, int cnt);
  bool flushTls(int32_t slot);
  void failTls(int32_t slot, int err, const std::string& reason);
  void closeGraceful(int32_t slot);
  void closeConn(int32_t slot, int err);
  void setMask(Conn& c, uint32_t mask);
  bool parkHungUp(Conn& c);
  void push(int32_t a, int32_t b, int32_t c, int32_t d);
  void maybeStopped();
  void addListener(int fd, int32_t index);
  void acceptFrom(int fd, int32_t index);
  void closeListeners();
  void ackWrite(int32_t slot, uint32_t gen, int32_t token, int32_t len);
  int32_t takeSlot(int fd, int32_t listener);
  void openDgram(int fd, int32_t listener);
  void readDgrams(int32_t slot, int pollErr);
  // Sends the queued datagrams of one socket; returns how many were handed to the kernel.
  int sendDgrams(Conn& c, DgramOut* out, int n);
  void sendToFromInbox(const InboxMsg& m);
  // Sends the run of datagram out-records starting at i for one socket; returns the next index.
  int commitDatagrams(const int32_t* recs, int i, int n, const uint8_t* outArena, size_t outSize);
  void flushCounters();
  void settleAcks(Conn& c);
  void publishFromInbox(const InboxMsg& m);
  void broadcastFromInbox(const InboxMsg& m);
  void dropTopics(Conn& c, int32_t slot);
  void leaveTopic(const std::string& topic, int32_t slot);
  // `stash`: where this message's one copy is in fanBytes_ (kNoStash until a subscriber needs it).
  void queueFanout(int32_t slot, const uint8_t* data, size_t len, uint32_t* stash);
  void fanoutFramed(const uint8_t* framed, size_t len, int32_t exSlot, uint32_t exGen);
  void publishRecord(const int32_t* r, const uint8_t* outArena, size_t outSize);
  void flushFanout();
  // The connection is about to get other output (or close, or shut its write side): its
  // published messages still held by reference go into its out ring first, so order holds.
  void spillFan(int32_t slot) {
    if (conns_[slot].fanFirst >= 0) spillFanRefs(slot);
  }
  void spillFanRefs(int32_t slot);
  bool writeFanRefs(int32_t slot);
  void countTopic(const std::string& topic, int32_t delta);
  // reactor_dial.cc
  void finishConnect(int32_t slot);
  void readProxyHeader(int32_t slot);
  void openAfterProxy(int32_t slot, const std::string& leftover);
  void closeWrite(int32_t slot);
  void peerEof(int32_t slot);
  void forward(int32_t slot, size_t off, size_t len);
  void pipeDrained(Conn& target);
  void unlinkPipes(int32_t slot, int err);
  void resetDialFields(Conn& c);
  bool readWanted(const Conn& c) const;
  void addWait(int32_t slot, uint32_t ms);
  void startClientTls(int32_t slot);

  Inbox inbox_;
  int wakeFd_;
  Options opts_;
  ArenaHost* host_;
  Poller* poller_ = nullptr;
  std::vector<Conn> conns_;
  std::vector<int32_t> free_;
  // fd -> connection slot; -1 none; <= -2 a listen socket of listener -(v + 2).
  std::vector<int32_t> fdSlot_;
  std::vector<int> listeners_;
  bool listenersPaused_ = false;  // out of descriptors: resumed when a connection closes
  std::vector<int32_t> woken_;
  // Fair reads (see gather()): connections whose read did not fit, oldest first, and the list
  // being served this round; the round counter; the most one connection reads this round.
  std::vector<int32_t> deferred_;
  std::vector<int32_t> carry_;
  uint32_t round_ = 0;
  size_t share_ = 0;
  std::vector<int32_t> events_;
  std::vector<PollEvent> pev_;
  uint8_t* arena_ = nullptr;
  size_t arenaSize_ = 0;
  size_t arenaPos_ = 0;
  size_t openCount_ = 0;
  // Datagram counters for this round, published to the inbox header by flushCounters().
  int32_t dgramIn_ = 0, dgramOut_ = 0, dgramDropped_ = 0, dgramTruncated_ = 0;
  int lastDgramErr_ = 0;
  std::vector<DgramIn> dgIn_;
  bool stopping_ = false;
  bool stopEmitted_ = false;
  // TLS (reactor_tls.cc): per listener index, the shared BIO buffers, ciphertext and plaintext
  // scratch, the connections in handshake, and the texts of TLS close reasons not yet taken.
  std::vector<TlsListener> listenerTls_;
  TlsIo tlsIo_;
  std::vector<uint8_t> cipherIn_;
  std::vector<uint8_t> plainOut_;
  std::vector<int32_t> handshaking_;
  std::vector<std::pair<int32_t, std::string>> reasons_;
  uint64_t tlsSweepAt_ = 0;
  // Topics (reactor_fanout.cc): topic -> local subscribers, the shared directory, and scratch
  // (a lookup key and the subscriber list a fan-out walks, reused so a publish allocates nothing).
  std::unordered_map<std::string, std::vector<TopicSub>> topics_;
  int32_t* topicDir_ = nullptr;
  uint32_t topicBuckets_ = 0;
  int32_t topicLoops_ = 0;
  int32_t topicIndex_ = 0;
  std::string topicKey_;
  std::vector<TopicSub> fanout_;
  std::vector<int32_t> fanPending_;  // connections with fanPending set
  // Zero-copy fan-out: this drain's published payloads, each copied once however many
  // subscribers get it, and the references subscribers' chains are made of.
  struct FanRef {
    int32_t next;
    uint32_t off;
    uint32_t len;
  };
  std::vector<uint8_t> fanBytes_;
  std::vector<FanRef> fanRefs_;
  // reactor_dial.cc: connects and PROXY-header waits with deadlines; listeners' PROXY modes.
  std::vector<int32_t> waits_;
  std::vector<std::pair<int, uint32_t>> listenerProxy_;
  bool halfClose_ = false;
  std::vector<std::string> dialRequests_;
  bool forwarded_ = false;
  std::vector<std::pair<std::string, std::shared_ptr<SSL_CTX>>> clientCtxs_;
  // Codecs (reactor_codec.cc): per listener index; the shared frame table and this round's fill;
  // connections (slot, generation) to frame again next round.
  std::vector<codec::Spec> listenerCodec_;
  int32_t* frames_ = nullptr;
  size_t framesCap_ = 0;
  size_t framesPos_ = 0;
  std::vector<std::pair<int32_t, uint32_t>> reframe_;
  std::vector<std::pair<int32_t, uint32_t>> carryFrames_;
};

}  // namespace rl
