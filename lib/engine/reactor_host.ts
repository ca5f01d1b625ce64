/**
 * Engine wing: runs on the engine's (main) thread, the one that called serve().
 *
 * How the engine drives one reactor, wherever it runs: in a worker thread (the normal case) or on
 * the engine's own thread (a handler object with one loop). Both speak the same small protocol.
 */
import { Worker } from 'node:worker_threads';
import { Reactor, type ReactorConfig } from '../reactor/reactor.js';
import { setEngineSink } from '../channel/post.js';
import type { EventHandler } from '../handler.js';
import type { JobRequest } from '../pool/tasks.js';
import type { ConnRef } from '../conn.js';
import type { ReactorWorkerData } from '../../workers/reactor.js';
import { fromErrorData, type ErrorData } from './load_error.js';

export interface HostEvents {
  message(msg: unknown, loop: number): void;
  shutdown(): void;
  handlerError(err: Error, event: string, loop: number): void;
  /** The reactor died without being asked to stop (uncaught error, worker exit). */
  died(err: Error, loop: number): void;
  /** A batch of offloaded jobs (only wired when the engine has a pool). */
  offload: ((jobs: JobRequest[]) => void) | null;
}

export interface ReactorHost {
  readonly index: number;
  /** Resolves once the handler is loaded and the loop runs; rejects with the load error. */
  readonly ready: Promise<void>;
  /** Resolves once every connection closed after a stop (or the reactor is gone). */
  readonly stopped: Promise<void>;
  init(addrs: readonly string[]): Promise<void>;
  forceClose(): void;
  /** Tells the reactor a job of one of its connections failed. */
  jobError(ref: ConnRef, err: Error): void;
  /** Frees the thread (after `stopped`, or to abort a failed start). */
  terminate(): Promise<void>;
}

const workerUrl = new URL('../../workers/reactor.js', import.meta.url);

type Msg = { t: string; msg?: unknown; message?: string; stack?: string; event?: string; jobs?: JobRequest[]; error?: ErrorData };

export class WorkerHost implements ReactorHost {
  readonly index: number;
  readonly ready: Promise<void>;
  readonly stopped: Promise<void>;
  private readonly worker: Worker;
  private initDone: (() => void) | undefined;
  private resolveStopped!: () => void;
  private exited = false;
  private stopping = false;

  constructor(data: ReactorWorkerData, events: HostEvents) {
    this.index = data.config.index;
    this.worker = new Worker(workerUrl, { workerData: data, stdout: false, stderr: false });
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    this.ready = new Promise((resolve, reject) => {
      let started = false;
      this.worker.on('message', (m: Msg) => {
        switch (m.t) {
          case 'ready':
            started = true;
            resolve();
            break;
          case 'loadError':
            reject(m.error ? fromErrorData(m.error) : new Error(m.message));
            break;
          case 'initDone':
            this.initDone?.();
            break;
          case 'user':
            events.message(m.msg, this.index);
            break;
          case 'jobs':
            events.offload?.(m.jobs ?? []);
            break;
          case 'shutdown':
            events.shutdown();
            break;
          case 'handlerError': {
            const err = new Error(m.message);
            if (m.stack) err.stack = m.stack;
            events.handlerError(err, m.event ?? 'unknown', this.index);
            break;
          }
          case 'stopped':
            this.stopping = true;
            this.resolveStopped();
            break;
        }
      });
      // An uncaught error is followed by 'exit': report the first, once.
      let reported = false;
      const died = (err: Error): void => {
        if (reported || this.stopping) return;
        reported = true;
        events.died(err, this.index);
      };
      this.worker.on('error', (err) => {
        if (!started) reject(err);
        else died(err);
      });
      this.worker.on('exit', (code) => {
        this.exited = true;
        if (!started) reject(new Error(`reactor ${this.index} exited during start (code ${code})`));
        else died(new Error(`reactor ${this.index} exited (code ${code})`));
        this.resolveStopped();
      });
    });
  }

  init(addrs: readonly string[]): Promise<void> {
    return new Promise((resolve) => {
      this.initDone = resolve;
      this.worker.postMessage({ t: 'init', addrs });
    });
  }

  forceClose(): void {
    if (!this.exited) this.worker.postMessage({ t: 'forceClose' });
  }

  jobError(ref: ConnRef, err: Error): void {
    const code = (err as Error & { code?: string }).code;
    if (!this.exited) this.worker.postMessage({ t: 'jobError', ref, message: err.message, code });
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    if (!this.exited) await this.worker.terminate();
  }
}

/** A reactor on the engine's own thread: for handler objects (closures cannot cross threads). */
export class LocalHost implements ReactorHost {
  readonly index: number;
  readonly ready: Promise<void>;
  readonly stopped: Promise<void>;
  private readonly reactor: Reactor;
  private resolveStopped!: () => void;

  constructor(
    config: ReactorConfig,
    handler: EventHandler,
    events: HostEvents,
    private readonly handlerOptions: unknown,
  ) {
    this.index = config.index;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    setEngineSink((msg) => events.message(msg, this.index));
    this.reactor = new Reactor(config, handler, {
      post: (msg) => events.message(msg, this.index),
      shutdown: () => events.shutdown(),
      handlerError: (err, event) => events.handlerError(err, event, this.index),
      offload: events.offload,
      stopped: () => {
        this.reactor.destroy();
        setEngineSink(undefined);
        this.resolveStopped();
      },
    });
    this.reactor.start();
    this.ready = Promise.resolve();
  }

  init(addrs: readonly string[]): Promise<void> {
    this.reactor.init({ loop: this.index, loops: 1, addrs, options: this.handlerOptions });
    return Promise.resolve();
  }

  forceClose(): void {
    this.reactor.forceClose();
  }

  jobError(ref: ConnRef, err: Error): void {
    this.reactor.jobFailed(ref, err);
  }

  terminate(): Promise<void> {
    this.reactor.destroy();
    setEngineSink(undefined);
    this.resolveStopped();
    return Promise.resolve();
  }
}
