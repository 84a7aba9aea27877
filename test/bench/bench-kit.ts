// Shared pieces of the benchmarks: child processes, RSS, percentiles, PKI files, free ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

export const MiB = 1024 * 1024;
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

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

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
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

/** A child process running one of our entry points on this Node; killed at exit. */
export interface Child {
  proc: ChildProcess;
  readonly pid: number;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function startChild(script: string, args: string[], name: string): Child {
  const profile = process.env['BENCH_CPU_PROF_DIR']
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF_DIR']}`]
    : [];
  const proc = spawn(process.execPath, [...profile, join(ROOT, script), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(proc);
  let tail = '';
  proc.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  proc.on('exit', (code, signal) => {
    children.delete(proc);
    if (code !== 0 && code !== null && signal === null)
      process.stderr.write(`${name} exited ${code}:\n${tail}\n`);
  });
  return {
    proc,
    get pid() {
      return proc.pid as number;
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

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.status === 200;
}
