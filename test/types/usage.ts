// Right and wrong uses of ringloop's types, checked by `tsc --noEmit` (test/types.test.mjs).
// Every `@ts-expect-error` line must be an error: tsc fails on one that is not.
import { Action, defineHandler, serve, type CloseError, type Conn, type Engine, type JobError } from 'ringloop';
import type * as Jobs from './jobs.js';

// --- Engine events: known names, typed listener arguments.
declare const engine: Engine;
engine.on('message', (msg, loop) => {
  const m: unknown = msg;
  const n: number = loop;
  void m, n;
});
engine.on('handlerError', (err, event, loop) => {
  const s: string = event + err.message;
  const n: number = loop;
  void s, n;
});
engine.on('reactorError', (err: Error, loop: number, lost: number) => void [err, loop, lost]);
engine.on('connectionLost', (ref, err) => void [ref.loop, ref.slot, ref.generation, err.message]);
engine.once('stopped', () => undefined);
engine.off('reactorRestarted', (loop: number) => void loop);
// @ts-expect-error -- unknown event name
engine.on('mesage', () => undefined);
// @ts-expect-error -- listener argument of the wrong type
engine.on('handlerError', (err: Error, event: number) => void [err, event]);
// @ts-expect-error -- 'stopped' has no arguments
engine.on('stopped', (x: string) => void x);

// --- Errors typed where they arrive.
export const errors = defineHandler({
  onClosed(c, err) {
    if (err?.code === 'ECONNRESET') return;
    if (err && 'errno' in err) {
      const errno: number = err.errno;
      void errno;
    }
    const e: CloseError | undefined = err;
    void [c.remoteAddr, e];
  },
  onJobError(c, err) {
    const code: 'EJOBFAILED' | 'EJOBTIMEOUT' | 'EJOBQUEUEFULL' = err.code;
    const j: JobError = err;
    void [c, code, j];
    return Action.Close;
  },
});
defineHandler({
  onJobError(c, err) {
    // @ts-expect-error -- not one of the job codes
    if (err.code === 'ECONNRESET') void c;
  },
});

// --- Unknown event names do not compile.
defineHandler({
  // @ts-expect-error -- onOpen is not an event (onOpened is)
  onOpen(c: Conn) {
    void c;
  },
});

// --- c.context typed by defineHandler<Context>.
interface Session {
  lines: number;
  user?: string;
}
export const withContext = defineHandler<Session>({
  onOpened(c) {
    c.context = { lines: 0 };
  },
  react(c) {
    c.context.lines++;
    const u: string | undefined = c.context.user;
    // @ts-expect-error -- not a field of Session
    c.context.line = 1;
    // @ts-expect-error -- lines is a number
    c.context.lines = 'many';
    void u;
  },
});
defineHandler<Session>({
  onOpened(c) {
    // @ts-expect-error -- not a Session
    c.context = { lines: '0' };
  },
});
// Without a Context, context is unknown (as on Conn).
defineHandler({
  react(c) {
    // @ts-expect-error -- unknown: narrow it first
    c.context.lines++;
  },
});

// --- Job names and payloads checked against the pool module's exports.
defineHandler<Session, typeof Jobs>({
  react(c) {
    c.offload('abc', { name: 'hash' });
    c.offload({ width: 1, height: 2 }, { name: 'resize', timeout: 100 });
    // @ts-expect-error -- no such job
    c.offload('abc', { name: 'hsah' });
    // @ts-expect-error -- an export that is not a job function
    c.offload('abc', { name: 'notAJob' });
    // @ts-expect-error -- hash takes a string
    c.offload(42, { name: 'hash' });
    // @ts-expect-error -- the module has no default job: the name is needed
    c.offload('abc');
  },
});
// Without the pool module's type, any name (checked at run time).
defineHandler({
  react(c) {
    c.offload({ any: 'payload' }, { name: 'whatever' });
    c.offload('default job');
  },
});

// --- A factory default export, typed the same way.
export const factory = defineHandler<Session>((info) => ({
  onOpened(c) {
    c.context = { lines: info.loop };
  },
}));

// --- serve() takes a module path or URL, or a handler object.
export async function start(): Promise<void> {
  const e = await serve(new URL('./handler.js', import.meta.url), 'tcp://127.0.0.1:0', { numEventLoop: 2 });
  await e.stop();
  const local = await serve(withContext, 'tcp://127.0.0.1:0', { numEventLoop: 1 });
  await local.stop();
  // @ts-expect-error -- no such option
  await serve('./handler.js', 'tcp://127.0.0.1:0', { numEventLoops: 2 });
}
