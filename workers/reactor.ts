/**
 * Reactor worker entry: loads the user's handler module, builds the reactor (native loop nested in
 * this thread's libuv loop) and speaks the small control protocol with the engine:
 *   engine -> worker: init {addrs} | forceClose
 *   worker -> engine: ready | loadError {message, error} | initDone | user {msg} | shutdown |
 *                     handlerError {message, stack, event} | stopped
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Reactor, type ReactorConfig } from '../lib/reactor/reactor.js';
import { loadHandler } from '../lib/engine/handler_loader.js';
import { errorData } from '../lib/engine/load_error.js';
import { setEngineSink } from '../lib/channel/post.js';
import type { InitInfo } from '../lib/handler.js';
import { Remote } from '../lib/channel/remote.js';
import type { ConnRef } from '../lib/conn.js';
import { JobSubmitter } from '../lib/pool/producer.js';

export interface ReactorWorkerData {
  config: ReactorConfig;
  handlerUrl: string;
  handlerOptions: unknown;
  /**
   * The engine pool's job channel (lib/pool/queue.ts) when it has one: jobs go straight to the
   * pool threads through it; what it cannot carry is posted to the engine.
   */
  pool: SharedArrayBuffer | null;
}

const port = parentPort!;
const data = workerData as ReactorWorkerData;

async function main(): Promise<void> {
  const baseInfo: InitInfo = {
    loop: data.config.index,
    loops: data.config.loops,
    addrs: [],
    options: data.handlerOptions,
    remote: new Remote(data.config.handle),
    handle: data.config.handle,
  };
  let reactor: Reactor;
  let submitter: JobSubmitter | undefined;
  try {
    const handler = await loadHandler(data.handlerUrl, baseInfo);
    setEngineSink((msg) => port.postMessage({ t: 'user', msg }));
    reactor = new Reactor(data.config, handler, {
      post: (msg) => port.postMessage({ t: 'user', msg }),
      shutdown: () => port.postMessage({ t: 'shutdown' }),
      handlerError: (err, event) => port.postMessage({ t: 'handlerError', message: err.message, stack: err.stack, event }),
      offload: data.pool ? (jobs) => submitter!.submit(jobs) : null,
      stopped: () => {
        reactor.destroy();
        port.postMessage({ t: 'stopped' });
        port.close();
      },
    });
    if (data.pool) {
      const r = reactor;
      submitter = new JobSubmitter(
        data.pool,
        (jobs) => port.postMessage({ t: 'jobs', jobs }),
        (ref, err) => r.jobFailed(ref, err),
      );
    }
    reactor.start();
  } catch (e) {
    port.postMessage({ t: 'loadError', message: e instanceof Error ? e.message : String(e), error: errorData(e) });
    port.close();
    return;
  }
  port.on('message', (m: { t: string; addrs?: string[]; ref?: ConnRef; message?: string; code?: string }) => {
    if (m.t === 'init') {
      reactor.init({ ...baseInfo, addrs: m.addrs ?? [] });
      port.postMessage({ t: 'initDone' });
    } else if (m.t === 'forceClose') {
      reactor.forceClose();
    } else if (m.t === 'jobError' && m.ref) {
      const err = new Error(m.message) as Error & { code?: string };
      err.code = m.code;
      reactor.jobFailed(m.ref, err);
    }
  });
  port.postMessage({ t: 'ready' });
}

void main();
