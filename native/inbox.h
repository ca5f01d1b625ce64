// The consumer side of a reactor's inbox: the disruptor ring in a SharedArrayBuffer (producers are
// lib/disruptor.ts). The layout constants must match lib/layout.ts; a test compares them.
//
// Producers claim sequence s with a compare-exchange on CLAIM (never passing HEAD + slots), fill
// slot s & (slots-1), then publish by storing s into the slot's SEQ word. The single consumer reads
// the slot at HEAD only once its SEQ equals HEAD, and frees it by storing HEAD+1. All accesses to
// the control words are sequentially consistent, like JS Atomics, so the "parked" handshake below
// cannot lose a wake-up.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rl {

namespace layout {
// Header words (Int32 indices). CLAIM sits alone on the first cache line: producers hammer it.
constexpr int kClaim = 0;
constexpr int kHead = 16;
constexpr int kParked = 17;
constexpr int kWakeFd = 18;
constexpr int kSlots = 19;
constexpr int kSlotBytes = 20;
constexpr int kConns = 21;
constexpr int kState = 22;
constexpr int kAccepted = 24;  // ACCEPT messages consumed (so the acceptor knows what is in flight)
constexpr int kWakers = 23;  // producers inside a wake-up (JS only; here for the layout test)
// Datagram counters, added once per round: received, sent, dropped on send (full socket buffer,
// unreachable peer, too large), dropped on receive (larger than maxDatagramSize), and that size.
constexpr int kDgramIn = 25;
constexpr int kDgramOut = 26;
constexpr int kDgramDropped = 27;
constexpr int kDgramTruncated = 28;
constexpr int kDgramMax = 29;
constexpr int kTlsReleased = 30;  // idle TLS connections that gave their record buffers back
constexpr int kHeaderInts = 32;
// Slot words.
constexpr int kSeq = 0;
constexpr int kType = 1;
constexpr int kA = 2;
constexpr int kB = 3;
constexpr int kC = 4;
constexpr int kLen = 5;
constexpr int kPtrLo = 6;
constexpr int kPtrHi = 7;
constexpr int kToken = 8;           // WRITE: completion token (0 = none), see ev::kAck
constexpr int kPayloadOffset = 40;  // bytes
// Message types.
constexpr int kMsgAccept = 1;  // a = fd, b = listener index
constexpr int kMsgWrite = 2;   // a = slot, b = generation, len, c = 1 if staged (PTR) else inline
constexpr int kMsgWake = 3;    // a = slot, b = generation
constexpr int kMsgClose = 4;   // a = slot, b = generation
constexpr int kMsgStop = 5;
constexpr int kMsgTest = 6;    // a, b, c: opaque (disruptor tests)
constexpr int kMsgListen = 7;  // a = listen fd (SO_REUSEPORT), b = listener index, c = 1 for a UDP socket
constexpr int kMsgSendTo = 8;  // a = slot, b = generation, c = staged; payload = peer record + datagram
// Topics (reactor_fanout.cc), codes 16..23. a/b: a connection left out (its own publish), slot -1
// for none; c = staged. PUBLISH's payload: topic length (u32, little-endian), topic, message.
constexpr int kMsgPublish = 16;
constexpr int kMsgBroadcast = 17;  // payload = the message, to every open connection
// 24..31: outbound connections (reactor_dial.cc).
constexpr int kMsgDial = 24;  // c = 1 if staged; payload: a dial request for this reactor's JS (lib/channel/dial_request.ts)
// Reactor states.
constexpr int kStateRunning = 0;
constexpr int kStateStopping = 1;
constexpr int kStateStopped = 2;
}  // namespace layout

struct InboxMsg {
  int32_t type, a, b, c, len, token;
  const uint8_t* data;  // inline bytes or the staged block
  uint8_t* staged;      // non-null when the consumer must free() it
};

class Inbox {
 public:
  Inbox() = default;
  Inbox(int32_t* base, size_t bytes);
  bool valid() const { return base_ != nullptr; }
  // Reads the message at HEAD if it is published; does not consume it.
  bool peek(InboxMsg* m) const;
  // Frees the slot just peeked.
  void advance();
  // Marks the consumer parked, then checks again: returns false (and stays awake) if a message
  // slipped in, so the caller must drain instead of sleeping.
  bool park();
  void unpark();
  int32_t load(int word) const;
  void store(int word, int32_t v);
  int32_t add(int word, int32_t v);

 private:
  int32_t* slot(uint32_t seq) const;
  int32_t* base_ = nullptr;
  uint32_t mask_ = 0;
  size_t slotInts_ = 0;
};

// Packs/unpacks a staged payload pointer into two Int32 words.
void* stagedPointer(int32_t lo, int32_t hi);

}  // namespace rl
