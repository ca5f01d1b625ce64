/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * The `tls` option: what a TLS listener is configured with, checked and turned into a native
 * context at serve time (so a bad certificate, key or option rejects `serve`, it does not fail
 * the first handshake). The context lives in the addon's process-wide registry and every reactor
 * serves the listener with the same SSL_CTX (shared session tickets, one copy of the keys).
 */
import { Buffer } from 'node:buffer';
import type { CodecOptions } from '../codec.js';
import fs from 'node:fs';
import { native } from '../channel/native.js';
import type { ListenAddress } from './address.js';

/** PEM text, its bytes, or the path of a PEM file (any string that is not PEM is a path). */
export type PemInput = string | Uint8Array;

/** A certificate (leaf first, then its chain) and its private key. */
export interface TlsIdentity {
  /** PEM certificate chain, leaf first. */
  cert: PemInput;
  /** PEM private key. */
  key: PemInput;
  /** The key's passphrase, if it is encrypted. */
  passphrase?: string;
}

/**
 * `serve`'s `tls` option (and an address's own `tls`), in the shape of node:tls where it fits.
 * Secure by default: TLS 1.2 at least, OpenSSL's default cipher list, renegotiation refused, a
 * handshake deadline and a cap on handshake bytes.
 */
export interface TlsOptions extends TlsIdentity {
  /** Certificates trusted for client certificates (with `requestCert`). */
  ca?: PemInput | PemInput[];
  /** ALPN protocols in our order of preference, e.g. `['h2', 'http/1.1']`. A client offering none of them is refused (no_application_protocol). */
  alpn?: string[];
  /** Other identities by server name (SNI); a name not listed gets the default one. */
  sni?: Record<string, TlsIdentity>;
  /** Ask clients for a certificate (default false). */
  requestCert?: boolean;
  /** With `requestCert`: refuse a client without a certificate valid for `ca` (default true). Otherwise `c.tls.authorized` tells. */
  rejectUnauthorized?: boolean;
  /** Lowest version accepted (default 'TLSv1.2'). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Highest version accepted (default: the highest OpenSSL supports, TLS 1.3). */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list; TLS 1.3 suites (`TLS_*`) and TLS 1.2 ciphers, ':'-separated (default: OpenSSL's). */
  ciphers?: string;
  /** Ms a client has to complete its handshake, from accept (default 10000; 0: no deadline). Closed with ERR_TLS_HANDSHAKE_TIMEOUT. */
  handshakeTimeout?: number;
  /** Most bytes a client may send during its handshake (default 65536). Past it: ERR_TLS_HANDSHAKE. */
  maxHandshakeBytes?: number;
}

/** A TLS listener as the reactors are told about it. */
export interface TlsListenerPlan {
  /** The native context's id (addon registry). */
  context: number;
  handshakeTimeout: number;
  maxHandshakeBytes: number;
}

function pem(name: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v !== 'string' || v === '') throw new TypeError(`option ${name} must be PEM text, a Buffer or a file path`);
  if (v.includes('-----BEGIN')) return Buffer.from(v);
  try {
    return fs.readFileSync(v);
  } catch (e) {
    throw new Error(`option ${name}: cannot read "${v}": ${(e as Error).message}`);
  }
}

function identity(name: string, o: unknown): { cert: Uint8Array; key: Uint8Array; passphrase?: string } {
  if (typeof o !== 'object' || o === null) throw new TypeError(`option ${name} must be an object with cert and key`);
  const id = o as TlsIdentity;
  if (id.passphrase !== undefined && typeof id.passphrase !== 'string') throw new TypeError(`option ${name}.passphrase must be a string`);
  return { cert: pem(`${name}.cert`, id.cert), key: pem(`${name}.key`, id.key), passphrase: id.passphrase };
}

/** ALPN names in the wire format: each one a length byte, then its bytes. */
function alpnWire(list: unknown): Uint8Array | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('option tls.alpn must be a non-empty array of protocol names');
  const parts: Buffer[] = [];
  for (const p of list) {
    const b = Buffer.from(String(p));
    if (b.length < 1 || b.length > 255) throw new RangeError(`tls.alpn: protocol name "${String(p)}" must be 1-255 bytes`);
    parts.push(Buffer.from([b.length]), b);
  }
  return Buffer.concat(parts);
}

function ms(name: string, v: unknown, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`option ${name} must be an integer between 0 and ${max}, got ${String(v)}`);
  }
  return v;
}

/**
 * Checks `o` and builds its native context. Throws a TypeError/RangeError naming a bad option,
 * or an Error with code ERR_TLS_CONFIG carrying OpenSSL's reason (bad PEM, key not matching).
 * The caller frees the context (`releaseTls`) when the engine stops.
 */
export function createTlsListener(o: unknown, where: string): TlsListenerPlan {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${where}: option tls must be an object with cert and key`);
  const t = o as TlsOptions;
  const id = identity('tls', t);
  const ca = t.ca === undefined ? undefined : Buffer.concat((Array.isArray(t.ca) ? t.ca : [t.ca]).map((c, i) => Buffer.from(pem(`tls.ca[${i}]`, c))));
  const sni =
    t.sni === undefined
      ? undefined
      : Object.entries(t.sni).map(([name, v]) => ({ name, ...identity(`tls.sni['${name}']`, v) }));
  for (const k of ['requestCert', 'rejectUnauthorized'] as const) {
    if (t[k] !== undefined && typeof t[k] !== 'boolean') throw new TypeError(`option tls.${k} must be a boolean`);
  }
  if (t.ciphers !== undefined && typeof t.ciphers !== 'string') throw new TypeError('option tls.ciphers must be a string');
  const handshakeTimeout = ms('tls.handshakeTimeout', t.handshakeTimeout, 10_000, 2 ** 31 - 1);
  const maxHandshakeBytes = ms('tls.maxHandshakeBytes', t.maxHandshakeBytes, 64 * 1024, 2 ** 30);
  let context: number;
  try {
    context = native.tlsContext({
      ...id,
      ca,
      sni,
      alpn: alpnWire(t.alpn),
      ciphers: t.ciphers,
      minVersion: t.minVersion,
      maxVersion: t.maxVersion,
      requestCert: t.requestCert ?? false,
      rejectUnauthorized: t.rejectUnauthorized ?? true,
    });
  } catch (e) {
    const err = e as Error & { code?: string };
    err.message = `${where}: ${err.message}`;
    throw err;
  }
  return { context, handshakeTimeout, maxHandshakeBytes };
}

/** Frees a context made by createTlsListener (reactors still serving keep their own reference). */
export function releaseTls(plan: TlsListenerPlan): void {
  native.tlsContextFree(plan.context);
}

/** A listen address with options of its own (`serve`'s address list also takes plain strings). */
export interface ListenSpec {
  /** The address, as a string would give it (`tls://…`, `tcp://…`, `unix:///…`). */
  addr: string;
  /** TLS for this address (a `tcp`/`unix` address then speaks TLS too), instead of serve's `tls`. */
  tls?: TlsOptions;
  /**
   * Connections on this address begin with a PROXY protocol header (v1 or v2, from HAProxy, AWS
   * NLB and the like), read natively before `onOpened` (and before a TLS handshake): `c.remoteAddr`
   * is then the original client's and `c.proxy` holds the header (with v2 TLVs). `true`: a
   * missing or malformed header closes the connection (`onClosed` with ERR_PROXY_HEADER);
   * `'optional'`: a connection that does not begin with one is served as it is. Headers are
   * bounded (v1 107 bytes, v2 16 + 4,096 bytes).
   */
  proxyProtocol?: boolean | 'optional';
  /** Ms to receive the whole PROXY header (default 10,000; 0: no deadline); ERR_PROXY_HEADER_TIMEOUT past it. */
  proxyHeaderTimeout?: number;
  /** The frame codec of this listener, instead of serve's `codec` (`false`: none). */
  codec?: CodecOptions | false;
}

/**
 * The TLS plan of each listener, in order (null: plain): an address is TLS if its scheme is
 * `tls*` or its spec has `tls`; its options are the spec's, else serve's `tls`. On a failure the
 * contexts made so far are released before the error is thrown.
 */
export function planTls(
  specs: readonly (string | ListenSpec)[],
  parsed: readonly ListenAddress[],
  defaults: TlsOptions | undefined,
): (TlsListenerPlan | null)[] {
  const plans: (TlsListenerPlan | null)[] = [];
  try {
    specs.forEach((spec, i) => {
      const a = parsed[i]!;
      const own = typeof spec === 'object' ? spec.tls : undefined;
      if (!a.tls && own === undefined) {
        plans.push(null);
        return;
      }
      if (a.dgram) throw new TypeError(`${a.input}: TLS over UDP (DTLS) is not supported`);
      const o = own ?? defaults;
      if (o === undefined) throw new TypeError(`${a.input}: a TLS address needs the tls option (serve's, or the address's own)`);
      plans.push(createTlsListener(o, a.input));
    });
  } catch (e) {
    releaseAll(plans);
    throw e;
  }
  return plans;
}

/** Releases every plan of `plans` (nulls skipped). */
export function releaseAll(plans: readonly (TlsListenerPlan | null)[]): void {
  for (const p of plans) if (p) releaseTls(p);
}
