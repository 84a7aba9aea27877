import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SandboxError } from './errors.ts';
import {
  BINARIES,
  type BinaryName,
  cacheRoot,
  ETCD_VERSION,
  KUBERNETES_VERSION,
  MIN_GO_MINOR,
} from './versions.ts';

/** The wrapper module (go.mod + go.sum only) that pins every binary's version. */
export const WRAPPER_MODULE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'k8s-bins');

const PROGRESS_INTERVAL_TTY_MS = 1_000;
const PROGRESS_INTERVAL_PLAIN_MS = 15_000;
const LOCK_POLL_MS = 2_000;
const LOG_TAIL_LINES = 30;

/** Absolute paths of the four binaries. */
export type BinaryPaths = Record<BinaryName, string>;

export interface EnsureBinariesOptions {
  /** Receives one human line per event (start, periodic elapsed time, done). Default: stderr. */
  progress?: (line: string) => void;
  /** Whether progress may redraw one line (a terminal). Default: stderr is a TTY. */
  isTty?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Folder the binaries of this exact wrapper module are cached in: keyed by the Kubernetes and
 * etcd versions and a hash of go.mod + go.sum, so any change of pins builds anew.
 */
export function binaryCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum'])
    hash.update(readFileSync(join(WRAPPER_MODULE_DIR, file)));
  const key = `${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-${hash.digest('hex').slice(0, 12)}`;
  return join(cacheRoot(env), 'k8s', key);
}

/** Paths the binaries would have in `dir`. */
export function binaryPaths(dir: string): BinaryPaths {
  return Object.fromEntries(BINARIES.map((b) => [b, join(dir, b)])) as BinaryPaths;
}

/**
 * Returns the paths of kube-apiserver, kube-controller-manager, kubectl and etcd, building the
 * missing ones first from the Go wrapper module. Each binary is written under a temporary name
 * and renamed when complete, so an interrupted build never leaves a broken binary behind; a
 * second call (or a second process, which waits on a lock) builds nothing.
 *
 * SPOKELINK_K8S_BIN_DIR points at a folder of ready binaries and skips building entirely.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<BinaryPaths> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const isTty = options.isTty ?? process.stderr.isTTY === true;

  const preset = env['SPOKELINK_K8S_BIN_DIR'];
  if (preset) {
    const paths = binaryPaths(preset);
    for (const [name, path] of Object.entries(paths)) {
      if (!existsSync(path)) {
        throw new SandboxError(
          'SANDBOX_ERR_BINARY_MISSING',
          `SPOKELINK_K8S_BIN_DIR is ${preset} but it holds no ${name}`,
        );
      }
    }
    return paths;
  }

  const dir = binaryCacheDir(env);
  const paths = binaryPaths(dir);
  const missing = () => BINARIES.filter((b) => !existsSync(paths[b]));
  if (missing().length === 0) return paths;

  mkdirSync(dir, { recursive: true });
  const releaseLock = await acquireLock(join(dir, '.build.lock'), progress);
  try {
    const todo = missing();
    if (todo.length === 0) return paths;
    const goEnv = { ...env, GOWORK: 'off', CGO_ENABLED: '0' };
    await checkGo(goEnv);
    progress(
      `k8s binaries: building ${todo.join(', ')} (Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}) into ${dir}`,
    );
    progress(
      'k8s binaries: the first build takes about 5–15 minutes on 2 cores (measured: 6 min with the modules downloaded); later runs reuse the cache',
    );
    await runStep(
      'downloading Go modules',
      ['mod', 'download'],
      goEnv,
      progress,
      isTty,
      'SANDBOX_ERR_MODULE_DOWNLOAD',
    );
    const total = BINARIES.length;
    for (const name of todo) {
      const tmp = `${paths[name]}.partial-${process.pid}`;
      const step = `building ${name} (${BINARIES.indexOf(name) + 1}/${total})`;
      await runStep(step, buildArgs(name, tmp), goEnv, progress, isTty, 'SANDBOX_ERR_BUILD_FAILED');
      renameSync(tmp, paths[name]);
    }
    progress(`k8s binaries: ready in ${dir}`);
    return paths;
  } finally {
    releaseLock();
  }
}

/** `go build` arguments for one binary, with upstream's tags and version stamping. */
function buildArgs(name: BinaryName, out: string): string[] {
  if (name === 'etcd') {
    return ['build', '-trimpath', '-ldflags', '-s -w', '-o', out, 'go.etcd.io/etcd/server/v3'];
  }
  const match = /^v(\d+)\.(\d+)\./.exec(KUBERNETES_VERSION);
  const [major, minor] = [match?.[1] ?? '1', match?.[2] ?? '0'];
  const buildDate = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ldflags = ['-s', '-w'];
  // Both packages carry the version: kube-apiserver's /version reads component-base, kubectl's
  // client version reads client-go. Unstamped binaries report v0.0.0-master.
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    ldflags.push(
      `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.gitCommit=0000000000000000000000000000000000000000`,
      `-X ${pkg}.buildDate=${buildDate}`,
    );
  }
  return [
    'build',
    '-trimpath',
    '-tags',
    'selinux,notest,grpcnotrace',
    '-ldflags',
    ldflags.join(' '),
    '-o',
    out,
    `k8s.io/kubernetes/cmd/${name}`,
  ];
}

async function checkGo(env: NodeJS.ProcessEnv): Promise<void> {
  let out: string;
  try {
    out = await capture('go', ['version'], env);
  } catch (err) {
    throw new SandboxError(
      'SANDBOX_ERR_GO_MISSING',
      `Go 1.${MIN_GO_MINOR} or newer is needed to build the Kubernetes binaries, and \`go\` was not found on PATH; install Go, or set SPOKELINK_K8S_BIN_DIR to a folder with kube-apiserver, kube-controller-manager, kubectl and etcd ${KUBERNETES_VERSION}`,
      { cause: err },
    );
  }
  const m = /go(\d+)\.(\d+)/.exec(out);
  if (!m || Number(m[1]) !== 1 || Number(m[2]) < MIN_GO_MINOR) {
    throw new SandboxError(
      'SANDBOX_ERR_GO_TOO_OLD',
      `Go 1.${MIN_GO_MINOR} or newer is needed to build Kubernetes ${KUBERNETES_VERSION}; found: ${out.trim()}`,
    );
  }
}

function capture(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out}`)),
    );
  });
}

/** Runs one `go` step in the wrapper module, reporting elapsed time while it runs. */
function runStep(
  step: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
  isTty: boolean,
  failCode: 'SANDBOX_ERR_MODULE_DOWNLOAD' | 'SANDBOX_ERR_BUILD_FAILED',
): Promise<void> {
  const started = Date.now();
  const elapsed = () => formatDuration(Date.now() - started);
  progress(`k8s binaries: ${step}…`);
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, {
      cwd: WRAPPER_MODULE_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onOutput = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const timer = setInterval(
      () => {
        if (isTty) process.stderr.write(`\r  ${step}: ${elapsed()} elapsed `);
        else progress(`k8s binaries: ${step}: ${elapsed()} elapsed`);
      },
      isTty ? PROGRESS_INTERVAL_TTY_MS : PROGRESS_INTERVAL_PLAIN_MS,
    );
    const finish = (err: SandboxError | null) => {
      clearInterval(timer);
      if (isTty) process.stderr.write('\r\x1b[K');
      if (err) reject(err);
      else {
        progress(`k8s binaries: ${step} done in ${elapsed()}`);
        resolve();
      }
    };
    child.on('error', (err) =>
      finish(
        new SandboxError('SANDBOX_ERR_GO_MISSING', `could not run go: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return finish(null);
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const what =
        failCode === 'SANDBOX_ERR_MODULE_DOWNLOAD'
          ? 'downloading the Go modules failed (is the Go module proxy reachable? GOPROXY)'
          : `${step} failed`;
      finish(
        new SandboxError(
          failCode,
          `${what}: go ${args[0]} ${why}; last output:\n${tail.join('\n')}`,
          {
            logTail: [...tail],
          },
        ),
      );
    });
  });
}

/** A lock folder, so that two processes never build into the same cache at once. */
async function acquireLock(path: string, progress: (line: string) => void): Promise<() => void> {
  let waited = false;
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'pid'), String(process.pid));
      return () => rmSync(path, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSyncOr(join(path, 'pid')));
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (!waited) progress(`k8s binaries: waiting for process ${owner}, which is building them`);
      waited = true;
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
}

function readFileSyncOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a process id names a live process. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `83s` → `1m23s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
