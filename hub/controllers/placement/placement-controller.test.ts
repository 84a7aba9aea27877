// The placement controller's reconcile against in-memory caches and a fake store that records
// verbs and writes back through the caches (test/e2e/placement.test.ts uses a real hub).
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';

import type {
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  Placement,
  PlacementDecision,
  PlacementSpec,
  Taint,
} from '../../api/index.ts';
import { MemoryHub } from '../cluster-set/testing/memory-hub.ts';
import { createPlacementController, type PlacementController } from './placement-controller.ts';
import type { PlacementStore } from './placement-store.ts';

const SET_LABEL = 'cluster.open-cluster-management.io/clusterset';
const PLACEMENT_LABEL = 'cluster.open-cluster-management.io/placement';

function cluster(
  name: string,
  labels: Record<string, string>,
  taints: Taint[] = [],
): ManagedCluster {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: { name, labels },
    spec: { taints },
  };
}

function placement(
  name: string,
  spec: PlacementSpec = {},
  annotations?: Record<string, string>,
): Placement {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta1',
    kind: 'Placement',
    metadata: {
      name,
      namespace: 'apps',
      uid: `uid-${name}`,
      ...(annotations === undefined ? {} : { annotations }),
    },
    spec,
  };
}

function fixture(options: { failures?: number } = {}) {
  const hub = new MemoryHub();
  const calls: string[] = [];
  const errors: string[] = [];
  let failures = options.failures ?? 0;
  const decision = (namespace: string, name: string) =>
    hub.get<PlacementDecision>('PlacementDecision', name, namespace);
  const store: PlacementStore = {
    async createDecision(d) {
      calls.push(`create ${d.metadata?.name}`);
      const body: PlacementDecision = { ...d };
      delete body.status;
      if (decision(d.metadata?.namespace ?? '', d.metadata?.name ?? '') === undefined)
        hub.put('PlacementDecision', body);
    },
    async patchDecisionStatus(namespace, name, status) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('HTTP 500: etcd is busy');
      }
      calls.push(`status ${name} ${status.decisions.map((d) => d.clusterName).join(',')}`);
      const current = decision(namespace, name);
      if (current === undefined) throw new Error(`${name} not found`);
      hub.put('PlacementDecision', { ...current, status });
    },
    async patchDecisionLabels(namespace, name, labels) {
      calls.push(`labels ${name}`);
      const current = decision(namespace, name);
      if (current !== undefined)
        hub.put('PlacementDecision', {
          ...current,
          metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...labels } },
        });
    },
    async deleteDecision(namespace, name) {
      calls.push(`delete ${name}`);
      hub.remove('PlacementDecision', name, namespace);
    },
    async patchPlacementStatus(namespace, name, status) {
      calls.push(`placement status ${name} ${status.numberOfSelectedClusters}`);
      const current = hub.get<Placement>('Placement', name, namespace);
      if (current !== undefined) hub.put('Placement', { ...current, status });
    },
  };
  hub.put<ManagedClusterSet>('ManagedClusterSet', {
    apiVersion: 'cluster.open-cluster-management.io/v1beta2',
    kind: 'ManagedClusterSet',
    metadata: { name: 'dev' },
    spec: { clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } },
  });
  hub.put<ManagedClusterSetBinding>('ManagedClusterSetBinding', {
    apiVersion: 'cluster.open-cluster-management.io/v1beta2',
    kind: 'ManagedClusterSetBinding',
    metadata: { name: 'dev', namespace: 'apps' },
    spec: { clusterSet: 'dev' },
  });
  const controller = createPlacementController({
    hub: new KubeConfig(),
    store,
    caches: hub.startCache,
    intervalMs: 60_000,
    onError: (what, err) => errors.push(`${what}: ${(err as Error).message}`),
  });
  running.push(controller);
  const decided = (name: string) =>
    hub
      .list<PlacementDecision>('PlacementDecision')
      .filter((d) => d.metadata?.labels?.[PLACEMENT_LABEL] === name)
      .sort((a, b) =>
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '', 'en', { numeric: true }),
      )
      .map((d) => [
        d.metadata?.name,
        (d.status?.decisions ?? []).map((c) => c.clusterName).join(','),
      ]);
  const status = (name: string) => hub.get<Placement>('Placement', name, 'apps')?.status;
  return { hub, calls, errors, controller, decided, status };
}

const running: PlacementController[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

const inDev = (labels: Record<string, string> = {}) => ({ [SET_LABEL]: 'dev', ...labels });

describe('placement controller', () => {
  it('writes decisions and status once, and nothing more when nothing changed', async () => {
    const f = fixture();
    f.hub.put('ManagedCluster', cluster('c2', inDev()));
    f.hub.put('ManagedCluster', cluster('c1', inDev()));
    f.hub.put('Placement', placement('p'));
    f.controller.start();
    await f.controller.synced;
    await expect.poll(() => f.status('p')?.numberOfSelectedClusters).toBe(2);
    expect(f.decided('p')).toEqual([['p-decision-1', 'c1,c2']]);
    expect(f.calls).toEqual([
      'create p-decision-1',
      'status p-decision-1 c1,c2',
      'placement status p 2',
    ]);
    const decision = f.hub.get<PlacementDecision>('PlacementDecision', 'p-decision-1', 'apps');
    expect(decision?.metadata?.labels).toEqual({
      [PLACEMENT_LABEL]: 'p',
      'cluster.open-cluster-management.io/decision-group-name': '',
      'cluster.open-cluster-management.io/decision-group-index': '0',
    });
    expect(decision?.metadata).toMatchObject({
      ownerReferences: [{ kind: 'Placement', name: 'p', uid: 'uid-p', controller: true }],
    });
    await f.controller.reconcile('apps/p');
    expect(f.calls).toHaveLength(3);
    expect(f.errors).toEqual([]);
  });

  it('follows label changes, new clusters and removed ones', async () => {
    const f = fixture();
    f.hub.put('ManagedCluster', cluster('c1', inDev({ env: 'prod' })));
    f.hub.put('ManagedCluster', cluster('c2', inDev({ env: 'dev' })));
    f.hub.put(
      'Placement',
      placement('p', {
        predicates: [
          { requiredClusterSelector: { labelSelector: { matchLabels: { env: 'prod' } } } },
        ],
      }),
    );
    f.controller.start();
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', 'c1']]);
    f.hub.put('ManagedCluster', cluster('c2', inDev({ env: 'prod' })));
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', 'c1,c2']]);
    f.hub.put('ManagedCluster', cluster('c1', inDev({ env: 'dev' })));
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', 'c2']]);
    f.hub.remove('ManagedCluster', 'c2');
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', '']]);
    await expect
      .poll(() => f.status('p')?.conditions?.find((c) => c.type === 'PlacementSatisfied')?.reason)
      .toBe('NoManagedClusterMatched');
    // A cluster leaving the set (its set label changed) leaves the decisions too.
    f.hub.put('ManagedCluster', cluster('c3', inDev({ env: 'prod' })));
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', 'c3']]);
    f.hub.put('ManagedCluster', cluster('c3', { [SET_LABEL]: 'other', env: 'prod' }));
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', '']]);
    expect(f.errors).toEqual([]);
  });

  it('follows bindings: no binding, then one', async () => {
    const f = fixture();
    f.hub.remove('ManagedClusterSetBinding', 'dev', 'apps');
    f.hub.put('ManagedCluster', cluster('c1', inDev()));
    f.hub.put('Placement', placement('p'));
    f.controller.start();
    await expect
      .poll(() => f.status('p')?.conditions?.find((c) => c.type === 'PlacementSatisfied')?.reason)
      .toBe('NoManagedClusterSetBindings');
    expect(f.decided('p')).toEqual([['p-decision-1', '']]);
    f.hub.put<ManagedClusterSetBinding>('ManagedClusterSetBinding', {
      apiVersion: 'cluster.open-cluster-management.io/v1beta2',
      kind: 'ManagedClusterSetBinding',
      metadata: { name: 'dev', namespace: 'apps' },
      spec: { clusterSet: 'dev' },
    });
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', 'c1']]);
  });

  it('pages 250 clusters into three PlacementDecisions, and deletes the pages no longer needed', async () => {
    const f = fixture();
    for (let i = 0; i < 250; i++)
      f.hub.put('ManagedCluster', cluster(`c${String(i).padStart(3, '0')}`, inDev()));
    f.hub.put('Placement', placement('p'));
    f.controller.start();
    await expect
      .poll(() => f.decided('p').map(([name]) => name))
      .toEqual(['p-decision-1', 'p-decision-2', 'p-decision-3']);
    expect(f.decided('p').map(([, clusters]) => clusters?.split(',').length)).toEqual([
      100, 100, 50,
    ]);
    expect(f.status('p')?.decisionGroups).toEqual([
      {
        decisionGroupIndex: 0,
        decisionGroupName: '',
        decisions: ['p-decision-1', 'p-decision-2', 'p-decision-3'],
        clusterCount: 250,
      },
    ]);
    f.hub.put('Placement', placement('p', { numberOfClusters: 120 }));
    await expect
      .poll(() => f.decided('p').map(([name]) => name))
      .toEqual(['p-decision-1', 'p-decision-2']);
    expect(f.calls).toContain('delete p-decision-3');
    // Steady: the 120 kept are the first 120 by name, which they were already.
    expect(f.decided('p')[1]?.[1]?.split(',')).toHaveLength(20);
  });

  it('drops a tolerated cluster when its tolerationSeconds run out, with no other event', async () => {
    const f = fixture();
    // Tainted 700 ms less than a second ago: tolerated for about 300 ms more.
    const timeAdded = new Date(Date.now() - 700).toISOString();
    const unreachable: Taint = {
      key: 'cluster.open-cluster-management.io/unreachable',
      effect: 'NoSelect',
      timeAdded,
    };
    f.hub.put('ManagedCluster', cluster('c1', inDev(), [unreachable]));
    f.hub.put('ManagedCluster', cluster('c2', inDev()));
    f.hub.put(
      'Placement',
      placement('p', {
        tolerations: [
          {
            key: 'cluster.open-cluster-management.io/unreachable',
            operator: 'Exists',
            tolerationSeconds: 1,
          },
        ],
      }),
    );
    f.controller.start();
    await expect.poll(() => f.calls).toContain('status p-decision-1 c1,c2');
    await expect.poll(() => f.decided('p')).toEqual([['p-decision-1', 'c2']]);
  });

  it('leaves a placement with scheduling disabled alone', async () => {
    const f = fixture();
    f.hub.put('ManagedCluster', cluster('c1', inDev()));
    f.hub.put(
      'Placement',
      placement(
        'p',
        {},
        { 'cluster.open-cluster-management.io/experimental-scheduling-disable': 'true' },
      ),
    );
    f.controller.start();
    await f.controller.synced;
    await f.controller.reconcile('apps/p');
    expect(f.calls).toEqual([]);
  });

  it('gives Balance the decisions of other placements', async () => {
    const f = fixture();
    for (const name of ['a', 'b', 'c']) f.hub.put('ManagedCluster', cluster(name, inDev()));
    f.hub.put('Placement', placement('first', { numberOfClusters: 1 }));
    f.controller.start();
    await expect.poll(() => f.decided('first')).toEqual([['first-decision-1', 'a']]);
    f.hub.put('Placement', placement('second', { numberOfClusters: 2 }));
    await expect.poll(() => f.decided('second')).toEqual([['second-decision-1', 'b,c']]);
    // And the first keeps its cluster (Steady + Balance: a is not used by the second).
    await f.controller.reconcile('apps/first');
    expect(f.decided('first')).toEqual([['first-decision-1', 'a']]);
  });

  it('retries a failed write with backoff and reports the failure', async () => {
    const f = fixture({ failures: 1 });
    f.hub.put('ManagedCluster', cluster('c1', inDev()));
    f.hub.put('Placement', placement('p'));
    f.controller.start();
    await expect.poll(() => f.decided('p'), { timeout: 5_000 }).toEqual([['p-decision-1', 'c1']]);
    expect(f.errors).toEqual(['Placement apps/p: HTTP 500: etcd is busy']);
  });
});
