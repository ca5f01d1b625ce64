/**
 * Pool thread entry (piscina `filename`): loads the user's pool module once and runs the named
 * export as `(payload, job)`, `job` being the thread-safe handle on the submitting connection.
 */
import { workerData } from 'piscina';
import { Remote } from '../lib/remote.js';
import { Job } from '../lib/job.js';
import type { PoolWorkerData } from '../lib/pool.js';
import type { ConnRef } from '../lib/conn.js';

type JobFn = (payload: unknown, job: Job) => unknown;

const data = workerData as PoolWorkerData;
const remote = new Remote(data.handle);
let mod: Promise<Record<string, unknown>> | undefined;

export default async function run(task: { ref: ConnRef; name: string; payload: unknown }): Promise<unknown> {
  mod ??= import(data.moduleUrl) as Promise<Record<string, unknown>>;
  const m = await mod;
  const fn = (task.name === 'default' ? (m.default ?? m.run) : m[task.name]) as JobFn | undefined;
  if (typeof fn !== 'function') throw new TypeError(`pool module has no job function "${task.name}"`);
  return fn(task.payload, new Job(task.ref, remote));
}
