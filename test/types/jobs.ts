// A pool module, as a user writes one: its exports are the job names.
import type { Job } from 'ringloop';

export function hash(payload: string, job: Job): void {
  job.asyncWrite(payload);
}
export async function resize(payload: { width: number; height: number }, job: Job): Promise<void> {
  job.asyncWrite(`${payload.width}x${payload.height}`);
}
export const notAJob = 42;
