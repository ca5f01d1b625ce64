/**
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
/** A listen socket the reactor accepts on itself (reusePort mode): a = fd, b = listener index. */
export const MSG_LISTEN = 7;

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

/** Out-records, JS -> native: [op, slot, generation, offset, length, source|errno]. */
export const OUT_RECORD_INTS = 6;
export const OUT_WRITE = 1;
export const OUT_KEEP = 2;
export const OUT_CLOSE = 3;
/** Source of an OUT_WRITE: the read arena (zero-copy echo) or the out arena. */
export const SRC_READ_ARENA = 0;
export const SRC_OUT_ARENA = 1;
