/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * What a reactor is given when it is built: its configuration (cloned into the worker, so plain
 * data and shared buffers only) and the hooks through which it talks back to the engine. In a file
 * of their own so that every part of the reactor can name them without importing the Reactor.
 */
import type { EngineHandle } from '../channel/remote.js';
import type { NativeSockOptions } from '../channel/native.js';
import type { JobRequest } from '../pool/tasks.js';
import type { NativeCodecSpec } from '../channel/codec_spec.js';

/** One reactor's configuration, as the engine builds it. */
export interface ReactorConfig {
  index: number;
  loops: number;
  handle: EngineHandle;
  readBufferCap: number;
  writeBufferCap: number;
  ticker: boolean;
  /** Close connections with no read or write for this many ms (0: never). */
  idleTimeout: number;
  /** Pending output past which a connection is not read until half of it drained. */
  writeHighWater: number;
  /** Socket options for connections the reactor accepts itself (reusePort mode). */
  socket: NativeSockOptions;
  /** Largest UDP datagram received or sent. */
  maxDatagramSize: number;
  /** First generation of every slot (non-zero for a restarted reactor: old refs never match). */
  generationBase: number;
  /**
   * Open connections as [open, generation] pairs per slot (the first CONN_TABLE_SLOTS slots), so
   * the engine can name this reactor's connections if the thread dies.
   */
  connTable: SharedArrayBuffer;
  /** Per listener index, its TLS (null: plain): the engine's native context and the handshake bounds. */
  tls: readonly (ListenerTls | null)[];
  /** Per listener index, whether it takes a PROXY protocol header (null: no). */
  proxy?: readonly (ListenerProxy | null)[];
  /**
   * Per listener index, its codec from serve's options: a spec, `false` for none, or null when
   * not set there (the handler's `codec` applies). Missing entries count as null.
   */
  codecs?: readonly (NativeCodecSpec | false | null)[];
  /** Debug checks (lib/reactor/debug.ts): stale views detached, cross-reactor writes refused. */
  debug?: boolean;
}

/** A listener with `proxyProtocol`: the header is required (true) or optional; ms to receive it. */
export interface ListenerProxy {
  required: boolean;
  headerTimeout: number;
}

/** A TLS listener as the reactor serves it (the context lives in the addon's process-wide registry). */
export interface ListenerTls {
  context: number;
  /** Ms from accept to a finished handshake (0: no deadline). */
  handshakeTimeout: number;
  /** Most handshake bytes a client may send. */
  maxHandshakeBytes: number;
}

/** Slots mirrored in ReactorConfig.connTable. */
export const CONN_TABLE_SLOTS = 1 << 16;

/** How the reactor talks to the engine (postMessage in a worker, direct calls in-thread). */
export interface ReactorHooks {
  post(msg: unknown): void;
  shutdown(): void;
  stopped(): void;
  handlerError(err: Error, event: string): void;
  /** Sends this batch's offloaded jobs to the engine's pool (null when there is no pool). */
  offload: ((jobs: JobRequest[]) => void) | null;
}

