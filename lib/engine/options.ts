// Engine wing: runs on the engine's (main) thread, the one that called serve().
/** serve() options: what users may set, their defaults, and validation that fails fast. */
import os from 'node:os';
import type { TlsOptions } from './tls_options.js';
import type { CodecOptions } from '../codec.js';
import type { PoolOptions } from '../pool/pool.js';
import type { NativeSockOptions } from '../channel/native.js';
import { checkLoadBalancing, type LoadBalancing } from './balancer.js';

export interface ServeOptions {
  /**
   * The frame codec of every stream listener that names none itself (an address object's
   * `codec`): the reactor frames input natively before `react`, which reads `c.frames` (see
   * lib/codec.ts). `false` keeps the listeners raw even when the handler names a codec.
   */
  codec?: CodecOptions | false;
  /**
   * TLS for the `tls://` (`tls4://`, `tls6://`) addresses: certificate, key and the rest (see
   * TlsOptions). An address object `{ addr, tls }` may carry its own instead.
   */
  tls?: TlsOptions;
  /** One reactor per available core (default false: one reactor). */
  multicore?: boolean;
  /** Exact number of reactors; wins over `multicore`. */
  numEventLoop?: number;
  /** Call the handler's `tick` (on reactor 0). Default false. */
  ticker?: boolean;
  /**
   * Most bytes a connection may hold unconsumed (default 64 MiB). A handler that leaves more
   * than this is closed with EMSGSIZE in `onClosed`.
   *
   * Fairness (a reactor guarantee, whatever this is set to): each round a reactor reads every
   * ready connection once, taking at most its share of the round's 1 MiB read arena (the arena
   * divided by the connections that want a read, between 4 KiB and 64 KiB). A read that does not
   * fit (more than 256 ready connections, or large leftovers) is deferred to the next round, where
   * deferred connections are read first, oldest first: a ready connection waits at most
   * ceil(ready / 256) rounds. Bytes a handler leaves unconsumed travel with the connection's next
   * read and count in its round's arena.
   */
  readBufferCap?: number;
  /**
   * Most bytes of output a connection may have pending in user space (default 64 MiB). Writing
   * past it closes the connection with ENOBUFS in `onClosed`: never a silent drop.
   */
  writeBufferCap?: number;
  /**
   * Backpressure: once a connection has this much output pending (default 1 MiB, or writeBufferCap
   * if smaller), the reactor stops reading it until half has drained, so a client that sends
   * without reading is held back by TCP flow control. Set it to writeBufferCap to close such a
   * client (ENOBUFS) instead.
   *
   * Output is fair too: pending output leaves at most 256 KiB per connection per round, so
   * megabytes queued for one connection never delay a small reply to another.
   */
  writeBufferHighWater?: number;
  /**
   * SO_REUSEPORT mode (default false): each reactor opens its own listener on every TCP address
   * and accepts itself; the kernel spreads connections (by a hash of the 4-tuple), with no hand-off
   * through the acceptor. Other processes may share the port too. `loadBalancing` and
   * `maxConnections` then do not apply; Unix sockets still go through the acceptor.
   */
  reusePort?: boolean;
  /** TCP_NODELAY on accepted connections. Default true. */
  tcpNoDelay?: boolean;
  /**
   * TCP keep-alive (default off): the idle time in ms before the first probe, or
   * `{ idle, interval, count }` (ms, ms, probes). Rounded up to whole seconds.
   */
  tcpKeepAlive?: number | false | { idle: number; interval?: number; count?: number };
  /**
   * SO_RCVBUF / SO_SNDBUF in bytes for accepted connections and for UDP sockets (default: the
   * system's; for UDP that is ~208 KiB, which bursts of many small datagrams can overflow: the
   * kernel then drops them, counted in /proc/net/snmp RcvbufErrors).
   */
  socketRecvBuffer?: number;
  socketSendBuffer?: number;
  /** SO_REUSEADDR on TCP listeners (default true: restart on a port with connections in TIME_WAIT). */
  reuseAddr?: boolean;
  /** listen() backlog (default: the system's SOMAXCONN). */
  backlog?: number;
  /** Slots in each reactor's inbox, a power of two (default 4096). */
  inboxSlots?: number;
  /** Given to the handler as `info.options` (structured-cloned into each reactor). */
  handlerOptions?: unknown;
  /** Default for `engine.stop()`'s timeout in ms (default 5000). */
  stopTimeout?: number;
  /**
   * Debug checks (default: on when the environment has RINGLOOP_DEBUG=1): a read view goes stale
   * visibly (detached, length 0) when its event returns, and writing a Conn of another reactor
   * during an event throws. Each view is a copy then: for finding mistakes, not for production.
   */
  debug?: boolean;
  /**
   * A piscina pool for blocking work (`c.offload`). `true` uses the defaults with the handler
   * module itself as the pool module (its named exports are the job functions).
   */
  pool?: PoolOptions | true;
  /**
   * Close a connection after this many ms without reading or writing anything (default 0: never),
   * with ETIMEDOUT in onClosed. One timing wheel per reactor, no timer per connection.
   */
  idleTimeout?: number;
  /**
   * Most connections open at once (default 0: no limit). Past it new connections are accepted and
   * closed at once (counted in `engine.stats().refused`) rather than left hanging in the backlog.
   */
  maxConnections?: number;
  /** Start a fresh reactor in place of one that died (default false: serve on with the others). */
  restartReactors?: boolean;
  /** How new connections are spread over the reactors (default 'round-robin'); see LoadBalancing. */
  loadBalancing?: LoadBalancing;
  /**
   * UDP: the largest datagram received or sent, in bytes (default 65507, the most IPv4 carries;
   * 512-65527). A larger datagram received is dropped whole and counted
   * (`engine.stats().datagramsTruncated`), never delivered cut; writing a larger one throws a
   * RangeError. A smaller value lets each receive batch hold more datagrams.
   */
  maxDatagramSize?: number;
}

export interface ResolvedOptions {
  loops: number;
  ticker: boolean;
  readBufferCap: number;
  writeBufferCap: number;
  writeBufferHighWater: number;
  reusePort: boolean;
  tcpNoDelay: boolean;
  socket: NativeSockOptions;
  reuseAddr: boolean;
  backlog: number;
  inboxSlots: number;
  handlerOptions: unknown;
  stopTimeout: number;
  debug: boolean;
  loadBalancing: LoadBalancing;
  idleTimeout: number;
  maxConnections: number;
  restartReactors: boolean;
  maxDatagramSize: number;
}

const MiB = 1024 * 1024;

function int(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`option ${name} must be an integer between ${min} and ${max}, got ${String(v)}`);
  }
  return v;
}

export function resolveOptions(o: ServeOptions = {}): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('serve options must be an object');
  const loops =
    o.numEventLoop !== undefined
      ? int('numEventLoop', o.numEventLoop, 1, 1024)
      : o.multicore
        ? os.availableParallelism()
        : 1;
  const ka = o.tcpKeepAlive;
  const secs = (name: string, v: unknown): number => Math.ceil(int(name, v, 1, 2 ** 31 - 1) / 1000);
  const socket: NativeSockOptions = {
    noDelay: o.tcpNoDelay ?? true,
    keepAliveIdle: 0,
    keepAliveInterval: 0,
    keepAliveCount: 0,
    recvBuf: o.socketRecvBuffer === undefined ? 0 : int('socketRecvBuffer', o.socketRecvBuffer, 1024, 2 ** 30),
    sendBuf: o.socketSendBuffer === undefined ? 0 : int('socketSendBuffer', o.socketSendBuffer, 1024, 2 ** 30),
  };
  if (typeof ka === 'number') socket.keepAliveIdle = secs('tcpKeepAlive', ka);
  else if (typeof ka === 'object' && ka !== null) {
    socket.keepAliveIdle = secs('tcpKeepAlive.idle', ka.idle);
    if (ka.interval !== undefined) socket.keepAliveInterval = secs('tcpKeepAlive.interval', ka.interval);
    if (ka.count !== undefined) socket.keepAliveCount = int('tcpKeepAlive.count', ka.count, 1, 127);
  } else if (ka !== undefined && ka !== false) {
    throw new RangeError(`option tcpKeepAlive must be false, a number of ms or { idle, interval, count }, got ${String(ka)}`);
  }
  if (o.tcpNoDelay !== undefined && typeof o.tcpNoDelay !== 'boolean') throw new TypeError('option tcpNoDelay must be a boolean');
  if (o.reuseAddr !== undefined && typeof o.reuseAddr !== 'boolean') throw new TypeError('option reuseAddr must be a boolean');
  const slots = o.inboxSlots ?? 4096;
  int('inboxSlots', slots, 16, 1 << 24);
  if ((slots & (slots - 1)) !== 0) throw new RangeError(`option inboxSlots must be a power of two, got ${slots}`);
  const writeBufferCap = int('writeBufferCap', o.writeBufferCap ?? 64 * MiB, 4096, 2 ** 31 - 1);
  const writeBufferHighWater = int(
    'writeBufferHighWater',
    o.writeBufferHighWater ?? Math.min(MiB, writeBufferCap),
    1024,
    writeBufferCap,
  );
  return {
    loops,
    writeBufferHighWater,
    ticker: Boolean(o.ticker),
    readBufferCap: int('readBufferCap', o.readBufferCap ?? 64 * MiB, 4096, 2 ** 31 - 1),
    writeBufferCap,
    reusePort: Boolean(o.reusePort),
    tcpNoDelay: socket.noDelay,
    socket,
    reuseAddr: o.reuseAddr ?? true,
    backlog: o.backlog === undefined ? 0 : int('backlog', o.backlog, 1, 65535),
    inboxSlots: slots,
    handlerOptions: o.handlerOptions,
    stopTimeout: int('stopTimeout', o.stopTimeout ?? 5000, 0, 2 ** 31 - 1),
    debug: o.debug ?? process.env.RINGLOOP_DEBUG === '1',
    loadBalancing: checkLoadBalancing(o.loadBalancing),
    idleTimeout: int('idleTimeout', o.idleTimeout ?? 0, 0, 2 ** 31 - 1),
    maxConnections: int('maxConnections', o.maxConnections ?? 0, 0, 2 ** 31 - 1),
    restartReactors: Boolean(o.restartReactors),
    maxDatagramSize: int('maxDatagramSize', o.maxDatagramSize ?? 65507, 512, 65527),
  };
}
