import { spawn, type ChildProcess } from 'node:child_process';
import { formatListenUrl, parseListeningLine, type ListenAddr } from './addr.js';

export interface ServerHandle {
  name: string;
  pid: number;
  url: string;
  addr: ListenAddr;
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  stderrTail(): string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopInfo extends ExitInfo {
  /** SIGTERM was not enough within the grace period. */
  forced: boolean;
  /** Processes of the server's group were still around after it exited. */
  strays: boolean;
}

const TAIL_BYTES = 4096;

// Servers run in their own process group (detached) so a stuck cluster can be
// killed as a unit; that also means our own Ctrl-C no longer reaches them,
// hence this registry for the runner's exit handler.
const live = new Set<ServerHandle>();

export function killAllServers(): void {
  for (const h of live) killGroup(h.pid, 'SIGKILL');
  live.clear();
}

function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function tailBuffer(): { push(chunk: Buffer): void; text(): string } {
  let buf = Buffer.alloc(0);
  return {
    push(chunk) {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > TAIL_BYTES) buf = buf.subarray(buf.length - TAIL_BYTES);
    },
    text: () => buf.toString('utf8').trim(),
  };
}

/**
 * Spawns a server and resolves once it prints `listening <url>` (tcp://host:port,
 * udp://host:port or unix:///path).
 * Rejects with the server's stderr if it exits first or stays silent too long.
 */
export function startServer(
  name: string,
  argv: readonly string[],
  opts: { cwd: string; timeoutMs: number },
): Promise<ServerHandle> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new Error(`${name}: empty command line`));
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stderr = tailBuffer();
  child.stderr?.on('data', (c: Buffer) => stderr.push(c));
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const commandLine = argv.join(' ');

  return new Promise<ServerHandle>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const settle = (err: Error | null, handle?: ServerHandle): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
        reject(err);
      } else if (handle) {
        live.add(handle);
        resolve(handle);
      }
    };
    const describe = (what: string): Error => {
      const tail = stderr.text();
      return new Error(`${name}: ${what}\n  command: ${commandLine}${tail ? `\n  stderr:\n${indent(tail)}` : ''}`);
    };
    const timer = setTimeout(
      () => settle(describe(`no 'listening <url>' line on stdout within ${opts.timeoutMs / 1000} s`)),
      opts.timeoutMs,
    );

    child.once('error', (err) => settle(describe(`could not start: ${err.message}`)));
    void exited.then(({ code, signal }) =>
      settle(describe(`exited before listening (code ${code ?? '-'}, signal ${signal ?? '-'})`)),
    );
    // Keep reading stdout after the line: a full pipe would block the server.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (settled) return;
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let addr: ListenAddr | null;
        try {
          addr = parseListeningLine(line);
        } catch (err) {
          settle(describe(`bad listening line '${line}': ${(err as Error).message}`));
          return;
        }
        if (addr === null || child.pid === undefined) continue;
        const pid = child.pid;
        settle(null, { name, pid, url: formatListenUrl(addr), addr, child, exited, stderrTail: stderr.text });
        return;
      }
    });
  });
}

/** SIGTERM, wait up to graceMs, then SIGKILL the whole process group. */
export async function stopServer(h: ServerHandle, graceMs: number): Promise<StopInfo> {
  let forced = false;
  if (h.child.exitCode === null && h.child.signalCode === null) {
    h.child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([h.exited, timeout])) === 'timeout') {
      forced = true;
      killGroup(h.pid, 'SIGKILL');
    }
  }
  const info = await h.exited;
  // The leader is gone; signal 0 to the group tells us whether workers linger.
  const strays = killGroup(h.pid, 0);
  if (strays) killGroup(h.pid, 'SIGKILL');
  live.delete(h);
  return { ...info, forced, strays };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
