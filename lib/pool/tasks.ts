/**
 * Pool wing: the worker pool and its job channel (engine thread, reactors and pool threads; each file says which side).
 *
 * What crosses between the reactors, the engine's thread and the pool's threads about jobs: the
 * request a reactor makes for one offloaded job, and what a pool thread is given (its workerData
 * and its two task shapes). Its own file so that the pool (pool.ts) and the producers
 * (producer.ts) both import it without importing each other.
 */
import type { EngineHandle } from '../channel/remote.js';
import type { ConnRef } from '../conn.js';

/** What a reactor sends for one offloaded job. */
export interface JobRequest {
  ref: ConnRef;
  name: string;
  payload: unknown;
  timeout: number;
}

/** Given to each pool thread (piscina workerData). */
export interface PoolWorkerData {
  handle: EngineHandle;
  moduleUrl: string;
  /** The job channel (queue.ts). */
  queue: SharedArrayBuffer;
  /** One word per task of `Pool.run` in flight: its thread sets it to 1 when it starts the task. */
  started: SharedArrayBuffer;
}

/** A piscina task that runs one job (workers/pool.ts): `started` is its word in PoolWorkerData.started, or -1. */
export interface RunTask {
  ref: ConnRef;
  name: string;
  payload: unknown;
  started: number;
}

/** The piscina task that makes a pool thread run pump `pump` (workers/pool.ts). */
export interface PumpTask {
  pump: number;
}
