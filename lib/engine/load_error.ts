// Engine wing: a reactor thread's start-up error crosses to the engine's thread as plain data (an
// Error's own fields do not all survive structured cloning); the engine rebuilds it there with
// its message, stack, code and chain of causes, so serve() rejects with the user's file and line.

/** An error as plain, cloneable data. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: ErrorData;
}

/** Flattens `e` (and up to 8 causes) into cloneable data. Runs in the reactor thread. */
export function errorData(e: unknown, depth = 0): ErrorData {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const code = (e as Error & { code?: unknown }).code;
  const d: ErrorData = { name: e.name, message: e.message, stack: e.stack };
  if (typeof code === 'string') d.code = code;
  if (e.cause !== undefined && depth < 8) d.cause = errorData(e.cause, depth + 1);
  return d;
}

/** Rebuilds the error on the engine's thread (the original's name, stack, code and causes). */
export function fromErrorData(d: ErrorData): Error {
  const err = d.cause ? new Error(d.message, { cause: fromErrorData(d.cause) }) : new Error(d.message);
  if (d.name !== 'Error') Object.defineProperty(err, 'name', { value: d.name, configurable: true, writable: true });
  if (d.stack) err.stack = d.stack;
  if (d.code) (err as Error & { code?: string }).code = d.code;
  return err;
}
