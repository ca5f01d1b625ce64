/**
 * The events an `Engine` emits, with their listener arguments, so `engine.on(...)` is checked:
 * an unknown name does not compile and every listener argument is typed. Types only.
 */
import type { ConnRef } from './conn.js';

/** Event name → listener arguments. Listeners run on the engine's (main) thread. */
export interface EngineEvents {
  /** A handler called `postToEngine(msg)` in reactor `loop` (`msg` structured-cloned). */
  message: [msg: unknown, loop: number];
  /** A handler's `event` threw `err` in reactor `loop` (logged to stderr when nobody listens). */
  handlerError: [err: Error, event: string, loop: number];
  /** Reactor `loop`'s thread died; `lost` connections were closed by its teardown. */
  reactorError: [err: Error, loop: number, lost: number];
  /** One per connection a dead reactor held: the `onClosed` its handler could not run. */
  connectionLost: [ref: ConnRef, err: Error];
  /** Reactor `loop` runs again (with `restartReactors`). */
  reactorRestarted: [loop: number];
  /** The engine has stopped. */
  stopped: [];
}

/** The name of an engine event. */
export type EngineEventName = keyof EngineEvents;

/** A listener of engine event `K`. */
export type EngineListener<K extends EngineEventName> = (...args: EngineEvents[K]) => void;
