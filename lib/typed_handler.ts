/**
 * Types for `defineHandler<Context, Jobs>()`: a handler whose `c.context` has the type the user
 * names, and whose `c.offload(payload, { name })` is checked against the pool module's exports.
 * Types only; the events themselves are `EventHandler`'s (lib/handler.ts), whatever it grows.
 *
 * @example
 * ```ts
 * import { defineHandler } from 'ringloop';
 * import type * as Jobs from './jobs.js';          // the pool module: export function hash(p: string, job: Job) {...}
 * export default defineHandler<{ lines: number }, typeof Jobs>({
 *   onOpened(c) { c.context = { lines: 0 }; },
 *   react(c) { c.context.lines++; c.offload('abc', { name: 'hash' }); },  // 'hsah' does not compile
 * });
 * ```
 */
import type { Conn } from './conn.js';
import type { EventHandler, InitInfo } from './handler.js';
import type { Job } from './pool/job.js';

/** What a pool module exports as a job: `(payload, job)`. */
type JobFunction = (payload: never, job: Job) => unknown;

/** The names of the job functions a pool module (its `typeof import(...)`) exports. */
export type JobName<Jobs> = { [K in keyof Jobs & string]: Jobs[K] extends JobFunction ? K : never }[keyof Jobs & string];

/** The payload job `N` of pool module `Jobs` takes (its first parameter). */
export type JobPayload<Jobs, N extends string> = N extends keyof Jobs ? (Jobs[N] extends (payload: infer P, job: Job) => unknown ? P : never) : never;

/** `offload` of a connection whose pool module is `Jobs`: named jobs need `name`; the default export needs none. */
export type TypedOffload<Jobs> = (<N extends Exclude<JobName<Jobs>, 'default'>>(
  payload: JobPayload<Jobs, N>,
  options: { name: N; timeout?: number },
) => void) &
  ('default' extends JobName<Jobs> ? (payload: JobPayload<Jobs, 'default'>, options?: { name?: 'default'; timeout?: number }) => void : unknown);

/**
 * The `Conn` a typed handler's events get: `context` is `Context` (it is `undefined` until an
 * event sets it, usually `onOpened`: include `undefined` in `Context` if an event may run first),
 * and `offload` is checked against `Jobs` when given. With neither, exactly `Conn`.
 */
export type HandlerConn<Context = unknown, Jobs = unknown> = [unknown, unknown] extends [Context, Jobs]
  ? Conn
  : Omit<Conn, 'context' | 'offload'> & {
      context: Context;
      offload: unknown extends Jobs ? Conn['offload'] : TypedOffload<Jobs>;
    };

/** An event of `EventHandler` with its first parameter, when it is the connection, retyped. */
type WithConn<F, C> = F extends (...args: infer A) => infer R ? (A extends [Conn, ...infer Rest] ? (c: C, ...rest: Rest) => R : F) : F;

/** `EventHandler` whose events get `HandlerConn<Context, Jobs>`. Every event is loop-only. */
export type TypedHandler<Context = unknown, Jobs = unknown> = {
  [K in keyof EventHandler]?: WithConn<NonNullable<EventHandler[K]>, HandlerConn<Context, Jobs>>;
};

/** A typed handler module's default export: the handler, or a factory called once per reactor. */
export type TypedHandlerExport<Context = unknown, Jobs = unknown> = TypedHandler<Context, Jobs> | TypedHandlerFactory<Context, Jobs>;

/** A factory default export: called once per reactor with its `InitInfo`. */
export type TypedHandlerFactory<Context = unknown, Jobs = unknown> = (
  info: InitInfo,
) => TypedHandler<Context, Jobs> | Promise<TypedHandler<Context, Jobs>>;
