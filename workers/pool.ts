/**
 * Pool thread entry (piscina `filename`). Loads the user's pool module once; a job is its export
 * `name` called as `(payload, job)`, `job` being the thread-safe handle on the submitting
 * connection. Two kinds of piscina task:
 *
 * - `{pump}`: takes jobs from the engine's job channel (lib/pool/queue.ts) one after another,
 *   parking when there are none, until the engine closes, asks for the thread back, or (above
 *   minThreads) no job came for idleTimeout. With concurrentTasksPerWorker > 1, up to that many
 *   jobs that await run at once; a job with a timeout always runs alone. A failed job is
 *   reported to the engine through piscina's worker port (the engine tells the reactor).
 * - `{ref, name, payload}`: runs one job and returns its result (`engine.offload`, and jobs the
 *   channel cannot carry).
 */
import { parentPort, threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { Remote } from '../lib/channel/remote.js';
import { Job } from '../lib/pool/job.js';
import { JobPump, SKIPPED } from '../lib/pool/pump.js';
import { JobRing, type TakenJob } from '../lib/pool/ring.js';
import { JOB_FAILED, JOB_RESULT, type JobFailure, type JobResult } from '../lib/pool/outcome.js';
import type { PoolWorkerData, PumpTask, RunTask } from '../lib/pool/pool.js';
import { JobStats, wallClockMs } from '../lib/pool/stats.js';

type JobFn = (payload: unknown, job: Job) => unknown;
type Module = Record<string, unknown>;

const data = workerData as PoolWorkerData;
const remote = new Remote(data.handle);
const queue = new JobPump(new JobRing(data.queue));
const started = new Int32Array(data.started);
const stats = new JobStats(data.queue);
let mod: Promise<Module> | undefined;

function jobFn(m: Module, name: string): JobFn {
  const fn = (name === 'default' ? (m.default ?? m.run) : m[name]) as JobFn | undefined;
  if (typeof fn !== 'function') throw new TypeError(`pool module has no job function "${name}"`);
  return fn;
}

export default async function run(task: PumpTask | RunTask): Promise<unknown> {
  mod ??= import(data.moduleUrl) as Promise<Module>;
  if ('pump' in task) return pump(task.pump);
  if (task.started >= 0) Atomics.store(started, task.started, 1); // the engine stops asking pumps to yield for it
  const m = await mod;
  return jobFn(m, task.name)(task.payload, new Job(task.ref, remote));
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** Tells the engine a channel job failed (it reports to the owning reactor, or to engine.offload). */
function failed(j: TakenJob, error: unknown): void {
  const f: JobFailure = { ref: j.ref, name: j.name, timeout: j.timeout, error, reply: j.reply };
  try {
    parentPort!.postMessage({ [JOB_FAILED]: f });
  } catch {
    parentPort!.postMessage({ [JOB_FAILED]: { ...f, error: String(error) } });
  }
}

/** Hands the result of a job the engine's thread waits for (engine.offload) back to it. */
function answer(j: TakenJob, value: unknown): void {
  if (j.reply === 0) return;
  const r: JobResult = { reply: j.reply, value };
  try {
    parentPort!.postMessage({ [JOB_RESULT]: r });
  } catch (e) {
    failed(j, e); // the result cannot be cloned
  }
}

/** As piscina does before it parks a thread: let what jobs printed reach the parent first. */
async function flushStdio(): Promise<void> {
  if (process.stdout.writableLength > 0) await new Promise((r) => process.stdout.write('', r));
  if (process.stderr.writableLength > 0) await new Promise((r) => process.stderr.write('', r));
}

/** Starts a job; returns a promise only when it awaits (it has finished otherwise). */
type Start = (j: TakenJob) => Promise<void> | undefined;

async function pump(p: number): Promise<void> {
  queue.pumpStarted(p, threadId);
  let m: Module | undefined;
  let loadError: unknown;
  try {
    m = await mod;
  } catch (e) {
    loadError = e;
  }
  const start: Start = (j) => {
    // Counters (engine.stats().pool): wait from c.offload to here, run until it settles.
    const t0 = wallClockMs();
    const waited = j.queuedAt === undefined ? 0 : t0 - j.queuedAt;
    try {
      if (j.error !== undefined) throw j.error;
      if (m === undefined) throw loadError;
      const r = jobFn(m, j.name)(j.payload, new Job(j.ref, remote));
      if (isThenable(r)) {
        return Promise.resolve(r).then(
          (v) => {
            stats.record(true, waited, wallClockMs() - t0);
            answer(j, v);
          },
          (e: unknown) => {
            stats.record(false, waited, wallClockMs() - t0);
            failed(j, e);
          },
        );
      }
      stats.record(true, waited, wallClockMs() - t0);
      answer(j, r);
    } catch (e) {
      stats.record(false, waited, wallClockMs() - t0);
      failed(j, e);
    }
    return undefined;
  };
  if (queue.concurrency > 1) await pumpConcurrent(p, start);
  else await pumpSerial(p, start);
}

/** One job at a time; parks the thread (Atomics.wait) when there is none. */
async function pumpSerial(p: number, start: Start): Promise<void> {
  for (;;) {
    if (queue.closed || queue.yieldOne()) return queue.pumpExit(p);
    const j = queue.take(p, 0, false);
    if (j === SKIPPED) continue;
    if (j !== null) {
      const r = start(j);
      if (r) await r;
      queue.finish(p, 0, j.timeout);
      continue;
    }
    await flushStdio();
    if (!queue.park(p, queue.idleWait) && queue.retire(p)) return;
  }
}

/** Up to concurrentTasksPerWorker jobs at once; waits with Atomics.waitAsync so they keep running. */
async function pumpConcurrent(p: number, start: Start): Promise<void> {
  const cap = Math.min(queue.concurrency, queue.entries);
  const free: number[] = [];
  for (let e = cap - 1; e >= 0; e--) free.push(e);
  let inflight = 0;
  let exclusive = false;
  let wake: (() => void) | undefined;
  let settled: Promise<void> | undefined;
  const nextSettle = (): Promise<void> => (settled ??= new Promise<void>((r) => (wake = r)));
  const done = (j: TakenJob, e: number): void => {
    queue.finish(p, e, j.timeout);
    free.push(e);
    inflight--;
    if (j.timeout > 0) exclusive = false;
    const w = wake;
    wake = undefined;
    settled = undefined;
    w?.();
  };
  for (;;) {
    if (queue.closed) break;
    if (queue.yieldWanted) {
      if (inflight === 0 && queue.yieldOne()) break;
      if (inflight > 0) {
        await nextSettle();
        continue;
      }
    }
    if (inflight < cap && !exclusive) {
      const e = free.pop()!;
      const held = inflight > 0;
      const j = queue.take(p, e, held);
      if (j === SKIPPED) {
        free.push(e);
        continue;
      }
      if (j !== null) {
        if (j.timeout > 0) {
          // A job with a timeout runs alone, so terminating its thread ends nothing else.
          exclusive = true;
          while (inflight > 0) await nextSettle();
          if (held && !queue.startHeld(p)) {
            // Its reactor's timer cancelled it meanwhile (and reported the timeout).
            queue.finish(p, e, j.timeout);
            free.push(e);
            exclusive = false;
            continue;
          }
        }
        inflight++;
        const r = start(j);
        if (r) void r.then(() => done(j, e));
        else done(j, e);
        continue;
      }
      free.push(e);
    }
    if (inflight >= cap || exclusive) {
      await nextSettle();
      continue;
    }
    if (inflight === 0) await flushStdio();
    const more = await queue.parkAsync(p, queue.idleWait, inflight > 0 ? nextSettle() : undefined);
    if (!more && inflight === 0 && queue.retire(p)) return;
  }
  while (inflight > 0) await nextSettle();
  queue.pumpExit(p);
}
