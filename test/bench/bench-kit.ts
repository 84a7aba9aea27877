// Shared pieces of the benchmarks: child processes, RSS, percentiles, medians, PKI files.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  type CertificateAuthority,
  createCa,
  generateKeyPair,
  issueCert,
  type IssuedCert,
  type KeyPair,
} from '../../certs/index.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/identity.ts';
import { type Allocator, allocatorEnv, chooseAllocator } from '../../bin/allocator.ts';
import { fetchJemalloc } from '../../bin/fetch-jemalloc.ts';
import { missingV8Flags } from '../../bin/v8-flags.ts';

export const MiB = 1024 * 1024;
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Makes this benchmark process run with the V8 `flags` of the spokelink command it plays (e.g.
 * the hub's): when Node was not given them (on its command line or in NODE_OPTIONS), the process
 * replaces itself with the same command, the flags added, as `spokelink` does. Same pid, stdout
 * and stderr. Call it before anything else runs.
 */
export function runWithV8Flags(flags: readonly string[]): void {
  const missing = missingV8Flags(flags, process.execArgv, process.env['NODE_OPTIONS']);
  if (missing.length === 0) return;
  if (process.execve === undefined) throw new Error('process.execve is missing (Node ≥ 23.11)');
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

/** Resident set size of a process, KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the ") " split, in clock ticks.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Processes counted as one: a pid, or several whose CPU seconds add up. */
export type PidGroup = number | readonly number[];

function groupCpuSeconds(group: PidGroup): number {
  return typeof group === 'number'
    ? cpuSeconds(group)
    : group.reduce((a, p) => a + cpuSeconds(p), 0);
}

/** Runs `fn`; adds the CPU seconds each of `pids` used meanwhile to `into` (index by index). */
export async function withCpu<T>(
  pids: readonly PidGroup[],
  into: number[],
  fn: () => Promise<T>,
): Promise<T> {
  const before = pids.map(groupCpuSeconds);
  const result = await fn();
  pids.forEach((group, i) => {
    into[i] = (into[i] ?? 0) + groupCpuSeconds(group) - (before[i] ?? 0);
  });
  return result;
}

/** CPU seconds the whole machine spent busy so far (all processes, all cores; /proc/stat). */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/) ?? [];
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const n = ticks.map(Number);
  return ((n[0] ?? 0) + (n[1] ?? 0) + (n[2] ?? 0) + (n[5] ?? 0) + (n[6] ?? 0) + (n[7] ?? 0)) / 100;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A PKI written to a temp folder: hub CA, server cert, hub client cert, agent certs. */
export interface BenchPki {
  dir: string;
  ca: CertificateAuthority;
  keyPair: KeyPair;
  server: IssuedCert;
  hubClient: IssuedCert;
  file(name: string, pem: string): string;
  agent(cluster: string, agentName: string): IssuedCert;
  remove(): void;
}

export function benchPki(): BenchPki {
  const dir = mkdtempSync(join(tmpdir(), 'spokelink-bench-'));
  const keyPair = generateKeyPair();
  const ca = createCa({ commonName: 'spokelink-bench-ca', keyPair });
  const pki: BenchPki = {
    dir,
    ca,
    keyPair,
    server: issueCert(ca, {
      commonName: 'proxy-server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server-client',
      keyPair,
    }),
    hubClient: issueCert(ca, { commonName: 'spokelink:hub:bench', usage: 'client', keyPair }),
    file(name, pem) {
      const path = join(dir, name);
      writeFileSync(path, pem, { mode: 0o600 });
      return path;
    },
    agent(cluster, agentName) {
      return issueCert(ca, {
        commonName: agentCommonName(cluster, agentName),
        organizations: [AGENT_ORGANIZATION],
        usage: 'client',
        keyPair,
      });
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pki;
}

/**
 * A child process running one of our entry points on this Node, killed at exit. Children bind
 * port 0 and report what they bound over IPC (`process.send`), so no port is picked here and
 * left free for someone else to take before the child binds it.
 */
export interface Child {
  proc: ChildProcess;
  readonly pid: number;
  /**
   * The child's first IPC message; rejects if the child exits first or sends nothing within
   * `timeoutMs`.
   */
  message<T>(timeoutMs?: number): Promise<T>;
  /**
   * A full garbage collection in the child (started with `--expose-gc`), so that an RSS read
   * next counts what is retained rather than what the collector has not reached yet. With
   * `releasePooledPages`, then a last-resort collection, which also unmaps the heap pages V8
   * keeps for reuse after collections (it keeps them resident: the RSS follows the heap's
   * high-water mark, not what is live); resolves to the KiB of RSS that gave back.
   */
  collectGarbage(options?: { readonly releasePooledPages?: boolean }): Promise<number>;
  /**
   * KiB of ArrayBuffer memory (Buffers) the child held after its latest
   * {@link collectGarbage}: what its code retains in buffers, which no allocator keeps or
   * reuses behind the figure's back as it may the RSS.
   */
  readonly arrayBuffersKiB: number;
  /** KiB of V8 heap in use after its latest {@link collectGarbage}: what its JavaScript holds. */
  readonly heapUsedKiB: number;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * The allocator the product's processes run on here (bin/allocator.ts): `spokelink` preloads
 * jemalloc where it is installed, so the benchmarks' children, which are the product's code
 * started without the CLI, get the same.
 */
let childAllocator: Allocator = chooseAllocator(process.env);
let childEnv = allocatorEnv(process.env, childAllocator) ?? process.env;

/**
 * Called by a benchmark's main script before it starts children: fetches Debian's jemalloc into
 * the cache when the machine has none (bin/fetch-jemalloc.ts), so that the children run on the
 * allocator the product is deployed with; where that fails they run on the system malloc, and
 * {@link describeAllocator} says why.
 */
export async function prepareAllocator(): Promise<void> {
  childAllocator = await fetchJemalloc();
  childEnv = allocatorEnv(process.env, childAllocator) ?? process.env;
}

/** The allocator the benchmarks' children run on, in words, for reports. */
export function describeAllocator(): string {
  return childAllocator.kind === 'jemalloc'
    ? `jemalloc (${childAllocator.library})`
    : `system malloc (${childAllocator.reason})`;
}

export interface StartChildOptions {
  /**
   * A baseline, not the product (the targets, the plain relay chain): it runs on the allocator
   * this process was started with, not the product's. jemalloc costs a Node process receiving
   * TLS ≈ 0.7 s/GB more than glibc's malloc here (a page fault per page received, in Node's TLS
   * input buffer), and a baseline slowed by the product's allocator would flatter the product.
   */
  readonly baseline?: boolean;
}

export function startChild(
  script: string,
  args: string[],
  name: string,
  nodeArgs: readonly string[] = [],
  options: StartChildOptions = {},
): Child {
  const profile = process.env['BENCH_CPU_PROF_DIR']
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF_DIR']}`]
    : [];
  const flags = [...new Set([...profile, ...nodeArgs])];
  const proc = spawn(process.execPath, [...flags, join(ROOT, script), ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: options.baseline === true ? process.env : childEnv,
  });
  children.add(proc);
  let tail = '';
  let arrayBuffersKiB = Number.NaN;
  let heapUsedKiB = Number.NaN;
  proc.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  proc.on('error', (err) => process.stderr.write(`${name}: ${err.message}\n`));
  const exited = new Promise<void>((resolve) => {
    proc.on('exit', (code, signal) => {
      children.delete(proc);
      if (code !== 0 && code !== null && signal === null)
        process.stderr.write(`${name} exited ${code}:\n${tail}\n`);
      resolve();
    });
  });
  const first = new Promise<unknown>((resolve) => proc.once('message', resolve));
  return {
    proc,
    get pid() {
      return proc.pid as number;
    },
    message<T>(timeoutMs = 30_000): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        first as Promise<T>,
        exited.then(() => {
          throw new Error(`${name} exited before it reported:\n${tail}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${name} did not report within ${timeoutMs} ms:\n${tail}`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    },
    get arrayBuffersKiB() {
      return arrayBuffersKiB;
    },
    get heapUsedKiB() {
      return heapUsedKiB;
    },
    collectGarbage(options = {}): Promise<number> {
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          proc.off('message', onMessage);
          reject(new Error(`${name}: no answer to gc`));
        }, 10_000);
        const onMessage = (m: unknown): void => {
          if (typeof m !== 'object' || m === null || !(GC_DONE in m)) return;
          clearTimeout(timer);
          proc.off('message', onMessage);
          arrayBuffersKiB = Number((m as Record<string, unknown>)[ARRAY_BUFFERS_KIB]);
          heapUsedKiB = Number((m as Record<string, unknown>)[HEAP_USED_KIB]);
          resolve(Number((m as Record<string, unknown>)[GC_DONE]));
        };
        proc.on('message', onMessage);
        proc.send(options.releasePooledPages === true ? GC_RELEASE : GC);
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        // SIGINT lets a profiled child write its profile; SIGKILL if it lingers.
        proc.kill(process.env['BENCH_CPU_PROF_DIR'] ? 'SIGINT' : 'SIGKILL');
        setTimeout(() => proc.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

const GC = 'gc';
const GC_RELEASE = 'gc-release-pooled-pages';
/** The key of a child's answer to either; its value the KiB of RSS the release gave back. */
const GC_DONE = 'gcDone';
/** The answer's other keys: KiB of ArrayBuffer memory and of V8 heap after the collections. */
const ARRAY_BUFFERS_KIB = 'arrayBuffersKiB';
const HEAP_USED_KIB = 'heapUsedKiB';

type GcOptions = { type: 'major'; execution: 'sync'; flavor?: 'regular' | 'last-resort' };

/**
 * For a child: exit when the parent goes away (its IPC channel closes) or on SIGINT (which the
 * parent sends to a profiled child so that the profile is written on exit); answer
 * {@link Child.collectGarbage} requests.
 */
export function runAsBenchChild(cleanup: () => void = () => undefined): void {
  const exit = (): void => {
    cleanup();
    process.exit(0);
  };
  process.on('disconnect', exit);
  process.on('SIGINT', exit);
  process.on('message', (m: unknown) => {
    if (m !== GC && m !== GC_RELEASE) return;
    const gc = (globalThis as { gc?: (options?: GcOptions) => void }).gc ?? (() => undefined);
    // Twice, a moment apart: objects that die in the first (e.g. by its finalizers) go in the
    // second.
    gc();
    setTimeout(() => {
      gc();
      let releasedKiB = 0;
      if (m === GC_RELEASE) {
        // A last-resort collection ends with V8 unmapping its pooled pages (an ordinary one,
        // forced or not, leaves them mapped and resident).
        const before = process.memoryUsage.rss();
        gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
        releasedKiB = Math.max(0, Math.round((before - process.memoryUsage.rss()) / 1024));
      }
      setTimeout(() => {
        const usage = process.memoryUsage();
        report({
          [GC_DONE]: releasedKiB,
          [ARRAY_BUFFERS_KIB]: usage.arrayBuffers / 1024,
          [HEAP_USED_KIB]: usage.heapUsed / 1024,
        });
      }, 100);
    }, 100);
  });
}

/** For a child: sends `message` to the parent over IPC. */
export function report(message: unknown): void {
  process.send?.(message);
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.status === 200;
}
