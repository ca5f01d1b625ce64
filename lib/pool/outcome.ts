/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * How a job's outcome reaches whoever waits for it: the messages a pump posts to the engine's
 * thread (through piscina's worker port) with a job's failure or the result the engine waits
 * for, and the errors, with codes users can branch on, that the reactor or engine.offload gets.
 */
import type { ConnRef } from '../conn.js';
import type { JobError as PublicJobError } from '../error_types.js';

/** Key of the message a pump posts (through piscina's worker port) when a job fails. */
export const JOB_FAILED = '__ringloopJobFailed';

/** That message's value. */
export interface JobFailure {
  ref: ConnRef;
  name: string;
  timeout: number;
  error: unknown;
  /** The job's reply id (engine.offload waits for it), or 0. */
  reply: number;
}

/** Key of the message a pump posts with the result of a job the engine's thread waits for. */
export const JOB_RESULT = '__ringloopJobResult';

/** That message's value. */
export interface JobResult {
  reply: number;
  value: unknown;
}

/** An error with one of the pool's codes (EJOBFAILED, EJOBTIMEOUT, EJOBQUEUEFULL). */
export type JobError = Error & { code: string };

/** Job errors carry a code users can branch on: EJOBFAILED, EJOBTIMEOUT, EJOBQUEUEFULL. */
export function describeJobError(e: unknown, name: string, timeout: number): JobError {
  const base = e instanceof Error ? e : new Error(String(e));
  const aborted = base.name === 'AbortError' || /aborted/i.test(base.message);
  const full = /queue.*full|queue.*limit|maxQueue/i.test(base.message);
  const code = aborted ? 'EJOBTIMEOUT' : full ? 'EJOBQUEUEFULL' : 'EJOBFAILED';
  const what = aborted ? `timed out after ${timeout} ms` : full ? 'refused: pool queue full' : `failed: ${base.message}`;
  const err = new Error(`job "${name}" ${what}`, { cause: base }) as JobError;
  err.code = code;
  return err;
}

const JOB_CODES: readonly string[] = ['EJOBFAILED', 'EJOBTIMEOUT', 'EJOBQUEUEFULL'];

/** `err` as a job error for `onJobError`: as is when it carries a job code, else described as a failure. */
export function asJobError(err: Error): PublicJobError {
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'string' && JOB_CODES.includes(code)) return err as PublicJobError;
  return describeJobError(err, 'job', 0) as PublicJobError;
}

/** The error of a job that ran out of time. */
export function timedOut(name: string, timeout: number): JobError {
  const e = new Error('The task has been aborted');
  e.name = 'AbortError';
  return describeJobError(e, name, timeout);
}

/** The error of a job refused because `maxQueue` jobs already wait. */
export function queueFull(name: string, timeout: number): JobError {
  return describeJobError(new Error('Task queue is at limit'), name, timeout);
}
