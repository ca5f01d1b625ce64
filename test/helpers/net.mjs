// Socket helpers for the ringloop end-to-end tests: real TCP and Unix-socket clients.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Rejects with `label` timed out after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the arguments of the next `event` on `emitter` (an array), or rejects on timeout. */
export function once(emitter, event, ms = 5000) {
  return withTimeout(
    new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
    ms,
    `waiting for '${event}'`,
  );
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A path for a Unix socket `name` in a fresh temp dir, removed in `t.teardown`. */
export function tmpSocketPath(t, name = 's.sock') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringloop-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

/** Port number of a resolved `tcp://host:port` address (also tcp4, tcp6, udp, udp4, udp6). */
export function portOf(addr) {
  const m = /^(?:tcp|udp|tls)[46]?:\/\/(.*):(\d+)$/.exec(addr);
  if (!m) throw new Error(`not a tcp or udp address: ${addr}`);
  return Number(m[2]);
}

/**
 * Buffers everything a socket receives from the moment it is created, so nothing is lost between
 * reads, and remembers EOF, close and errors.
 */
export class Reader {
  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.length = 0;
    this.ended = false;
    this.closed = false;
    this.error = null;
    this.waiters = new Set();
    socket.on('data', (chunk) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.#notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#notify();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.#notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#notify();
    });
  }

  #notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Waits until `check()` returns something other than undefined, or the timeout. */
  #until(check, ms, label) {
    return new Promise((resolve, reject) => {
      let timer;
      const w = () => {
        let v;
        try {
          v = check();
        } catch (err) {
          this.waiters.delete(w);
          clearTimeout(timer);
          reject(err);
          return;
        }
        if (v !== undefined) {
          this.waiters.delete(w);
          clearTimeout(timer);
          resolve(v);
        }
      };
      timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(
          new Error(
            `${label} timed out after ${ms} ms (buffered ${this.length} bytes, ended=${this.ended}, ` +
              `closed=${this.closed}, error=${this.error?.code ?? this.error?.message ?? 'none'})`,
          ),
        );
      }, ms);
      this.waiters.add(w);
      w();
    });
  }

  /** Consumes and returns `n` bytes. */
  take(n) {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  /** Everything buffered so far (consumed). */
  takeAll() {
    return this.take(this.length);
  }

  /** Resolves with exactly `n` bytes; rejects if the stream ends or errors first, or on timeout. */
  readExactly(n, ms = 5000) {
    return this.#until(
      () => {
        if (this.length >= n) return this.take(n);
        if (this.error) throw this.error;
        if (this.ended || this.closed)
          throw new Error(`stream ended after ${this.length} of ${n} bytes`);
        return undefined;
      },
      ms,
      `reading ${n} bytes`,
    );
  }

  /** Resolves with the bytes up to and including the first `delimiter` byte (default: newline). */
  readLine(ms = 5000, delimiter = 10) {
    return this.#until(
      () => {
        const at = this.chunks.length ? Buffer.concat(this.chunks).indexOf(delimiter) : -1;
        if (at >= 0) return this.take(at + 1);
        if (this.error) throw this.error;
        if (this.ended || this.closed) throw new Error(`stream ended after ${this.length} bytes without a delimiter`);
        return undefined;
      },
      ms,
      'reading a line',
    );
  }

  /** Resolves with all bytes received until EOF (the peer closed its side). */
  readToEnd(ms = 5000) {
    return this.#until(
      () => {
        if (this.ended) return this.takeAll();
        if (this.error) throw this.error;
        if (this.closed) throw new Error(`socket closed without EOF after ${this.length} bytes`);
        return undefined;
      },
      ms,
      'reading to EOF',
    );
  }

  /** Resolves once the socket has seen EOF or was closed, with how it ended. */
  waitEnded(ms = 5000) {
    return this.#until(
      () =>
        this.ended || this.closed || this.error
          ? { ended: this.ended, closed: this.closed, error: this.error }
          : undefined,
      ms,
      'waiting for EOF/close',
    );
  }

  /** Resolves once 'close' was emitted. */
  waitClosed(ms = 5000) {
    return this.#until(() => (this.closed ? true : undefined), ms, 'waiting for close');
  }
}

const readers = new WeakMap();

/** The Reader of a socket (created on first use; prefer `connect`, which creates it at once). */
export function readerOf(socket) {
  let r = readers.get(socket);
  if (!r) {
    r = new Reader(socket);
    readers.set(socket, r);
  }
  return r;
}

/**
 * Connects to 127.0.0.1:port, or to `port` given as net.connect options (`{ host, port }`,
 * `{ path }`). Resolves with the socket once connected; its Reader is attached immediately so no
 * byte is missed. Pass `{ reader: false }` to leave the socket unread (paused).
 */
export function connect(port, { host = '127.0.0.1', timeout = 5000, reader = true } = {}) {
  const target = typeof port === 'object' ? port : { port, host };
  return new Promise((resolve, reject) => {
    const socket = trackClose(net.connect(target));
    if (reader) readerOf(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${target.path ?? `${target.host}:${target.port}`} timed out after ${timeout} ms`));
    }, timeout);
    const onError = (err) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      // Errors after connect are recorded by the Reader (or ignored for unread sockets).
      if (!reader) socket.on('error', () => {});
      resolve(socket);
    });
  });
}

/** Connects and expects the connection to be refused; resolves with the error. */
export function connectExpectingError(port, { host = '127.0.0.1', timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} neither failed nor succeeded in ${timeout} ms`));
    }, timeout);
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} unexpectedly succeeded`));
    });
  });
}

/** Resolves with exactly `n` bytes received on `socket`. */
export function readExactly(socket, n, timeout = 5000) {
  return readerOf(socket).readExactly(n, timeout);
}

/** Writes and resolves once the data was handed to the kernel. */
export function write(socket, data) {
  return new Promise((resolve, reject) => {
    socket.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/** `host:port` of the client side of `socket`, as the server sees it in `c.remoteAddr`. */
export function localAddrOf(socket) {
  return `${socket.localAddress}:${socket.localPort}`;
}

/**
 * Sockets whose 'close' event has fired. `socket.destroyed && socket.closed` is not that: a socket
 * that saw EOF ends and destroys itself, and both flags are true while its handle is still closing
 * (it is still counted by process.getActiveResourcesInfo() and 'close' is yet to come).
 */
const closeSeen = new WeakSet();
const tracked = new WeakSet();

/** Records when `socket` (just created) emits 'close', so `destroyAll` can wait for exactly that. */
export function trackClose(socket) {
  if (!tracked.has(socket)) {
    tracked.add(socket);
    socket.once('close', () => closeSeen.add(socket));
  }
  return socket;
}

/**
 * Destroys sockets and waits for their 'close' (the handle is released by then). The sockets must
 * come from `connect` or `openClient` (or have been passed to `trackClose` when created), else a
 * 'close' that fired already cannot be told from one still to come.
 */
export async function destroyAll(sockets, ms = 5000) {
  await withTimeout(
    Promise.all(
      sockets.map(
        (s) =>
          new Promise((resolve, reject) => {
            if (closeSeen.has(s)) return resolve();
            if (s.destroyed && !tracked.has(s))
              return reject(new Error('destroyAll: a destroyed socket not made by connect/openClient/trackClose'));
            s.once('close', resolve);
            s.destroy();
          }),
      ),
    ),
    ms,
    'closing client sockets',
  );
}

/** Resolves with a socket connected to 127.0.0.1:port (rejects on a connect error). */
export function openClient(port) {
  return new Promise((resolve, reject) => {
    const s = trackClose(net.connect(port, '127.0.0.1', () => resolve(s)));
    s.on('error', reject);
  });
}

/** Writes `msg` and resolves with the next chunk received, as a string. */
export async function ask(s, msg) {
  s.write(msg);
  return String(await new Promise((r) => s.once('data', r)));
}
