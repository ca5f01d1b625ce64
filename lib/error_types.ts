/**
 * The errors a handler receives, typed where they arrive: `onClosed(c, err)`, `onJobError(c, err)`
 * and a failed `engine.offload(...)`. Every one is an `Error` with a string `code` to branch on.
 * Types only; safe anywhere.
 */
import type { ErrnoError, TlsErrorCode } from './errors.js';

export type { ErrnoError, TlsErrorCode };

/** A TLS failure (handshake refused or timed out, or a TLS error later); `message` is OpenSSL's reason. */
export interface TlsError extends Error {
  code: TlsErrorCode;
}

/** The codes of a failed pool job: it threw (or its thread died), ran out of time, or found the queue full. */
export type JobErrorCode = 'EJOBFAILED' | 'EJOBTIMEOUT' | 'EJOBQUEUEFULL';

/** A pool job that failed; `cause` is what the job threw (or the pool's own error). */
export interface JobError extends Error {
  code: JobErrorCode;
  cause?: unknown;
}

/** An error a handler threw, as thrown (`code` is its own, if it had one). */
export interface ThrownError extends Error {
  code?: string;
}

/**
 * Why a connection closed abnormally, as `onClosed(c, err)` hears it. `err.code` tells which:
 * an errno name with `errno` (ECONNRESET, EPIPE, ETIMEDOUT for a deadline, EMSGSIZE / ENOBUFS for
 * a buffer cap, ECANCELED at stop, ECONNABORTED, ...); a TLS code (ERR_TLS_HANDSHAKE,
 * ERR_TLS_HANDSHAKE_TIMEOUT, ERR_TLS); a job code when a job failed and there is no `onJobError`;
 * or, when an event threw, the handler's own error.
 */
export type CloseError = ErrnoError | TlsError | JobError | ThrownError;
