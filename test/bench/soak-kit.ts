// Parent-side pieces of the soak benchmark (test/bench/soak.ts): restartable child processes
// that answer probes, TCP socket counts from /proc, and the pattern target the tunnel streams
// dial (both directions checked byte for byte).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

import { type Child, rssKiB, startChild } from './bench-kit.ts';
import type { ProbeAnswer, ProbeMemory } from './soak-probe.ts';

/** One reading of a child: its tunnel counters, active resources, TCP sockets, memory. */
export interface Reading {
  readonly stats: Record<string, number>;
  readonly resources: Record<string, number>;
  readonly tcpSockets: number;
  readonly rssKiB: number;
  /** The anonymous (not file-backed) part of the RSS: heaps, malloc arenas, stacks. */
  readonly anonKiB: number;
  /** The child's own view after the GC: V8 heap used and committed, Buffers, V8's mallocs. */
  readonly memory: ProbeMemory;
  /**
   * RSS the checkpoint's last-resort collection gave back, KiB: heap pages V8 had kept mapped
   * for reuse (bench-kit's `collectGarbage`), which follow the heap's high-water mark.
   */
  readonly v8PooledKiB: number;
  readonly at: number;
}

/**
 * A child process the soak restarts: `restart(signal)` ends the running one (SIGTERM lets it
 * close gracefully, SIGKILL is a crash) and starts the same script again; `generation` counts
 * starts. `probe()` asks the running child for its counters over IPC.
 */
export class SoakProcess {
  readonly name: string;
  readonly #script: string;
  readonly #args: string[];
  #child: Child | undefined;
  #nextProbe = 1;
  generation = 0;
  startedAt = 0;
  /** The idle reading of the current generation, once taken (see soak.ts). */
  baseline: Reading | undefined;

  readonly #nodeArgs: readonly string[];

  /** `nodeArgs`: Node flags of the process (besides `--expose-gc`). */
  constructor(name: string, script: string, args: string[], nodeArgs: readonly string[] = []) {
    this.name = name;
    this.#script = script;
    this.#args = args;
    this.#nodeArgs = nodeArgs;
  }

  get pid(): number {
    if (this.#child === undefined) throw new Error(`${this.name} is not running`);
    return this.#child.pid;
  }

  async start(): Promise<void> {
    this.#child = startChild(this.#script, this.#args, this.name, [
      '--expose-gc',
      ...this.#nodeArgs,
    ]);
    this.generation++;
    this.startedAt = performance.now();
    this.baseline = undefined;
    await this.#child.message(120_000);
  }

  async restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child !== undefined) {
      const exited = new Promise<void>((resolve) => {
        if (child.proc.exitCode !== null || child.proc.signalCode !== null) resolve();
        else child.proc.once('exit', () => resolve());
      });
      child.proc.kill(signal);
      const bound = setTimeout(() => child.proc.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(bound);
    }
    await this.start();
  }

  probe(timeoutMs = 10_000): Promise<ProbeAnswer> {
    const child = this.#child;
    if (child === undefined) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.#nextProbe++;
    return new Promise<ProbeAnswer>((resolve, reject) => {
      const onMessage = (m: unknown): void => {
        if (typeof m !== 'object' || m === null || (m as { probe?: unknown }).probe !== id) return;
        clearTimeout(timer);
        child.proc.off('message', onMessage);
        resolve(m as ProbeAnswer);
      };
      const timer = setTimeout(() => {
        child.proc.off('message', onMessage);
        reject(new Error(`${this.name}: no answer to a probe within ${timeoutMs} ms`));
      }, timeoutMs);
      child.proc.on('message', onMessage);
      child.proc.send({ probe: id });
    });
  }

  /**
   * A full GC in the child, then a last-resort one that unmaps V8's pooled heap pages; resolves
   * to the KiB of RSS those gave back.
   */
  async collectGarbage(): Promise<number> {
    return (await this.#child?.collectGarbage({ releasePooledPages: true })) ?? 0;
  }

  /**
   * A full GC in the child, then its reading; `v8PooledKiB` is what {@link collectGarbage}
   * released before it.
   */
  async read(v8PooledKiB = 0): Promise<Reading> {
    await this.#child?.collectGarbage();
    const answer = await this.probe();
    return {
      stats: answer.stats,
      resources: answer.resources,
      tcpSockets: tcpSockets(this.pid),
      rssKiB: rssKiB(this.pid),
      anonKiB: anonOf(this.pid),
      memory: answer.memory,
      v8PooledKiB,
      at: performance.now(),
    };
  }

  stop(): Promise<void> {
    return this.#child?.stop() ?? Promise.resolve();
  }
}

/** Anonymous resident memory of a process, KiB (smaps_rollup). */
function anonOf(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Anonymous:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
}

/**
 * TCP sockets (listening or connected, IPv4 or IPv6) the process holds: its socket fds whose
 * inode appears in /proc/<pid>/net/tcp{,6}.
 */
export function tcpSockets(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) inodes.add(m[1]);
    } catch {
      // The fd closed meanwhile.
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode !== undefined && inodes.has(inode)) count++;
    }
  }
  return count;
}

// ---- the pattern target ----

/**
 * Bytes the pattern target and the streams index into: byte i of stream `seed` is
 * PATTERN[(seed + i) % size].
 */
export const PATTERN = Buffer.from(
  Array.from({ length: 1 << 16 }, (_, i) => (i * 2_654_435_761) >>> 13),
);
export const HEADER_BYTES = 12;
export const VERDICT_OK = 0x01;
export const VERDICT_BAD = 0x00;

/** `length` bytes of the pattern from position `from` of stream `seed`. */
export function patternSlice(seed: number, from: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let written = 0;
  while (written < length) {
    const at = (seed + from + written) % PATTERN.length;
    const n = Math.min(length - written, PATTERN.length - at);
    PATTERN.copy(out, written, at, at + n);
    written += n;
  }
  return out;
}

/**
 * The target tunnel streams dial: the client sends a 12-byte header (up length, down length,
 * seed; u32 big-endian each), then `up` pattern bytes; the target sends `down` pattern bytes
 * at once and, once the `up` bytes are in, one verdict byte (VERDICT_OK when every byte was the
 * pattern's), then ends after the client's end. A client that goes away mid-way is normal here
 * (cancel, reset); `stats.badUp` counts wrong bytes received.
 */
export function startPatternTarget(): Promise<{
  server: Server;
  port: number;
  stats: { connections: number; badUp: number; open: number };
}> {
  const stats = { connections: 0, badUp: 0, open: 0 };
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    stats.connections++;
    stats.open++;
    socket.on('error', () => undefined);
    socket.on('close', () => stats.open--);
    let header: Buffer | undefined = Buffer.alloc(0);
    let up = 0;
    let seed = 0;
    let received = 0;
    let good = true;
    let downDone = false;
    let answered = false;
    let clientEnded = false;
    // The verdict goes after every down byte; the end after the verdict and the client's end.
    const settle = (): void => {
      if (!answered && downDone && header === undefined && received === up) {
        answered = true;
        if (!good) stats.badUp++;
        socket.write(Buffer.from([good ? VERDICT_OK : VERDICT_BAD]));
      }
      if (clientEnded && (downDone || header !== undefined)) socket.end();
    };
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (header !== undefined) {
        header = Buffer.concat([header, data]);
        if (header.length < HEADER_BYTES) return;
        up = header.readUInt32BE(0);
        const down = header.readUInt32BE(4);
        seed = header.readUInt32BE(8);
        data = header.subarray(HEADER_BYTES);
        header = undefined;
        sendDown(socket, seed, down, () => {
          downDone = true;
          settle();
        });
      }
      if (data.length > 0) {
        const take = Math.min(data.length, up - received);
        if (take < data.length) good = false;
        if (!data.subarray(0, take).equals(patternSlice(seed, received, take))) good = false;
        received += take;
      }
      settle();
    });
    socket.on('end', () => {
      clientEnded = true;
      settle();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, stats });
    });
  });
}

/** Writes `down` pattern bytes in 64 KiB pieces, with backpressure; then calls `done`. */
function sendDown(socket: Socket, seed: number, down: number, done: () => void): void {
  let sent = 0;
  const more = (): void => {
    if (socket.destroyed) return;
    while (sent < down) {
      const n = Math.min(64 * 1024, down - sent);
      const ok = socket.write(patternSlice(seed, sent, n));
      sent += n;
      if (!ok) {
        socket.once('drain', more);
        return;
      }
    }
    done();
  };
  more();
}
