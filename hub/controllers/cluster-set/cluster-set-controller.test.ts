// The cluster-set controller against in-memory caches and a fake store that records verbs and
// writes back through the caches (test/e2e/placement.test.ts uses a real hub).
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';

import type {
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
} from '../../api/index.ts';
import { createClusterSetController, type ClusterSetController } from './cluster-set-controller.ts';
import type { ClusterSetStore } from './cluster-set-store.ts';
import { MemoryHub } from './testing/memory-hub.ts';

const SET_LABEL = 'cluster.open-cluster-management.io/clusterset';
const NOW = new Date('2026-03-01T10:00:00Z');

const running: ClusterSetController[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

function fixture(options: { conflicts?: number } = {}) {
  const hub = new MemoryHub();
  const calls: string[] = [];
  const errors: string[] = [];
  let conflicts = options.conflicts ?? 0;
  const store: ClusterSetStore = {
    async createClusterSet(set) {
      calls.push(`create set ${set.metadata?.name}`);
      if (hub.get('ManagedClusterSet', set.metadata?.name ?? '') === undefined)
        hub.put('ManagedClusterSet', set);
    },
    getClusterSet: async (name) => hub.get<ManagedClusterSet>('ManagedClusterSet', name),
    async replaceClusterSet(set) {
      calls.push(`replace set ${set.metadata?.name}`);
      hub.put('ManagedClusterSet', set);
      return true;
    },
    async patchClusterSetStatus(name, status) {
      calls.push(`set status ${name} ${status.conditions?.[0]?.message}`);
      const current = hub.get<ManagedClusterSet>('ManagedClusterSet', name);
      if (current !== undefined) hub.put('ManagedClusterSet', { ...current, status });
    },
    async patchBindingStatus(namespace, name, status) {
      calls.push(`binding status ${namespace}/${name} ${status.conditions?.[0]?.reason}`);
      const current = hub.get<ManagedClusterSetBinding>(
        'ManagedClusterSetBinding',
        name,
        namespace,
      );
      if (current !== undefined) hub.put('ManagedClusterSetBinding', { ...current, status });
    },
    getCluster: async (name) => hub.get<ManagedCluster>('ManagedCluster', name),
    async patchCluster(name, resourceVersion, change) {
      const current = hub.get<ManagedCluster>('ManagedCluster', name);
      if (current === undefined) return true;
      if (conflicts > 0 || current.metadata?.resourceVersion !== resourceVersion) {
        conflicts -= 1;
        calls.push(`conflict ${name}`);
        return false;
      }
      calls.push(`patch cluster ${name} ${JSON.stringify(change)}`);
      hub.put('ManagedCluster', {
        ...current,
        metadata: {
          ...current.metadata,
          labels: { ...current.metadata?.labels, ...change.labels },
        },
        spec: {
          ...current.spec,
          ...(change.taints === undefined ? {} : { taints: [...change.taints] }),
        },
      });
      return true;
    },
  };
  const controller = createClusterSetController({
    hub: new KubeConfig(),
    store,
    caches: hub.startCache,
    intervalMs: 60_000,
    now: () => NOW,
    onError: (what, err) => errors.push(`${what}: ${(err as Error).message}`),
  });
  running.push(controller);
  const set = (name: string) => hub.get<ManagedClusterSet>('ManagedClusterSet', name);
  const condition = (
    object:
      | {
          status?: {
            conditions?: { type: string; status: string; reason: string; message: string }[];
          };
        }
      | undefined,
  ) => object?.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}: ${c.message}`);
  return { hub, calls, errors, controller, set, condition };
}

function cluster(
  name: string,
  labels: Record<string, string> = {},
  available?: 'True' | 'False' | 'Unknown',
): ManagedCluster {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: { name, labels },
    spec: { hubAcceptsClient: true },
    ...(available === undefined
      ? {}
      : {
          status: {
            conditions: [
              {
                type: 'ManagedClusterConditionAvailable',
                status: available,
                reason: 'R',
                message: '',
                lastTransitionTime: '2026-01-01T00:00:00Z',
              },
            ],
          },
        }),
  };
}

describe('cluster-set controller', () => {
  it('creates the default and global sets and counts their members', async () => {
    const f = fixture();
    f.hub.put('ManagedCluster', cluster('c1', {}, 'True'));
    f.controller.start();
    await f.controller.synced;
    await expect
      .poll(() => f.condition(f.set('global')))
      .toEqual(['ClusterSetEmpty=False/ClustersSelected: 1 ManagedClusters selected']);
    // The cluster joins `default` by label, so the default set holds it too.
    await expect
      .poll(() => f.condition(f.set('default')))
      .toEqual(['ClusterSetEmpty=False/ClustersSelected: 1 ManagedClusters selected']);
    expect(f.hub.get<ManagedCluster>('ManagedCluster', 'c1')?.metadata?.labels).toEqual({
      [SET_LABEL]: 'default',
    });
    expect(f.calls.filter((c) => c.startsWith('create set')).sort()).toEqual([
      'create set default',
      'create set global',
    ]);
    expect(f.calls).toContain(`patch cluster c1 {"labels":{"${SET_LABEL}":"default"}}`);
    expect(f.errors).toEqual([]);
  });

  it('follows membership: a set empties when its cluster moves away', async () => {
    const f = fixture();
    f.hub.put<ManagedClusterSet>('ManagedClusterSet', {
      apiVersion: 'cluster.open-cluster-management.io/v1beta2',
      kind: 'ManagedClusterSet',
      metadata: { name: 'dev' },
      spec: { clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } },
    });
    f.hub.put('ManagedCluster', cluster('c1', { [SET_LABEL]: 'dev' }, 'True'));
    f.controller.start();
    await expect
      .poll(() => f.condition(f.set('dev')))
      .toEqual(['ClusterSetEmpty=False/ClustersSelected: 1 ManagedClusters selected']);
    f.hub.put('ManagedCluster', cluster('c1', { [SET_LABEL]: 'prod' }, 'True'));
    await expect
      .poll(() => f.condition(f.set('dev')))
      .toEqual(['ClusterSetEmpty=True/NoClusterMatched: No ManagedCluster selected']);
  });

  it('binds when the set exists and unbinds when it goes', async () => {
    const f = fixture();
    f.hub.put<ManagedClusterSetBinding>('ManagedClusterSetBinding', {
      apiVersion: 'cluster.open-cluster-management.io/v1beta2',
      kind: 'ManagedClusterSetBinding',
      metadata: { name: 'dev', namespace: 'apps' },
      spec: { clusterSet: 'dev' },
    });
    f.controller.start();
    const bound = () =>
      f.condition(f.hub.get<ManagedClusterSetBinding>('ManagedClusterSetBinding', 'dev', 'apps'));
    await expect
      .poll(bound)
      .toEqual(['Bound=False/ClusterSetNotFound: ManagedClusterSet "dev" not found']);
    f.hub.put<ManagedClusterSet>('ManagedClusterSet', {
      apiVersion: 'cluster.open-cluster-management.io/v1beta2',
      kind: 'ManagedClusterSet',
      metadata: { name: 'dev' },
    });
    await expect
      .poll(bound)
      .toEqual(['Bound=True/ClusterSetBound: ManagedClusterSet dev is bound to this namespace']);
    f.hub.remove('ManagedClusterSet', 'dev');
    await expect
      .poll(bound)
      .toEqual(['Bound=False/ClusterSetNotFound: ManagedClusterSet "dev" not found']);
  });

  it('taints a cluster as its availability changes, re-reading it after a conflict', async () => {
    const f = fixture({ conflicts: 1 });
    f.hub.put('ManagedCluster', cluster('c1', { [SET_LABEL]: 'dev' }));
    f.controller.start();
    const taints = () =>
      f.hub
        .get<ManagedCluster>('ManagedCluster', 'c1')
        ?.spec?.taints?.map((t) => `${t.key}:${t.effect}@${t.timeAdded}`);
    await expect
      .poll(taints)
      .toEqual(['cluster.open-cluster-management.io/unreachable:NoSelect@2026-03-01T10:00:00Z']);
    expect(f.calls.filter((c) => c.endsWith('c1') || c.startsWith('patch cluster'))[0]).toBe(
      'conflict c1',
    );
    f.hub.put('ManagedCluster', {
      ...cluster('c1', { [SET_LABEL]: 'dev' }, 'False'),
      spec: f.hub.get<ManagedCluster>('ManagedCluster', 'c1')?.spec,
    });
    await expect
      .poll(taints)
      .toEqual(['cluster.open-cluster-management.io/unavailable:NoSelect@2026-03-01T10:00:00Z']);
    f.hub.put('ManagedCluster', {
      ...cluster('c1', { [SET_LABEL]: 'dev' }, 'True'),
      spec: f.hub.get<ManagedCluster>('ManagedCluster', 'c1')?.spec,
    });
    await expect.poll(taints).toEqual([]);
    expect(f.errors).toEqual([]);
  });

  it('puts back the selector of a built-in set, and recreates a deleted one', async () => {
    const f = fixture();
    f.controller.start();
    await expect.poll(() => f.set('global')).toBeDefined();
    const global = f.set('global') as ManagedClusterSet;
    f.hub.put('ManagedClusterSet', {
      ...global,
      spec: { clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } },
    });
    await expect
      .poll(() => f.set('global')?.spec)
      .toEqual({ clusterSelector: { selectorType: 'LabelSelector', labelSelector: {} } });
    f.hub.remove('ManagedClusterSet', 'default');
    await expect
      .poll(() => f.set('default')?.spec)
      .toEqual({ clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } });
  });
});
