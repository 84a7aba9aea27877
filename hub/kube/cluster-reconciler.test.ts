// The cluster controllers' shared loop with fake triggers: coalescing per cluster, the watch,
// agent presence, a failed first list tried again, stop.
import { describe, expect, it } from 'vitest';

import { createClusterReconciler, type ClusterReconcilerOptions } from './cluster-reconciler.ts';

function fixture(overrides: Partial<ClusterReconcilerOptions> = {}) {
  const runs: string[] = [];
  const connected = new Set<string>();
  let notify: ((name: string) => void) | undefined;
  let release: (() => void) | undefined;
  let isBlocking = false;
  const reconciler = createClusterReconciler({
    reconcileOnce: async (name) => {
      runs.push(name);
      if (isBlocking) await new Promise<void>((resolve) => (release = resolve));
      return false;
    },
    listClusters: async () => ['c1'],
    connectedClusters: () => connected,
    watch: (onChange) => {
      notify = onChange;
      return { stop: async () => undefined };
    },
    intervalMs: 3_600_000,
    agentPollMs: 10,
    ...overrides,
  });
  return {
    reconciler,
    runs,
    connected,
    changed: (name: string) => notify?.(name),
    block: () => (isBlocking = true),
    unblock: () => {
      isBlocking = false;
      release?.();
    },
  };
}

describe('cluster reconciler', () => {
  it('coalesces requests for a cluster while one runs: one more run after it', async () => {
    const f = fixture();
    f.block();
    const first = f.reconciler.reconcile('c1');
    await expect.poll(() => f.runs).toEqual(['c1']);
    void f.reconciler.reconcile('c1');
    void f.reconciler.reconcile('c1');
    f.unblock();
    await first;
    expect(f.runs).toEqual(['c1', 'c1']);
  });

  it('runs again at once when reconcileOnce asks for it (a conflict)', async () => {
    let conflicts = 2;
    const runs: string[] = [];
    const reconciler = createClusterReconciler({
      reconcileOnce: async (name) => {
        runs.push(name);
        return conflicts-- > 0;
      },
      listClusters: async () => [],
      connectedClusters: () => new Set(),
    });
    await reconciler.reconcile('c1');
    expect(runs).toEqual(['c1', 'c1', 'c1']);
  });

  it('never overlaps runs of a cluster, even when a run asks for one before its first await', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const reconciler: ReturnType<typeof createClusterReconciler> = createClusterReconciler({
      reconcileOnce: async (name) => {
        calls += 1;
        active += 1;
        maxActive = Math.max(maxActive, active);
        // A synchronous request for the same cluster, as a watch event delivered at once would.
        if (calls === 1) void reconciler.reconcile(name);
        await new Promise((r) => setTimeout(r, 5));
        active -= 1;
        return false;
      },
      listClusters: async () => [],
      connectedClusters: () => new Set(),
    });
    await reconciler.reconcile('c1');
    expect(maxActive).toBe(1);
    expect(calls).toBe(2);
  });

  it('reconciles on start, on watch events and when agents come or go', async () => {
    const f = fixture();
    f.reconciler.start();
    try {
      await expect.poll(() => f.runs).toEqual(['c1']);
      f.changed('c2');
      await expect.poll(() => f.runs).toEqual(['c1', 'c2']);
      f.connected.add('c3');
      await expect.poll(() => f.runs).toEqual(['c1', 'c2', 'c3']);
      f.connected.delete('c3');
      await expect.poll(() => f.runs).toEqual(['c1', 'c2', 'c3', 'c3']);
    } finally {
      await f.reconciler.stop();
    }
    f.changed('c4');
    expect(f.runs).toEqual(['c1', 'c2', 'c3', 'c3']);
  });

  it('lists again soon after a failed list, reporting the failure', async () => {
    let failures = 1;
    const errors: unknown[] = [];
    const f = fixture({
      listClusters: async () => {
        if (failures-- > 0) throw new Error('HTTP 429');
        return ['c1'];
      },
      onError: (name, err) => errors.push([name, (err as Error).message]),
    });
    f.reconciler.start();
    try {
      await expect.poll(() => f.runs, { timeout: 5_000 }).toEqual(['c1']);
      expect(errors).toEqual([[undefined, 'HTTP 429']]);
    } finally {
      await f.reconciler.stop();
    }
  });
});

describe('cluster reconciler concurrency', () => {
  function gated(concurrency: number) {
    const releases = new Map<string, () => void>();
    let active = 0;
    let peak = 0;
    const runs: string[] = [];
    const reconciler = createClusterReconciler({
      reconcileOnce: async (name) => {
        runs.push(name);
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((resolve) => releases.set(name, resolve));
        active--;
        return false;
      },
      listClusters: async () => [],
      connectedClusters: () => new Set(),
      intervalMs: 3_600_000,
      concurrency,
    });
    return { reconciler, runs, releases, peak: () => peak };
  }

  it('runs at most `concurrency` clusters at once, the rest in request order', async () => {
    const g = gated(2);
    const done = ['a', 'b', 'c', 'd', 'e'].map((name) => g.reconciler.reconcile(name));
    await expect.poll(() => g.runs).toEqual(['a', 'b']);
    g.releases.get('b')?.();
    await expect.poll(() => g.runs).toEqual(['a', 'b', 'c']);
    // A request for a waiting cluster is served by its one waiting pass.
    void g.reconciler.reconcile('e');
    for (const name of ['a', 'c', 'd', 'e']) {
      await expect.poll(() => g.releases.has(name)).toBe(true);
      g.releases.get(name)?.();
    }
    await Promise.all(done);
    expect(g.runs).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(g.peak()).toBe(2);
  });

  it('stop() settles the passes still waiting for a slot without running them', async () => {
    const g = gated(1);
    const first = g.reconciler.reconcile('a');
    const queued = g.reconciler.reconcile('b');
    await expect.poll(() => g.runs).toEqual(['a']);
    const stopped = g.reconciler.stop();
    g.releases.get('a')?.();
    await Promise.all([first, queued, stopped]);
    expect(g.runs).toEqual(['a']);
  });
});
