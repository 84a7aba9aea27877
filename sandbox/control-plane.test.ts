// Error paths of the sandbox that need no Kubernetes binary: each must name what went wrong.
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it, onTestFinished } from 'vitest';

import { ensureBinaries } from './build.ts';
import { startControlPlane } from './control-plane.ts';
import { SandboxError } from './errors.ts';

const scratch = mkdtempSync(join(tmpdir(), 'spokelink-sandbox-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stand-in binary (a shell script) that prints lines and exits: only the process handling is under test. */
function script(name: string, body: string): string {
  const path = join(scratch, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('startControlPlane errors', () => {
  it('reports a binary that exits early, with its last log lines, and leaves no folder behind', async () => {
    const failing = script(
      'etcd-fails',
      'echo "starting"\necho "fatal: data dir is corrupt" >&2\nexit 3',
    );
    const base = mkdtempSync(join(scratch, 'base-'));
    const binaries = {
      etcd: failing,
      'kube-apiserver': failing,
      'kube-controller-manager': failing,
      kubectl: failing,
      helm: failing,
    };
    const err = await startControlPlane({ name: 'early-exit', binaries, baseDir: base }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('SANDBOX_ERR_EARLY_EXIT');
    expect((err as SandboxError).message).toMatch(/^etcd exited with code 3 before it was ready/);
    expect((err as SandboxError).message).toContain('fatal: data dir is corrupt');
    expect((err as SandboxError).logTail).toEqual(['starting', 'fatal: data dir is corrupt']);
    expect(readdirSync(base)).toEqual([]);
  });

  it('refuses an API server port that is already taken', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const never = script('never-run', 'exit 99');
    const binaries = {
      etcd: never,
      'kube-apiserver': never,
      'kube-controller-manager': never,
      kubectl: never,
      helm: never,
    };
    const err = await startControlPlane({ name: 'taken', apiserverPort: port, binaries }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('SANDBOX_ERR_PORT_IN_USE');
    expect((err as SandboxError).message).toBe(
      `port 127.0.0.1:${port} for the taken API server is already in use`,
    );
  });

  it('rejects a name that is not a DNS label', async () => {
    const err = await startControlPlane({ name: 'Not_A_Label' }).catch((e: unknown) => e);
    expect((err as SandboxError).code).toBe('SANDBOX_ERR_INVALID_OPTIONS');
  });
});

describe('ensureBinaries errors', () => {
  it('says Go is missing when it must build and finds no go on PATH', async () => {
    const cache = mkdtempSync(join(scratch, 'cache-'));
    const err = await ensureBinaries({
      env: { PATH: join(scratch, 'empty-path'), SPOKELINK_CACHE_DIR: cache },
      progress: () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('SANDBOX_ERR_GO_MISSING');
    expect((err as SandboxError).message).toMatch(
      /Go 1\.26 or newer is needed .* `go` was not found on PATH/,
    );
  });

  it('says which module download failed when the module proxy cannot be used', async () => {
    const cache = mkdtempSync(join(scratch, 'cache-'));
    const modcache = mkdtempSync(join(scratch, 'modcache-'));
    const lines: string[] = [];
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? scratch,
      SPOKELINK_CACHE_DIR: cache,
      GOMODCACHE: modcache,
      GOPROXY: 'off',
      GOFLAGS: '-modcacherw',
    };
    const err = await ensureBinaries({ env, progress: (l) => lines.push(l), isTty: false }).catch(
      (e: unknown) => e,
    );
    rmSync(modcache, { recursive: true, force: true });
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('SANDBOX_ERR_MODULE_DOWNLOAD');
    expect((err as SandboxError).message).toContain('downloading the Go modules failed');
    expect((err as SandboxError).message).toMatch(/GOPROXY=off/);
    expect(lines[0]).toMatch(
      /^k8s binaries: building kube-apiserver, kube-controller-manager, kubectl, etcd/,
    );
  });

  it('uses ready binaries from SPOKELINK_K8S_BIN_DIR and names the one that is missing', async () => {
    const dir = mkdtempSync(join(scratch, 'bins-'));
    for (const b of ['kube-apiserver', 'kube-controller-manager', 'etcd'])
      writeFileSync(join(dir, b), '');
    const err = await ensureBinaries({ env: { SPOKELINK_K8S_BIN_DIR: dir } }).catch(
      (e: unknown) => e,
    );
    expect((err as SandboxError).code).toBe('SANDBOX_ERR_BINARY_MISSING');
    expect((err as SandboxError).message).toBe(
      `SPOKELINK_K8S_BIN_DIR is ${dir} but it holds no kubectl`,
    );
    writeFileSync(join(dir, 'kubectl'), '');
    writeFileSync(join(dir, 'helm'), ''); // else helm comes from (or is built into) the cache
    const paths = await ensureBinaries({ env: { SPOKELINK_K8S_BIN_DIR: dir } });
    expect(paths.kubectl).toBe(join(dir, 'kubectl'));
    expect(paths.helm).toBe(join(dir, 'helm'));
  });
});
