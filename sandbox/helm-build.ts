import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { acquireLock, checkGo, runStep } from './go-build-steps.ts';
import { cacheRoot, HELM_VERSION } from './versions.ts';

/** The wrapper module (go.mod + go.sum only) that pins helm's version: `helm-bin/`. */
export const HELM_MODULE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'helm-bin');

const LABEL = 'helm';

/** Options of {@link ensureHelm}: those of `ensureBinaries`. */
export interface EnsureHelmOptions {
  /** Receives one human line per event (start, periodic elapsed time, done). Default: stderr. */
  progress?: (line: string) => void;
  /** Whether progress may redraw one line (a terminal). Default: stderr is a TTY. */
  isTty?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Folder helm is cached in: `<cache>/helm/<version>-<hash of go.mod+go.sum>`. A separate entry
 * from the Kubernetes binaries', so pinning another helm never rebuilds those (and the other way
 * round).
 */
export function helmCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum']) hash.update(readFileSync(join(HELM_MODULE_DIR, file)));
  return join(cacheRoot(env), 'helm', `${HELM_VERSION}-${hash.digest('hex').slice(0, 12)}`);
}

/**
 * Returns the path of the `helm` binary (helm.sh/helm/v3 at {@link HELM_VERSION}), building it
 * first from the `helm-bin/` wrapper module when the cache lacks it (about a minute on 2 cores
 * with the modules downloaded), with the same progress lines, temporary-name-then-rename and
 * build lock as the Kubernetes binaries. Safe to call concurrently from several processes; a
 * present binary is never rebuilt. Rejects with a `SandboxError` (`SANDBOX_ERR_GO_MISSING`,
 * `SANDBOX_ERR_GO_TOO_OLD`, `SANDBOX_ERR_MODULE_DOWNLOAD`, `SANDBOX_ERR_BUILD_FAILED`).
 */
export async function ensureHelm(options: EnsureHelmOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const isTty = options.isTty ?? process.stderr.isTTY === true;
  const dir = helmCacheDir(env);
  const path = join(dir, 'helm');
  if (existsSync(path)) return path;

  mkdirSync(dir, { recursive: true });
  const releaseLock = await acquireLock(join(dir, '.build.lock'), progress, LABEL);
  try {
    if (existsSync(path)) return path;
    const goEnv = { ...env, GOWORK: 'off', CGO_ENABLED: '0' };
    await checkGo(goEnv, {
      building: 'helm',
      release: `helm ${HELM_VERSION}`,
      instead: 'put a helm binary in SPOKELINK_K8S_BIN_DIR beside the Kubernetes binaries',
    });
    progress(`${LABEL}: building helm ${HELM_VERSION} into ${dir} (about 1–3 minutes on 2 cores)`);
    await runStep(
      'downloading Go modules',
      ['mod', 'download'],
      goEnv,
      progress,
      isTty,
      'SANDBOX_ERR_MODULE_DOWNLOAD',
      HELM_MODULE_DIR,
      LABEL,
    );
    const tmp = `${path}.partial-${process.pid}`;
    await runStep(
      'building helm',
      helmBuildArgs(tmp),
      goEnv,
      progress,
      isTty,
      'SANDBOX_ERR_BUILD_FAILED',
      HELM_MODULE_DIR,
      LABEL,
    );
    renameSync(tmp, path);
    progress(`${LABEL}: ready in ${dir}`);
    return path;
  } finally {
    releaseLock();
  }
}

/**
 * `go build` arguments for helm. The version is stamped the way helm's Makefile does, so that
 * `helm version` and the `.Capabilities.HelmVersion` of rendered charts say {@link HELM_VERSION}.
 */
export function helmBuildArgs(out: string): string[] {
  const pkg = 'helm.sh/helm/v3/internal/version';
  const ldflags = ['-s', '-w', `-X ${pkg}.version=${HELM_VERSION}`, `-X ${pkg}.gitTreeState=clean`];
  return [
    'build',
    '-trimpath',
    '-ldflags',
    ldflags.join(' '),
    '-o',
    out,
    'helm.sh/helm/v3/cmd/helm',
  ];
}
