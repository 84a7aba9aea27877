// Measurement pieces of the tunnel benchmark: TLS openers, interleaved GET latencies, the
// head-of-line figure and stalled streams. Each takes what it dials as a function, so the same
// code measures the direct path, the relay chain and the tunnel.
import { once } from 'node:events';
import { type Agent as HttpsAgent, get as httpsGet } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

import { pullBulk, pushBulk } from './bulk-kit.ts';
import { type PidGroup, sleep, withCpu } from './bench-kit.ts';

/** Opens a stream: a TCP/TLS connection, a relay hop or a tunnel dial. */
export type Open = () => Promise<Duplex>;

/** TLS to `host:port` (or over `socket`), resolved once the handshake is done. */
export async function tlsOpen(options: ConnectionOptions): Promise<Duplex> {
  const tls = tlsConnect({ servername: 'localhost', ...options });
  try {
    await once(tls, 'secureConnect');
  } catch (err) {
    tls.destroy();
    throw err;
  }
  return tls;
}

/** Timed push of `bytes` over a freshly opened stream; MB/s (see {@link pushBulk}). */
export async function bulkRate(open: Open, bytes: number, chunk: Buffer): Promise<number> {
  return pushBulk(await open(), bytes, chunk);
}

/** One path of {@link bulkRounds}: how to open it, and whose CPU to count into `cpu`. */
export interface BulkPath {
  readonly open: Open;
  /** Processes whose CPU seconds during this path's pushes go into `cpu`, index by index. */
  readonly cpuOf?: { readonly pids: readonly PidGroup[]; readonly cpu: number[] };
}

/**
 * `rounds` rounds of one timed push of `bytes` over each of `paths`, back to back in an order
 * that rotates by one every round (so that no path always follows the same one); resolves the
 * MB/s of each path, round by round.
 */
export async function bulkRounds<K extends string>(
  paths: Record<K, BulkPath>,
  rounds: number,
  bytes: number,
  chunk: Buffer,
): Promise<Record<K, number[]>> {
  const names = Object.keys(paths) as K[];
  const rates = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length] as K;
      const { open, cpuOf } = paths[name];
      const measure = () => bulkRate(open, bytes, chunk);
      rates[name].push(
        await (cpuOf === undefined ? measure() : withCpu(cpuOf.pids, cpuOf.cpu, measure)),
      );
    }
  }
  return rates;
}

/** Timed read of `bytes` from a freshly opened stream to an endless source; MB/s. */
export async function downloadRate(open: Open, bytes: number): Promise<number> {
  return pullBulk(await open(), bytes);
}

/** One HTTPS GET of `/` through `agent`; ms from request to the end of the response. */
function getOnce(agent: HttpsAgent, target: string, ca: string): Promise<number> {
  const [host, port] = target.split(':') as [string, string];
  return new Promise<number>((resolve, reject) => {
    const started = process.hrtime.bigint();
    httpsGet({ host, port: Number(port), path: '/', agent, ca, servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/**
 * GET latencies through each of `agents`, interleaved (one GET per agent per turn, the order
 * alternating) so that every path sees the same background load. 50 warm-up turns first
 * (connections up, JIT done). Returns one sorted list per agent.
 */
export async function interleavedGets(
  agents: readonly HttpsAgent[],
  target: string,
  ca: string,
  count: number,
): Promise<number[][]> {
  const out = agents.map((): number[] => []);
  for (let turn = -50; turn < count; turn++) {
    for (let k = 0; k < agents.length; k++) {
      const i = turn % 2 === 0 ? k : agents.length - 1 - k;
      const ms = await getOnce(agents[i] as HttpsAgent, target, ca);
      if (turn >= 0) out[i]?.push(ms);
    }
  }
  return out.map((list) => list.sort((a, b) => a - b));
}

/** MB/s of `streams` parallel pushes of `bytesPerStream` each. */
export async function parallelRate(
  open: Open,
  streams: number,
  bytesPerStream: number,
  chunk: Buffer,
): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: streams }, open));
  const started = process.hrtime.bigint();
  await Promise.all(sockets.map((s) => pushBulk(s, bytesPerStream, chunk)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (streams * bytesPerStream) / 1e6 / seconds;
}

/**
 * Opens `count` streams to a source that writes as fast as it can, pauses their readers and
 * waits `settleMs` for every buffer on the way (windows, socket buffers) to fill.
 */
export async function stalledStreams(
  open: Open,
  count: number,
  settleMs: number,
): Promise<Duplex[]> {
  const streams = await Promise.all(Array.from({ length: count }, open));
  for (const s of streams) {
    s.on('error', () => {});
    s.pause();
  }
  await sleep(settleMs);
  return streams;
}
