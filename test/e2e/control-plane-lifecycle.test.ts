// Several control planes side by side, and what stop() leaves behind: nothing.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { describe, expect, inject, it, onTestFinished } from 'vitest';

import { apiGet, apiRequest, startControlPlane, sweepStale } from '../../sandbox/index.ts';
import { eventually } from '../framework/kubectl.ts';

const hub = inject('hub');

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('control plane lifecycle', () => {
  it('runs two more control planes beside the shared one, each its own cluster, and stops them cleanly', async () => {
    const [a, b] = await Promise.all([
      startControlPlane({ name: 'side-a', binaries: hub.binaries }),
      startControlPlane({ name: 'side-b', binaries: hub.binaries }),
    ]);
    try {
      expect(new Set([a.server, b.server, hub.server]).size).toBe(3);
      // Each is its own cluster: a namespace made in one does not exist in the other.
      const created = await apiRequest(a.admin, 'POST', '/api/v1/namespaces', {
        metadata: { name: 'only-in-a' },
      });
      expect(created.status).toBe(201);
      expect((await apiGet(a.admin, '/api/v1/namespaces/only-in-a')).status).toBe(200);
      expect((await apiGet(b.admin, '/api/v1/namespaces/only-in-a')).status).toBe(404);
      expect((await apiGet(hub.admin, '/api/v1/namespaces/only-in-a')).status).toBe(404);
      expect(Object.keys(a.pids()).sort()).toEqual([
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
      ]);
    } finally {
      const pids = [...Object.values(a.pids()), ...Object.values(b.pids())];
      await Promise.all([a.stop(), b.stop()]);
      expect(pids.filter(isRunning)).toEqual([]);
      expect(existsSync(a.dir)).toBe(false);
      expect(existsSync(b.dir)).toBe(false);
    }
    // stop() is idempotent, and the shared control plane is untouched.
    await a.stop();
    expect((await apiGet(hub.admin, '/readyz')).status).toBe(200);
  });

  it('cleans up after an owner that was killed with SIGKILL: its processes and folder are gone at the next start', async () => {
    const base = mkdtempSync(join(tmpdir(), 'spokelink-orphans-'));
    onTestFinished(() => rmSync(base, { recursive: true, force: true }));
    const script = fileURLToPath(new URL('../framework/fixtures/start-plane.ts', import.meta.url));
    const child = spawn(process.execPath, [script, base], {
      env: { ...process.env, SPOKELINK_K8S_BIN_DIR: dirname(hub.binaries.etcd) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const orphan = JSON.parse(line) as { dir: string; pids: Record<string, number> };
    expect(Object.keys(orphan.pids).sort()).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
    ]);
    child.kill('SIGKILL');
    await exited;
    // SIGKILL gives the owner no chance to clean up: its children live on.
    expect(Object.values(orphan.pids).filter(isRunning)).toHaveLength(3);
    sweepStale(base);
    await eventually(
      'the orphans to exit',
      async () => (Object.values(orphan.pids).some(isRunning) ? undefined : true),
      10_000,
    );
    expect(existsSync(orphan.dir)).toBe(false);
  });
});
