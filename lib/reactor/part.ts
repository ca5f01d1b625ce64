/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * What the Reactor hands the parts that host Conns (Streams, Datagrams) as it builds them. Each
 * part copies the reactor state it reads on every event into fields of its own, so a message
 * never reaches the handler, the loop or the read arena through a back-reference to the Reactor.
 */
import type { EventHandler } from '../handler.js';
import type { NativeLoop } from '../channel/native.js';
import type { Remote } from '../channel/remote.js';
import type { ReactorConfig, ReactorHooks } from './config.js';
import type { Offload } from './offload.js';
import type { OutRecords } from './out_records.js';

/** The reactor state a part is built from (passed once, not kept). */
export interface ReactorBase {
  readonly cfg: ReactorConfig;
  readonly handler: EventHandler;
  readonly hooks: ReactorHooks;
  readonly loop: NativeLoop;
  readonly remote: Remote;
}

/** The fields every Conn-hosting part has; a Conn reaches the reactor through them. */
export abstract class ReactorPart {
  readonly index: number;
  /** The read arena of the latest round (the Reactor replaces it when the native loop grows it). */
  arena: Uint8Array = new Uint8Array(0);
  readonly remote: Remote;
  readonly loop: NativeLoop;
  protected readonly handler: EventHandler;
  protected readonly hooks: ReactorHooks;

  constructor(
    base: ReactorBase,
    readonly out: OutRecords,
    readonly jobs: Offload,
  ) {
    this.index = base.cfg.index;
    this.remote = base.remote;
    this.loop = base.loop;
    this.handler = base.handler;
    this.hooks = base.hooks;
  }
}
