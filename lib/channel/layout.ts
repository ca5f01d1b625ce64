/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * Every shared-memory index in one place: the inbox (disruptor) header and slots, and the batch
 * records exchanged with the native loop. Must match native/inbox.h and native/reactor.h; a test
 * compares these with the values the addon reports.
 */

/** Inbox header words (Int32 indices). CLAIM is alone on the first cache line. */
export const CLAIM = 0;
export const HEAD = 16;
export const PARKED = 17;
export const WAKE_FD = 18;
export const SLOTS = 19;
export const SLOT_BYTES = 20;
export const CONNS = 21;
export const STATE = 22;
/** Producers currently signalling the wake fd; the engine waits for 0 before closing that fd. */
export const WAKERS = 23;
/** ACCEPT messages the reactor has consumed (opened or refused). */
export const ACCEPTED = 24;
/** Datagram counters (added once per round): received, sent, dropped on send, dropped on receive (too large). */
export const DGRAM_IN = 25;
export const DGRAM_OUT = 26;
export const DGRAM_DROPPED = 27;
export const DGRAM_TRUNCATED = 28;
/** The engine's maxDatagramSize, for producers on other threads. */
export const DGRAM_MAX = 29;
/** TLS connections that gave their OpenSSL record buffers back while idle (native/reactor_tls.cc). */
export const TLS_RELEASED = 30;
export const HEADER_INTS = 32;

/** Slot words (Int32 offsets from the slot start) and where inline payload bytes begin. */
export const SEQ = 0;
export const TYPE = 1;
export const A = 2;
export const B = 3;
export const C = 4;
export const LEN = 5;
export const PTR_LO = 6;
export const PTR_HI = 7;
/** WRITE: completion token (0 = none); see acks.ts. */
export const TOKEN = 8;
export const PAYLOAD_OFFSET = 40;

/** Inbox message types. */
export const MSG_ACCEPT = 1;
export const MSG_WRITE = 2;
export const MSG_WAKE = 3;
export const MSG_CLOSE = 4;
export const MSG_STOP = 5;
export const MSG_TEST = 6;
/** A listen socket the reactor accepts on itself (reusePort mode), c = 0, or a UDP socket it serves, c = 1: a = fd, b = listener index. */
export const MSG_LISTEN = 7;
/** One datagram: a = slot, b = generation of the UDP socket; payload = peer record + bytes. */
export const MSG_SENDTO = 8;
/**
 * Topics (codes 16..23; channel/topics.ts, native/reactor_fanout.cc). a, b: a connection left out
 * (slot -1: none). PUBLISH's payload: topic length (u32 LE), topic, message; BROADCAST's: the message.
 */
export const MSG_PUBLISH = 16;
export const MSG_BROADCAST = 17;
/** Bytes of the peer record (family, port, address) that precedes a datagram (native/socket_dgram.h). */
export const PEER_BYTES = 32;

/** Reactor states (STATE word). */
export const STATE_RUNNING = 0;
export const STATE_STOPPING = 1;
export const STATE_STOPPED = 2;

/** Event records, native -> JS: [type, slot, x, y]. */
export const EV_RECORD_INTS = 4;
export const EV_OPEN = 1; // slot, generation, listener
export const EV_DATA = 2; // slot, arena offset, length
export const EV_CLOSED = 3; // slot, errno, generation
export const EV_STOPPED = 4;
export const EV_ACK = 5; // token, bytes handed to the kernel or -errno
export const EV_DGRAM_OPEN = 6; // slot, generation, listener: a UDP socket
export const EV_DATAGRAM = 7; // slot, arena offset, length; peer record PEER_BYTES before

/** Out-records, JS -> native: [op, slot, generation, offset, length, source|errno]. */
export const OUT_RECORD_INTS = 6;
export const OUT_WRITE = 1;
export const OUT_KEEP = 2;
export const OUT_CLOSE = 3;
/** One datagram, bytes in the out arena / the read arena; last field: peer record's out-arena offset, or -(read-arena offset + 1). */
export const OUT_SENDTO = 4;
export const OUT_SENDTO_READ = 5;
/** A handler's publish, delivered to this reactor's subscribers in record order: slot/generation left out (-1: none), out-arena offset/length of [topic length u32 LE, topic, message]. */
export const OUT_PUBLISH = 16;
/** Source of an OUT_WRITE: the read arena (zero-copy echo) or the out arena. */
export const SRC_READ_ARENA = 0;
export const SRC_OUT_ARENA = 1;

/** Outbound connections, half-close, PROXY protocol (native/reactor.h, reactor_dial.cc): codes 24..31. */
/** A dial request from another thread: payload = v8-serialized DialRequest (lib/channel/dial_request.ts). */
export const MSG_DIAL = 24;
/** A dialed connection that never connected: slot, errno, generation. */
export const EV_DIAL_FAILED = 24;
/** The peer half-closed: slot, generation. */
export const EV_READ_CLOSED = 25;
/** A dial request arrived in the inbox (MSG_DIAL): take it with loop.takeDialRequest(). */
export const EV_DIAL_REQUEST = 26;
/** shutdown(SHUT_WR) once the pending output is flushed. */
export const OUT_CLOSE_WRITE = 24;
/** Close reasons past the errno range: a missing or malformed PROXY header, none within the deadline. */
export const ERR_PROXY_HEADER = 0x10004;
export const ERR_PROXY_HEADER_TIMEOUT = 0x10005;
