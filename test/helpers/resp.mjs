// RESP2 on the client side, for the tests of the redis example: commands as bytes, replies as raw
// byte ranges (to compare with a real redis-server's byte for byte), a reader over one socket,
// and a redis-server of its own for a test.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, destroyAll, readerOf, sleep, withTimeout } from './net.mjs';

/** A command as RESP: an array of bulk strings (Buffers are sent as they are, the rest as strings). */
export function encode(...args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'latin1');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** The offset just past the reply that starts at `off` in `buf`, or -1 if it is not complete. */
export function replyEnd(buf, off) {
  if (off >= buf.length) return -1;
  const nl = buf.indexOf('\r\n', off);
  if (nl < 0) return -1;
  const n = Number(buf.toString('latin1', off + 1, nl));
  switch (buf[off]) {
    case 0x2b: // +
    case 0x2d: // -
    case 0x3a: // :
      return nl + 2;
    case 0x24: // $
      if (n < 0) return nl + 2;
      return nl + 2 + n + 2 <= buf.length ? nl + 2 + n + 2 : -1;
    case 0x2a: { // *
      let at = nl + 2;
      for (let i = 0; i < n; i++) {
        at = replyEnd(buf, at);
        if (at < 0) return -1;
      }
      return at;
    }
    default:
      throw new Error(`bad reply byte ${buf[off]} at ${off}: ${JSON.stringify(buf.toString('latin1', off, off + 40))}`);
  }
}

/** The elements of an array reply (raw bytes each), or null if `reply` is not an array. */
export function elementsOf(reply) {
  if (reply[0] !== 0x2a) return null;
  const nl = reply.indexOf('\r\n');
  const n = Number(reply.toString('latin1', 1, nl));
  const out = [];
  let at = nl + 2;
  for (let i = 0; i < n; i++) {
    const end = replyEnd(reply, at);
    out.push(reply.subarray(at, end));
    at = end;
  }
  return out;
}

/** A RESP connection that hands back each reply as its raw bytes. */
export class RawClient {
  static async open(port) {
    const c = new RawClient();
    c.socket = await connect(port);
    c.reader = readerOf(c.socket);
    return c;
  }

  /** Sends the commands (arrays of arguments) in one write; resolves with one raw reply each. */
  async pipeline(commands, ms = 10000) {
    this.socket.write(Buffer.concat(commands.map((args) => encode(...args))));
    return this.replies(commands.length, ms);
  }

  async replies(n, ms = 10000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const all = this.reader.chunks.length ? Buffer.concat(this.reader.chunks) : Buffer.alloc(0);
      const out = [];
      let at = 0;
      while (out.length < n) {
        const end = replyEnd(all, at);
        if (end < 0) break;
        out.push(Buffer.from(all.subarray(at, end)));
        at = end;
      }
      if (out.length === n) {
        this.reader.take(at);
        return out;
      }
      if (this.reader.ended || this.reader.closed) throw new Error(`connection ended after ${out.length} of ${n} replies`);
      if (Date.now() > deadline) throw new Error(`timed out after ${out.length} of ${n} replies`);
      await sleep(2);
    }
  }

  close() {
    return destroyAll([this.socket]);
  }
}

/** Whether `cmd` is on the PATH. */
export function has(cmd) {
  try {
    execFileSync('which', [cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a redis-server of the test's own: a random port on 127.0.0.1, no persistence
 * (`--save '' --appendonly no`), a temp dir, `extra` arguments; stopped and removed in teardown.
 * Resolves with its port once it answers PING.
 */
export async function startRedisServer(t, extra = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringloop-redis-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const up = await withTimeout(
      (async () => {
        while (child.exitCode === null) {
          try {
            const c = await RawClient.open(port);
            const [pong] = await c.pipeline([['PING']], 2000).finally(() => c.close());
            if (pong.toString() === '+PONG\r\n') return true;
          } catch {
            await sleep(50);
          }
        }
        return false;
      })(),
      10000,
      'redis-server start',
    );
    if (up) {
      t.teardown(async () => {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      });
      return port;
    }
    // The port was taken between freePort and the bind: try another one.
    if (attempt === 2) throw new Error(`redis-server did not start: ${out}`);
  }
}
