/**
 * The seed's "blocking echo": each message is handed to a pool job that stands for a blocking call
 * (it blocks its pool thread for 1 s, synchronously) and then writes the message back itself with
 * `job.asyncWrite`, straight through the reactor's inbox. The reactors never block, so a plain
 * echo served by the same engine keeps answering at once.
 *
 * Connections on the first listen address get the blocking echo; any further address is plain
 * echo. With `--mode async` the job awaits a 1 s timer instead of blocking, so one pool thread
 * runs many jobs at once. With `--mode trivial` the job answers at once (the offload benchmark:
 * what the react -> pool -> asyncWrite round trip itself costs).
 *
 * This module is both the handler and the pool module (`pool: true`-style): its named exports
 * `blocking` and `waiting` are the job functions.
 */
import { defineHandler, type Job } from '../../lib/index.js';
import { setTimeout as sleep } from 'node:timers/promises';

type Mode = 'block' | 'async' | 'trivial';
const JOB: Record<Mode, string> = { block: 'blocking', async: 'waiting', trivial: 'immediate' };

interface Options {
  mode?: Mode;
  delayMs?: number;
}

let mode: Mode = 'block';
let delayMs = 1000;

export default defineHandler({
  onInitComplete(info) {
    const o = (info.options ?? {}) as Options;
    mode = o.mode ?? 'block';
    delayMs = o.delayMs ?? 1000;
  },
  react(c) {
    const msg = c.next();
    if (!msg || msg.byteLength === 0) return;
    if (c.listener !== 0) return msg; // plain echo
    // slice(): the view points into the reactor's read arena, valid only during this event.
    c.offload({ msg: msg.slice(), delayMs }, { name: JOB[mode] });
  },
});

const parked = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this pool thread, as a synchronous driver call would, then answers. */
export function blocking(task: { msg: Uint8Array; delayMs: number }, job: Job): void {
  Atomics.wait(parked, 0, 0, task.delayMs);
  job.asyncWrite(task.msg);
}

/** Answers at once. */
export function immediate(task: { msg: Uint8Array }, job: Job): void {
  job.asyncWrite(task.msg);
}

/** Awaits instead: the pool thread is free for other jobs meanwhile. */
export async function waiting(task: { msg: Uint8Array; delayMs: number }, job: Job): Promise<void> {
  await sleep(task.delayMs);
  job.asyncWrite(task.msg);
}
