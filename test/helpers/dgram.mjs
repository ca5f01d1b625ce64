// UDP helpers for the ringloop end-to-end tests: real datagram sockets on 127.0.0.1 / ::1.
import dgram from 'node:dgram';
import { withTimeout } from './net.mjs';

/** "host:port" as the engine formats a peer ("[v6]:port" for IPv6). */
export function hostPort(address, port) {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * A UDP client bound to an ephemeral port on loopback (`family` 4: 127.0.0.1, 6: ::1). Records every
 * datagram it receives, with its sender, from the moment it is bound; closed in `t.teardown`.
 */
export class UdpClient {
  static async open(t, { family = 4, recvBufferSize } = {}) {
    const host = family === 6 ? '::1' : '127.0.0.1';
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize });
    const c = new UdpClient(socket, host);
    await withTimeout(new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    }), 5000, `binding a UDP socket on ${host}`);
    t.teardown(() => c.close());
    return c;
  }

  constructor(socket, host) {
    this.socket = socket;
    this.host = host;
    /** Every datagram received: `{ data: Buffer, from: "host:port" }`, in arrival order. */
    this.received = [];
    this.read = 0;
    this.errors = [];
    this.waiters = new Set();
    socket.on('message', (data, rinfo) => {
      this.received.push({ data, from: hostPort(rinfo.address, rinfo.port) });
      for (const w of [...this.waiters]) w();
    });
    socket.on('error', (err) => this.errors.push(err));
  }

  get port() {
    return this.socket.address().port;
  }

  /** This client as the server sees it in `c.remoteAddr`. */
  get addr() {
    return hostPort(this.host, this.port);
  }

  /** Sends one datagram to `port` on the client's own loopback host (or `host`). */
  send(data, port, host = this.host) {
    return withTimeout(
      new Promise((resolve, reject) => this.socket.send(data, port, host, (err) => (err ? reject(err) : resolve()))),
      5000,
      `sending a datagram to ${host}:${port}`,
    );
  }

  /** Resolves with the next `n` datagrams not yet taken (`{ data, from }`), or rejects on timeout. */
  take(n, ms = 5000) {
    return new Promise((resolve, reject) => {
      const w = () => {
        if (this.received.length - this.read < n) return;
        this.waiters.delete(w);
        clearTimeout(timer);
        const got = this.received.slice(this.read, this.read + n);
        this.read += n;
        resolve(got);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`waiting for ${n} datagrams on ${this.addr}: got ${this.received.length - this.read} after ${ms} ms`));
      }, ms);
      this.waiters.add(w);
      w();
    });
  }

  /** The next datagram's bytes as a string. */
  async next(ms = 5000) {
    const [d] = await this.take(1, ms);
    return String(d.data);
  }

  /** Datagrams received but not taken yet. */
  get pending() {
    return this.received.slice(this.read);
  }

  close() {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** Binds a plain UDP socket to `port` on `host` and closes it again; rejects with the bind error. */
export function bindOnce(port, host = '127.0.0.1') {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once('error', (err) => {
        socket.close();
        reject(err);
      });
      socket.bind(port, host, () => socket.close(() => resolve()));
    }),
    5000,
    `binding ${host}:${port}`,
  );
}

/** A loopback port nobody listens on (UDP): bound once by us, then released. */
export async function closedPort(host = '127.0.0.1') {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}
