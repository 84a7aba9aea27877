// The steps every binary build of the sandbox shares: checking Go, running one `go` command in a
// wrapper module with progress lines, and a lock folder so two processes never build into the
// same cache at once. Used by the Kubernetes build (build.ts) and the helm build (helm-build.ts).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SandboxError } from './errors.ts';
import { KUBERNETES_VERSION, MIN_GO_MINOR } from './versions.ts';

/** The wrapper module (go.mod + go.sum only) that pins every Kubernetes binary's version. */
export const WRAPPER_MODULE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'k8s-bins');

const PROGRESS_INTERVAL_TTY_MS = 1_000;
const PROGRESS_INTERVAL_PLAIN_MS = 15_000;
const LOCK_POLL_MS = 2_000;
const LOG_TAIL_LINES = 30;

/** What the messages of {@link checkGo} say is being built, and the way around building it. */
export interface GoBuildSubject {
  /** e.g. `the Kubernetes binaries` */
  readonly building: string;
  /** e.g. `Kubernetes v1.36.3` */
  readonly release: string;
  /** What to do instead of installing Go. */
  readonly instead: string;
}

const KUBERNETES_SUBJECT: GoBuildSubject = {
  building: 'the Kubernetes binaries',
  release: `Kubernetes ${KUBERNETES_VERSION}`,
  instead: `set SPOKELINK_K8S_BIN_DIR to a folder with kube-apiserver, kube-controller-manager, kubectl and etcd ${KUBERNETES_VERSION}`,
};

/** Checks that `go` runs and is new enough for the wrapper modules. */
export async function checkGo(
  env: NodeJS.ProcessEnv,
  subject: GoBuildSubject = KUBERNETES_SUBJECT,
): Promise<void> {
  let out: string;
  try {
    out = await capture('go', ['version'], env);
  } catch (err) {
    throw new SandboxError(
      'SANDBOX_ERR_GO_MISSING',
      `Go 1.${MIN_GO_MINOR} or newer is needed to build ${subject.building}, and \`go\` was not found on PATH; install Go, or ${subject.instead}`,
      { cause: err },
    );
  }
  const m = /go(\d+)\.(\d+)/.exec(out);
  if (!m || Number(m[1]) !== 1 || Number(m[2]) < MIN_GO_MINOR) {
    throw new SandboxError(
      'SANDBOX_ERR_GO_TOO_OLD',
      `Go 1.${MIN_GO_MINOR} or newer is needed to build ${subject.release}; found: ${out.trim()}`,
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

/**
 * Runs one `go` step in a wrapper module (default: the Kubernetes one), reporting elapsed time
 * while it runs, each line prefixed with `label`.
 */
export function runStep(
  step: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
  isTty: boolean,
  failCode: 'SANDBOX_ERR_MODULE_DOWNLOAD' | 'SANDBOX_ERR_BUILD_FAILED',
  cwd: string = WRAPPER_MODULE_DIR,
  label = 'k8s binaries',
): Promise<void> {
  const started = Date.now();
  const elapsed = () => formatDuration(Date.now() - started);
  progress(`${label}: ${step}…`);
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, {
      cwd,
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
        else progress(`${label}: ${step}: ${elapsed()} elapsed`);
      },
      isTty ? PROGRESS_INTERVAL_TTY_MS : PROGRESS_INTERVAL_PLAIN_MS,
    );
    const finish = (err: SandboxError | null) => {
      clearInterval(timer);
      if (isTty) process.stderr.write('\r\x1b[K');
      if (err) reject(err);
      else {
        progress(`${label}: ${step} done in ${elapsed()}`);
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
export async function acquireLock(
  path: string,
  progress: (line: string) => void,
  label = 'k8s binaries',
): Promise<() => void> {
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
      if (!waited) progress(`${label}: waiting for process ${owner}, which is building them`);
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
