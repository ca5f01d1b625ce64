/** Errors with a Node-style `code` built from an errno, so users can branch on `err.code`. */
import os from 'node:os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(os.constants.errno)) names.set(value, name);

/** An Error carrying `code` (e.g. 'ECONNRESET') and `errno`. */
export interface ErrnoError extends Error {
  code: string;
  errno: number;
}

const reasons: Record<string, string> = {
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'timed out',
  EMSGSIZE: 'read buffer cap exceeded: the handler left more unconsumed bytes than readBufferCap',
  ENOBUFS: 'write buffer cap exceeded: more output pending than writeBufferCap',
  ECANCELED: 'closed by engine stop (stop timeout passed with output still pending)',
  ECONNABORTED: 'connection aborted',
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
};

export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

export function errnoError(errno: number, context?: string): ErrnoError {
  const code = errnoName(errno);
  const reason = reasons[code] ?? code.toLowerCase();
  const err = new Error(`${context ? `${context}: ` : ''}${reason} (${code})`) as ErrnoError;
  err.code = code;
  err.errno = errno;
  return err;
}

/** Wraps a native error (which carries `errno`) with a Node-style code and the given context. */
export function fromNative(e: unknown, context: string): Error {
  const errno = typeof e === 'object' && e !== null && 'errno' in e ? Number((e as { errno: unknown }).errno) : NaN;
  if (Number.isFinite(errno)) return errnoError(errno, context);
  return new Error(`${context}: ${e instanceof Error ? e.message : String(e)}`);
}

/** What a handler threw, as an Error (a thrown non-Error is wrapped, so reports have a message). */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The codes of TLS failures in `onClosed`. */
export type TlsErrorCode = 'ERR_TLS_HANDSHAKE' | 'ERR_TLS_HANDSHAKE_TIMEOUT' | 'ERR_TLS';

/** An Error with a TLS `code` and the reason the native side gave (OpenSSL's, with the peer). */
export function tlsError(code: TlsErrorCode, reason: string): Error & { code: TlsErrorCode } {
  const what = code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'TLS handshake timed out' : code === 'ERR_TLS' ? 'TLS error' : 'TLS handshake failed';
  const err = new Error(reason || what) as Error & { code: TlsErrorCode };
  err.code = code;
  return err;
}

/** The codes of codec failures in `onClosed` (lib/codec.ts). */
export type CodecErrorCode = 'ERR_FRAME_TOO_LARGE' | 'ERR_TOO_MANY_ARGS' | 'ERR_FRAME_PROTOCOL';

/**
 * The error a connection closes with when its codec reported an Error (`detail`: FrameError, or
 * an http1 status) and the handler did not consume past it.
 */
export function codecError(detail: number): Error & { code: CodecErrorCode } {
  const code: CodecErrorCode =
    detail === 1 || detail === 413 || detail === 431 ? 'ERR_FRAME_TOO_LARGE' : detail === 3 ? 'ERR_TOO_MANY_ARGS' : 'ERR_FRAME_PROTOCOL';
  const what =
    code === 'ERR_FRAME_TOO_LARGE'
      ? "a frame is over the codec's limit"
      : code === 'ERR_TOO_MANY_ARGS'
        ? "a command has more arguments than the codec's maxArgs"
        : 'a frame is malformed for the codec';
  const err = new Error(`${what}${detail >= 400 ? ` (HTTP ${detail})` : ''}`) as Error & { code: CodecErrorCode };
  err.code = code;
  return err;
}
