import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

import { SandboxError } from './errors.ts';
import {
  acquireLock,
  checkGo,
  formatDuration,
  isAlive,
  runStep,
  WRAPPER_MODULE_DIR,
} from './go-build-steps.ts';
import { ensureHelm } from './helm-build.ts';
import {
  BINARIES,
  type BinaryName,
  cacheRoot,
  ETCD_VERSION,
  KUBERNETES_VERSION,
} from './versions.ts';

export { formatDuration, isAlive, WRAPPER_MODULE_DIR };

/** Absolute paths of the four Kubernetes binaries. */
export type KubernetesBinaryPaths = Record<BinaryName, string>;
/** Absolute paths of the four Kubernetes binaries and of `helm` (its own cache entry). */
export type BinaryPaths = KubernetesBinaryPaths & { readonly helm: string };

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

/** Paths the Kubernetes binaries would have in `dir`. */
export function binaryPaths(dir: string): KubernetesBinaryPaths {
  return Object.fromEntries(BINARIES.map((b) => [b, join(dir, b)])) as KubernetesBinaryPaths;
}

/**
 * Returns the paths of kube-apiserver, kube-controller-manager, kubectl and etcd, building the
 * missing ones first from the Go wrapper module, and of helm (`ensureHelm`, its own wrapper
 * module and cache entry). Each binary is written under a temporary name and renamed when
 * complete, so an interrupted build never leaves a broken binary behind; a second call (or a
 * second process, which waits on a lock) builds nothing.
 *
 * SPOKELINK_K8S_BIN_DIR points at a folder of ready Kubernetes binaries and skips their build;
 * helm is taken from there too when the folder holds one, else from its cache as usual.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<BinaryPaths> {
  const k8s = await ensureKubernetesBinaries(options);
  const preset = (options.env ?? process.env)['SPOKELINK_K8S_BIN_DIR'];
  if (preset && existsSync(join(preset, 'helm'))) return { ...k8s, helm: join(preset, 'helm') };
  return { ...k8s, helm: await ensureHelm(options) };
}

/** The Kubernetes half of {@link ensureBinaries}. */
async function ensureKubernetesBinaries(
  options: EnsureBinariesOptions,
): Promise<KubernetesBinaryPaths> {
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
