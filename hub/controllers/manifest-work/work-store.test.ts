import { describe, expect, it } from 'vitest';

import type { ManifestWork } from '../../api/index.ts';
import { cachingWorkStore, type WorkStore } from './work-store.ts';

const work = (resourceVersion: string, status?: ManifestWork['status']): ManifestWork => ({
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'ManifestWork',
  metadata: { namespace: 'c1', name: 'w', resourceVersion },
  spec: { workload: { manifests: [] } },
  ...(status === undefined ? {} : { status }),
});

/** A hub with one work, a log of its calls, and an informer cache the test moves by hand. */
function scenario() {
  const calls: string[] = [];
  let stored: ManifestWork | undefined = work('1');
  let conflict = false;
  const live: WorkStore = {
    async get() {
      calls.push('GET');
      return stored === undefined ? undefined : structuredClone(stored);
    },
    async setFinalizers(w, finalizers) {
      calls.push('PATCH');
      if (conflict) return undefined;
      stored = {
        ...w,
        metadata: {
          ...w.metadata,
          finalizers: [...finalizers],
          resourceVersion: String(Number(stored?.metadata?.resourceVersion) + 1),
        },
      };
      return structuredClone(stored);
    },
    async replaceStatus(w) {
      calls.push('PUT status');
      if (conflict) return undefined;
      stored = {
        ...w,
        metadata: {
          ...w.metadata,
          resourceVersion: String(Number(stored?.metadata?.resourceVersion) + 1),
        },
      };
      return structuredClone(stored);
    },
    async delete() {
      calls.push('DELETE');
      return true;
    },
  };
  const cache = { synced: true, object: stored as ManifestWork | undefined };
  const caching = cachingWorkStore(live, {
    isSynced: () => cache.synced,
    get: () => cache.object,
  });
  /** The informer delivers what the hub now holds. */
  const deliver = () => {
    cache.object = stored === undefined ? undefined : structuredClone(stored);
    if (cache.object !== undefined) caching.observe(cache.object);
  };
  return {
    calls,
    cache,
    store: caching.store,
    deliver,
    setConflict: (value: boolean) => (conflict = value),
    writeBySomeoneElse: () => {
      stored = work(String(Number(stored?.metadata?.resourceVersion) + 1), { conditions: [] });
    },
  };
}

describe('cachingWorkStore', () => {
  it('answers from the synced cache without a request, with a copy callers may change', async () => {
    const s = scenario();
    const got = await s.store.get('c1', 'w');
    expect(got?.metadata?.resourceVersion).toBe('1');
    expect(s.calls).toEqual([]);
    (got as ManifestWork).spec = {
      workload: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap' }] },
    };
    expect(s.cache.object?.spec?.workload?.manifests).toEqual([]);
  });

  it('reads live before the cache has synced, and for works the cache does not hold', async () => {
    const s = scenario();
    s.cache.synced = false;
    await s.store.get('c1', 'w');
    s.cache.synced = true;
    s.cache.object = undefined;
    await s.store.get('c1', 'w');
    expect(s.calls).toEqual(['GET', 'GET']);
  });

  it('reads live after its own write until the informer brings that write back', async () => {
    const s = scenario();
    const first = (await s.store.get('c1', 'w')) as ManifestWork;
    const written = await s.store.replaceStatus({ ...first, status: { conditions: [] } });
    expect(written?.metadata?.resourceVersion).toBe('2');
    // The cache still holds version 1: a cached read would hand out the work without our status.
    expect((await s.store.get('c1', 'w'))?.metadata?.resourceVersion).toBe('2');
    expect(s.calls).toEqual(['PUT status', 'GET']);
    s.deliver();
    expect((await s.store.get('c1', 'w'))?.metadata?.resourceVersion).toBe('2');
    expect(s.calls).toEqual(['PUT status', 'GET']);
  });

  it('after a conflict reads live, then waits for the cache to hold what it read', async () => {
    const s = scenario();
    const first = (await s.store.get('c1', 'w')) as ManifestWork;
    s.writeBySomeoneElse();
    s.setConflict(true);
    expect(await s.store.setFinalizers(first, ['f'])).toBeUndefined();
    s.setConflict(false);
    expect((await s.store.get('c1', 'w'))?.metadata?.resourceVersion).toBe('2');
    // The informer has not brought version 2 yet: still live.
    expect((await s.store.get('c1', 'w'))?.metadata?.resourceVersion).toBe('2');
    expect(s.calls).toEqual(['PATCH', 'GET', 'GET']);
    s.deliver();
    await s.store.get('c1', 'w');
    expect(s.calls).toEqual(['PATCH', 'GET', 'GET']);
  });
});
