/**
 * Reactor wing: runs on a reactor thread. The errors a PROXY-protocol listener's connection is
 * rejected with (native/reactor.h kErrProxyHeader*), with the reactor's reason text.
 */
import type { NativeLoop } from '../channel/native.js';
import * as L from '../channel/layout.js';

export type ProxyErrorCode = 'ERR_PROXY_HEADER' | 'ERR_PROXY_HEADER_TIMEOUT';

/** The error for a PROXY close reason, or undefined if `errno` is not one. */
export function proxyCloseError(errno: number, loop: NativeLoop, slot: number): (Error & { code: ProxyErrorCode }) | undefined {
  const code: ProxyErrorCode | undefined =
    errno === L.ERR_PROXY_HEADER ? 'ERR_PROXY_HEADER' : errno === L.ERR_PROXY_HEADER_TIMEOUT ? 'ERR_PROXY_HEADER_TIMEOUT' : undefined;
  if (!code) return undefined;
  const err = new Error(loop.takeReason(slot) || 'bad PROXY protocol header') as Error & { code: ProxyErrorCode };
  err.code = code;
  return err;
}
