/**
 * Reactor wing: runs on a reactor thread (one per loop), inside its worker.
 *
 * Outbound connections of one reactor. A dial makes the socket and starts the connect natively
 * (reactor_dial.cc) and returns its ref at once; the connection waits here, with the caller's
 * context, until EV_OPEN (listener -1) hands it to the slot table as an ordinary connection, or
 * EV_DIAL_FAILED reports why it never connected (onClosed, with a Conn that is closed already).
 * Dial requests from other threads (engine.dial, jobs) arrive through the inbox (MSG_DIAL) and are
 * answered through the ack table (dial_request.ts).
 */
import { Buffer } from 'node:buffer';
import os from 'node:os';
import v8 from 'node:v8';
import nodeTls from 'node:tls';
import type { ConnRef } from '../conn.js';
import type { DialOptions, DialTlsOptions } from '../dial.js';
import { Action } from '../handler.js';
import type { EventHandler } from '../handler.js';
import type { NativeLoop } from '../channel/native.js';
import type { AckTable } from '../channel/acks.js';
import { answerDial, type DialRequest } from '../channel/dial_request.js';
import { asError, errnoError } from '../errors.js';
import type { ReactorHooks } from './config.js';
import { buildProxyHeader } from '../channel/proxy_header.js';
import { parseDialAddress, type DialTarget } from '../channel/dial_address.js';
import { StreamConn, type StreamHost } from './stream_conn.js';

const ECANCELED = os.constants.errno.ECANCELED;
const EBADMSG = os.constants.errno.EBADMSG;
let roots: Uint8Array | undefined;

/** The native loop's TLS arguments for a dial: server name, CAs (PEM), verification. */
function dialTls(t: DialTarget, o: DialTlsOptions): { servername: string; ca?: Uint8Array; verify: boolean } {
  const verify = o.rejectUnauthorized !== false;
  const list = o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca as string | Uint8Array];
  let ca: Uint8Array | undefined = list.length ? Buffer.concat(list.map((x) => (typeof x === 'string' ? Buffer.from(`${x}\n`) : Buffer.from(x)))) : undefined;
  if (!ca && verify) ca = roots ??= Buffer.from(nodeTls.rootCertificates.join('\n'));
  return { servername: o.servername ?? t.name ?? t.host, ca, verify };
}
/** Default connect timeout (ms). */
export const DIAL_TIMEOUT = 10_000;

/** What the dialer needs from its reactor's stream table (Streams). */
export interface DialHost extends StreamHost {
  readonly handlerRef: EventHandler;
  readonly hooksRef: ReactorHooks;
  /** The error a close reason past the errno range stands for (TLS, PROXY), with its text. */
  errorFor(slot: number, code: number): Error;
}

export class Dialer {
  /** Connections whose connect is in progress, by slot. */
  private readonly pending = new Map<number, StreamConn>();

  constructor(
    private readonly host: DialHost,
    private readonly loop: NativeLoop,
    private readonly acks: AckTable,
  ) {}

  /** Starts a connect; loop-only. Throws a TypeError for a malformed address or option. */
  dial(addr: string, options: DialOptions = {}): ConnRef {
    const t = parseDialAddress(addr);
    return this.dialTarget(t, options);
  }

  dialTarget(t: DialTarget, options: DialOptions): ConnRef {
    const timeout = options.timeout ?? DIAL_TIMEOUT;
    if (!(timeout >= 0 && timeout <= 0x7fffffff)) throw new RangeError('ringloop: dial timeout must be 0..2^31-1 ms');
    const first = options.proxyHeader ? buildProxyHeader(options.proxyHeader) : undefined;
    const tls = options.tls || t.tls ? dialTls(t, options.tls === true ? {} : (options.tls ?? {})) : undefined;
    const r = this.loop.dial(t.family, t.host, t.port, Math.floor(timeout), first, tls);
    if (r === -EBADMSG && tls) throw Object.assign(new TypeError('ringloop: dial tls.ca holds no PEM certificate'), { errno: EBADMSG });
    if (r < 0) throw errnoError(-r, 'dial');
    const slot = Math.floor(r / 4294967296);
    const gen = r % 4294967296;
    const c = new StreamConn(this.host, slot, gen | 0, -1);
    c.dialed = true;
    c.context = options.context;
    this.pending.set(slot, c);
    return c.ref;
  }

  /** EV_OPEN for a dialed slot: its Conn (with the context), or undefined if it is not ours. */
  take(slot: number, gen: number): StreamConn | undefined {
    const c = this.pending.get(slot);
    if (!c || c.gen !== gen) return undefined;
    this.pending.delete(slot);
    return c;
  }

  /** EV_DIAL_FAILED: the connect failed (or timed out, or the engine stopped): onClosed hears why. */
  failed(slot: number, errno: number, gen: number): void {
    const c = this.pending.get(slot);
    if (!c || c.gen !== gen) return;
    this.pending.delete(slot);
    c.open = false;
    const h = this.host.handlerRef;
    if (!h.onClosed) {
      this.loop.takeReason(slot);
      return;
    }
    try {
      const a = h.onClosed(c, errno >= 0x10000 ? this.host.errorFor(slot, errno) : errnoError(errno === 0 ? ECANCELED : errno, 'dial'));
      if (a === Action.Shutdown) this.host.hooksRef.shutdown();
    } catch (e) {
      this.host.hooksRef.handlerError(asError(e), 'onClosed');
    }
  }

  /** EV_DIAL_REQUEST: dials the requests other threads queued, and answers each. */
  requests(): void {
    for (let b = this.loop.takeDialRequest(); b; b = this.loop.takeDialRequest()) {
      let req: DialRequest;
      try {
        req = v8.deserialize(b) as DialRequest;
      } catch {
        continue;  // not from our producer: nobody to answer
      }
      try {
        const ref = this.dialTarget(req.target, { context: req.context, timeout: req.timeout, proxyHeader: req.proxyHeader, tls: req.tls });
        answerDial(this.acks, req, ref.slot, ref.generation);
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        answerDial(this.acks, req, -(typeof errno === 'number' ? errno : os.constants.errno.EINVAL), 0);
      }
    }
  }
}
