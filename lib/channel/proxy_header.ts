/**
 * Channel wing: safe on any thread. The PROXY protocol header a dial sends (v1 text, v2
 * binary, as HAProxy's specification defines them), built once per dial.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import type { ProxyHeaderSpec } from '../dial.js';

const SIG_V2 = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** "host:port" or "[v6]:port" -> [host, port, family]; throws a TypeError otherwise. */
export function splitHostPort(addr: string, what: string): [string, number, 4 | 6] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr);
  const port = m ? Number(m[2]) : NaN;
  const family = m ? net.isIP(m[1]!) : 0;
  if (!m || family === 0 || !(port >= 0 && port <= 65535)) {
    throw new TypeError(`ringloop: ${what} "${addr}" is not a numeric "host:port" or "[ipv6]:port"`);
  }
  return [m[1]!, port, family as 4 | 6];
}

/** The 16 bytes of an IPv6 address (or the 4 of an IPv4 one). */
function ipBytes(host: string, family: 4 | 6): number[] {
  if (family === 4) return host.split('.').map(Number);
  let h = host;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (v4) {
    tail.push(...v4[1]!.split('.').map(Number));
    h = h.slice(0, -v4[1]!.length) + '0:0';
  }
  const [head, rest] = h.split('::') as [string, string | undefined];
  const a = head ? head.split(':') : [];
  const b = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? a : [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
  const out: number[] = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

/** The header's bytes. Throws a TypeError for mismatched or malformed addresses. */
export function buildProxyHeader(spec: ProxyHeaderSpec): Uint8Array {
  const local = spec.source === undefined && spec.dest === undefined;
  let src: [string, number, 4 | 6] | undefined;
  let dst: [string, number, 4 | 6] | undefined;
  if (!local) {
    if (spec.source === undefined || spec.dest === undefined) {
      throw new TypeError('ringloop: a PROXY header needs both source and dest (or neither, for UNKNOWN/LOCAL)');
    }
    src = splitHostPort(spec.source, 'proxyHeader.source');
    dst = splitHostPort(spec.dest, 'proxyHeader.dest');
    if (src[2] !== dst[2]) throw new TypeError('ringloop: PROXY header source and dest must be the same family');
  }
  if (spec.version === 1) {
    if (spec.tlvs?.length) throw new TypeError('ringloop: PROXY v1 has no TLVs');
    const line = local ? 'PROXY UNKNOWN\r\n' : `PROXY TCP${src![2]} ${src![0]} ${dst![0]} ${src![1]} ${dst![1]}\r\n`;
    return Buffer.from(line, 'latin1');
  }
  if (spec.version !== 2) throw new TypeError('ringloop: proxyHeader.version must be 1 or 2');
  const body: number[] = [];
  if (!local) {
    body.push(...ipBytes(src![0], src![2]), ...ipBytes(dst![0], dst![2]));
    body.push(src![1] >> 8, src![1] & 0xff, dst![1] >> 8, dst![1] & 0xff);
  }
  for (const t of spec.tlvs ?? []) {
    const v = typeof t.value === 'string' ? Buffer.from(t.value) : t.value;
    if (!(t.type >= 0 && t.type <= 255) || v.byteLength > 0xffff) throw new RangeError('ringloop: malformed PROXY v2 TLV');
    body.push(t.type, v.byteLength >> 8, v.byteLength & 0xff, ...v);
  }
  const fam = local ? 0x00 : src![2] === 4 ? 0x11 : 0x21;
  const out = new Uint8Array(16 + body.length);
  out.set(SIG_V2, 0);
  out[12] = local ? 0x20 : 0x21;
  out[13] = fam;
  out[14] = body.length >> 8;
  out[15] = body.length & 0xff;
  out.set(body, 16);
  return out;
}

/** TLV bytes (type, length BE16, value)... as a list. */
export function parseTlvs(b: Uint8Array): { type: number; value: Uint8Array }[] {
  const out: { type: number; value: Uint8Array }[] = [];
  for (let i = 0; i + 3 <= b.byteLength; ) {
    const len = (b[i + 1]! << 8) | b[i + 2]!;
    out.push({ type: b[i]!, value: b.subarray(i + 3, i + 3 + len) });
    i += 3 + len;
  }
  return out;
}
