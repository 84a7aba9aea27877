// Several control planes side by side, and what stop() leaves behind: nothing.
import { existsSync } from 'node:fs';

import { describe, expect, inject, it } from 'vitest';

import { apiGet, apiRequest, startControlPlane } from '../../sandbox/index.ts';

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
});
