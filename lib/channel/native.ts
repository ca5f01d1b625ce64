/**
 * Channel wing: what crosses threads; safe to use from any thread unless a name says otherwise.
 *
 * Typed access to the C++ addon. Loaded once per thread that needs it (main, reactors, pool
 * workers); `RINGLOOP_ADDON` points at another build (sanitizer or alternative backend).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { SocketOptions, TlsInfo } from '../conn.js';
import type { NativeCodecSpec } from './codec_spec.js';

/** Options the native reactor reads once at construction. */
export interface NativeLoopOptions {
  readBufferCap: number;
  writeBufferCap: number;
  writeHighWater: number;
  arenaBytes: number;
  maxDatagramSize: number;
  generationBase: number;
  socket: NativeSockOptions;
  /** The frame table codecs write into (lib/reactor/frames.ts); without it no listener is framed. */
  frames?: Int32Array;
}

/** Socket options for accepted connections, as the native side reads and reports them. */
export type NativeSockOptions = SocketOptions;

/** One reactor's native loop (native/reactor_binding.cc). Loop-only. */
export interface NativeLoop {
  start(): void;
  commit(outRecords: number): void;
  writeNow(slot: number, generation: number, data: Uint8Array): number;
  address(slot: number, peer: boolean): string;
  outboundBuffered(slot: number): number;
  closeAll(errno: number): void;
  destroy(): void;
  setOutArena(arena: Uint8Array): void;
  socketOptions(slot: number): NativeSockOptions | null;
  /** Connections accepted for `listener` from now on speak TLS with the registered context. */
  setListenerTls(listener: number, context: number, handshakeTimeoutMs: number, maxHandshakeBytes: number): void;
  /** What the TLS session of `slot` negotiated, or null (not TLS, or closed). */
  tlsInfo(slot: number): TlsInfo | null;
  /** The text of the TLS error `slot` just closed with (once), or ''. */
  takeReason(slot: number): string;
  /** The shared topic directory and this reactor's column in it (native/reactor_fanout.cc). */
  setTopicDirectory(dir: Int32Array, buckets: number, loops: number, index: number): void;
  /** 1: subscribed now, 0: already was, -1: no such open connection. */
  subscribe(slot: number, generation: number, topic: Uint8Array): number;
  /** 1: unsubscribed now, 0: was not subscribed, -1: no such open connection. */
  unsubscribe(slot: number, generation: number, topic: Uint8Array): number;
  topics(slot: number, generation: number): string[];
  /** Starts a connect (family 4, 6, or 0 for a Unix path): slot * 2^32 + generation, or -errno. */
  dial(
    family: number,
    host: string,
    port: number,
    timeoutMs: number,
    first?: Uint8Array,
    tls?: { servername: string; ca?: Uint8Array; verify: boolean },
  ): number;
  /** pauseRead / resumeRead; false for a stale ref. */
  setPaused(slot: number, generation: number, paused: boolean): boolean;
  /** Forward mode from slot into toSlot (-1 ends it): 0 or -errno. */
  setPipe(slot: number, generation: number, toSlot: number, toGeneration: number): number;
  /** Connections of `listener` must (1) or may (2) begin with a PROXY header. */
  setListenerProxy(listener: number, mode: number, headerTimeoutMs: number): void;
  /** EOF reports EV_READ_CLOSED and keeps the connection open for writing. */
  setHalfClose(on: boolean): void;
  /** The PROXY header `slot` began with, or null. */
  proxyInfo(slot: number): { version: number; source: string; dest: string; tlvs: Uint8Array } | null;
  /** The oldest dial request from the inbox (EV_DIAL_REQUEST), or null. */
  takeDialRequest(): Uint8Array | null;
  /** Connections accepted for `listener` from now on are framed with `spec` (native/codec_binding.cc). */
  setListenerCodec(listener: number, spec: NativeCodecSpec): void;
}

/** What `tlsContext` is given (native/tls_binding.cc): PEM bytes, ALPN in the wire format. */
export interface NativeTlsConfig {
  cert: Uint8Array;
  key: Uint8Array;
  passphrase?: string;
  ca?: Uint8Array;
  alpn?: Uint8Array;
  ciphers?: string;
  minVersion?: string;
  maxVersion?: string;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  sni?: { name: string; cert: Uint8Array; key: Uint8Array; passphrase?: string }[];
}

/** The main thread's acceptor (native/acceptor.cc). */
export interface NativeAcceptor {
  listen(
    family: 0 | 4 | 6,
    host: string,
    port: number,
    backlog: number,
    reusePort: boolean,
    index: number,
    reuseAddr: boolean,
  ): {
    fd: number;
    port: number;
  };
  resume(): void;
  pause(): void;
  close(): void;
}

/** Ring buffer wrapper used by the tests to drive the connections' ring code. */
export interface NativeTestRing {
  write(data: Uint8Array): boolean;
  read(n: number): Uint8Array;
  pieces(): number;
  release(): void;
  readonly size: number;
  readonly capacity: number;
}

export interface Addon {
  Loop: new (
    inbox: Int32Array,
    events: Int32Array,
    outRecords: Int32Array,
    outArena: Uint8Array,
    options: NativeLoopOptions,
    onBatch: (events: number, arena: ArrayBuffer) => number,
  ) => NativeLoop;
  Acceptor: new (
    out: Int32Array,
    options: NativeSockOptions & { hashPeers: boolean },
    onAccept: (count: number) => void,
  ) => NativeAcceptor;
  TestRing: new (cap: number) => NativeTestRing;
  constants: Readonly<Record<string, number>>;
  poller: string;
  createWakeFd(): number;
  wake(fd: number): number;
  closeFd(fd: number): number;
  listen(
    family: 0 | 4 | 6,
    host: string,
    port: number,
    backlog: number,
    reusePort: boolean,
    reuseAddr: boolean,
    dgram?: boolean,
    recvBuf?: number,
    sendBuf?: number,
  ): { fd: number; port: number };
  /** "host:port" of the 32-byte peer record at `offset` ("" if it is not one). */
  peerFormat(u8: Uint8Array, offset: number): string;
  /** Writes the peer record of a numeric "host:port" / "[v6]:port"; false if `addr` is not one. */
  peerParse(addr: string, u8: Uint8Array, offset: number): boolean;
  stage(data: Uint8Array): number;
  unstage(lo: number, hi: number): void;
  inboxDiscard(inbox: Int32Array): number;
  inboxDrainForTest(inbox: Int32Array, out: Int32Array): number;
  /** Builds a TLS server context, process-wide; returns its id. Throws (code ERR_TLS_CONFIG) with OpenSSL's reason. */
  tlsContext(config: NativeTlsConfig): number;
  /** Drops the registry's reference to a context (reactors serving with it keep theirs). */
  tlsContextFree(id: number): void;
  /** EV_REJECTED and the ERR_TLS* close reasons. */
  tlsConstants: Readonly<{ EV_REJECTED: number; ERR_TLS_HANDSHAKE: number; ERR_TLS_HANDSHAKE_TIMEOUT: number; ERR_TLS: number }>;
  /**
   * Frames `bytes` with `spec` outside any reactor (the reactor's own framer): writes one group
   * (native/codec.h) into `table` and returns the ints written (0: not even the header fits).
   */
  codecFrame(spec: NativeCodecSpec, bytes: Uint8Array, table: Int32Array): number;
  /** EV_FRAMES and the close reasons of codec errors. */
  codecConstants: Readonly<{ EV_FRAMES: number; ERR_FRAME_TOO_LARGE: number; ERR_FRAME_PROTOCOL: number }>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The package root (dist/lib/channel/ is three levels below it). */
const packageRoot = path.resolve(here, '../../..');
const load = createRequire(import.meta.url);

/**
 * Which addon file to load: `RINGLOOP_ADDON` when set; otherwise node-gyp-build's choice, a
 * source build (build/Release) if there is one, else the prebuild in prebuilds/<platform>-<arch>/
 * whose tags (napi, libc) match this process. Node-API keeps one build valid for every Node >= 20.
 */
function addonFile(): string {
  if (process.env.RINGLOOP_ADDON) return process.env.RINGLOOP_ADDON;
  const gypBuild = load('node-gyp-build') as { resolve(dir: string): string };
  try {
    return gypBuild.resolve(packageRoot);
  } catch (e) {
    throw new Error(
      `ringloop: no native addon for ${process.platform}-${process.arch} in ${packageRoot}: no prebuild matches ` +
        `and no source build was made (reinstall with a C++ toolchain, python3 and make on PATH, or run npm run build:native)`,
      { cause: e },
    );
  }
}

/** The addon, loaded on first import in this thread. */
export const native: Addon = load(addonFile()) as Addon;
