// The helm build's own cache entry and its checks (the build itself runs in global setup, through
// ensureBinaries, on a machine without the binary).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { binaryCacheDir } from './build.ts';
import { SandboxError } from './errors.ts';
import { ensureHelm, helmBuildArgs, helmCacheDir } from './helm-build.ts';
import { HELM_VERSION } from './versions.ts';

const scratch = mkdtempSync(join(tmpdir(), 'helm-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the helm build', () => {
  it('has a cache entry of its own, beside the Kubernetes binaries’', () => {
    const env = { SPOKELINK_CACHE_DIR: scratch };
    expect(helmCacheDir(env)).toMatch(new RegExp(`^${scratch}/helm/${HELM_VERSION}-[0-9a-f]{12}$`));
    expect(binaryCacheDir(env).startsWith(join(scratch, 'k8s'))).toBe(true);
  });

  it('stamps the version helm reports', () => {
    expect(helmBuildArgs('/out/helm')).toEqual([
      'build',
      '-trimpath',
      '-ldflags',
      `-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v3/internal/version.gitTreeState=clean`,
      '-o',
      '/out/helm',
      'helm.sh/helm/v3/cmd/helm',
    ]);
  });

  it('uses a cached binary without building', async () => {
    const env = {
      SPOKELINK_CACHE_DIR: mkdtempSync(join(scratch, 'cache-')),
      PATH: join(scratch, 'no-go'),
    };
    const dir = helmCacheDir(env);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'helm'), '#!/bin/sh\n');
    chmodSync(join(dir, 'helm'), 0o755);
    const lines: string[] = [];
    expect(await ensureHelm({ env, progress: (l) => lines.push(l) })).toBe(join(dir, 'helm'));
    expect(lines).toEqual([]);
  });

  it('says Go is missing when it must build and finds no go on PATH', async () => {
    const env = {
      SPOKELINK_CACHE_DIR: mkdtempSync(join(scratch, 'cache-')),
      PATH: join(scratch, 'no-go'),
    };
    const err = await ensureHelm({ env, progress: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('SANDBOX_ERR_GO_MISSING');
    expect((err as SandboxError).message).toBe(
      'Go 1.26 or newer is needed to build helm, and `go` was not found on PATH; install Go, or put a helm binary in SPOKELINK_K8S_BIN_DIR beside the Kubernetes binaries',
    );
  });
});
