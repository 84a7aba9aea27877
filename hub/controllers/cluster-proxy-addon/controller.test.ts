// Reconcile decisions of the cluster-proxy add-on controller, against fake stores that record
// verbs (pure controller logic; test/e2e/cluster-proxy-addon.test.ts uses real planes).
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import {
  AddOnConditionTypes,
  AddOnReasons,
  type ClusterManagementAddOn,
  type ManagedCluster,
  type ManagedClusterAddOn,
} from '../../api/index.ts';
import type { ManagedClusterStore } from '../../kube/index.ts';
import type { AgentApiProbe } from './addon-decision.ts';
import type { AddOnStore } from './addon-store.ts';
import { createClusterProxyAddOnController } from './controller.ts';

const FEATURE = 'feature.open-cluster-management.io/addon-cluster-proxy';

function fixture(clusterNames: string[], options: { accepted?: boolean; reprobeMs?: number } = {}) {
  const calls: string[] = [];
  const clusters = new Map<string, ManagedCluster>(
    clusterNames.map((name) => [
      name,
      {
        apiVersion: 'cluster.open-cluster-management.io/v1',
        kind: 'ManagedCluster',
        metadata: { name, resourceVersion: '1' },
        spec: { hubAcceptsClient: options.accepted ?? true },
      },
    ]),
  );
  let cma: ClusterManagementAddOn | undefined;
  const addons = new Map<string, ManagedClusterAddOn>();
  const clusterStore: ManagedClusterStore = {
    list: async () => [...clusters.values()],
    get: async (name) => structuredClone(clusters.get(name)),
    replaceStatus: async () => true,
    patchLabels: async (name, labels) => {
      calls.push(`patch labels ${name} ${JSON.stringify(labels)}`);
      const cluster = clusters.get(name);
      if (cluster === undefined) return false;
      cluster.metadata = {
        ...cluster.metadata,
        labels: { ...cluster.metadata?.labels, ...(labels as Record<string, string>) },
      };
      return true;
    },
  };
  const addonStore: AddOnStore = {
    ensureClusterManagementAddOn: async (addon) => {
      if (cma === undefined) {
        calls.push('create clustermanagementaddon cluster-proxy');
        cma = { ...structuredClone(addon), metadata: { ...addon.metadata, uid: 'cma-uid' } };
      }
      return structuredClone(cma);
    },
    getManagedClusterAddOn: async (namespace, name) =>
      structuredClone(addons.get(`${namespace}/${name}`)),
    createManagedClusterAddOn: async (addon) => {
      const key = `${addon.metadata?.namespace}/${addon.metadata?.name}`;
      calls.push(`create managedclusteraddon ${key}`);
      const stored = {
        ...structuredClone(addon),
        spec: { installNamespace: 'open-cluster-management-agent-addon' }, // the CRD default
      };
      addons.set(key, stored);
      return structuredClone(stored);
    },
    replaceManagedClusterAddOnStatus: async (addon) => {
      const key = `${addon.metadata?.namespace}/${addon.metadata?.name}`;
      calls.push(`replace status ${key}`);
      addons.set(key, structuredClone(addon));
      return true;
    },
  };
  const agents: { cluster: string }[] = [];
  let probe: AgentApiProbe = { answered: true, status: 200 };
  const probed: string[] = [];
  const controller = createClusterProxyAddOnController({
    hub: new KubeConfig(),
    server: { agents: () => agents },
    spokeKubeConfig: () => new KubeConfig(),
    clusters: clusterStore,
    addons: addonStore,
    probe: async (cluster) => {
      probed.push(cluster);
      return probe;
    },
    now: () => new Date('2026-01-01T00:00:00Z'),
    watch: false,
    ...(options.reprobeMs === undefined ? {} : { reprobeMs: options.reprobeMs }),
  });
  return {
    controller,
    calls,
    agents,
    probed,
    clusters,
    addon: (cluster: string) => addons.get(`${cluster}/cluster-proxy`),
    setProbe: (next: AgentApiProbe) => (probe = next),
    setAddOn: (cluster: string, addon: ManagedClusterAddOn) =>
      addons.set(`${cluster}/cluster-proxy`, addon),
  };
}

const available = (addon: ManagedClusterAddOn | undefined) =>
  addon?.status?.conditions?.find((c) => c.type === AddOnConditionTypes.Available);

describe('cluster-proxy add-on reconcile', () => {
  it('creates the ClusterManagementAddOn once and a ManagedClusterAddOn per cluster', async () => {
    const f = fixture(['c1', 'c2']);
    f.controller.start();
    try {
      await expect.poll(() => f.addon('c2')?.status).toBeDefined();
      await expect.poll(() => f.addon('c1')?.status).toBeDefined();
    } finally {
      await f.controller.stop();
    }
    expect(f.calls.filter((c) => c.startsWith('create clustermanagementaddon'))).toHaveLength(1);
    expect(f.addon('c1')?.metadata).toEqual({
      name: 'cluster-proxy',
      namespace: 'c1',
      ownerReferences: [
        {
          apiVersion: 'addon.open-cluster-management.io/v1alpha1',
          kind: 'ClusterManagementAddOn',
          name: 'cluster-proxy',
          uid: 'cma-uid',
        },
      ],
    });
    // No agent yet: Unknown, and nothing probed.
    expect(available(f.addon('c1'))).toEqual({
      type: 'Available',
      status: 'Unknown',
      reason: AddOnReasons.NoProbeResult,
      message: 'No agent of this cluster is connected to the proxy-server.',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
    expect(f.probed).toEqual([]);
    expect(f.clusters.get('c1')?.metadata?.labels?.[FEATURE]).toBe('unreachable');
  });

  it.each([
    {
      name: 'the agent API answers 200',
      probe: { answered: true, status: 200 } as const,
      condition: {
        status: 'True',
        reason: AddOnReasons.ProbeAvailable,
        message: 'The agent API of the cluster answers through the tunnel (/readyz is 200).',
      },
      label: 'available',
    },
    {
      name: 'the agent API answers 503',
      probe: { answered: true, status: 503 } as const,
      condition: {
        status: 'False',
        reason: AddOnReasons.ProbeUnavailable,
        message: 'The agent API of the cluster answered /readyz with 503.',
      },
      label: 'unhealthy',
    },
    {
      name: 'the agent API cannot be reached',
      probe: { answered: false, error: 'GET /readyz: the agent API is off' } as const,
      condition: {
        status: 'False',
        reason: AddOnReasons.ProbeUnavailable,
        message:
          'The agent API of the cluster cannot be reached through the tunnel: GET /readyz: the agent API is off.',
      },
      label: 'unhealthy',
    },
  ])('with a connected agent: $name', async ({ probe, condition, label }) => {
    const f = fixture(['c1']);
    f.agents.push({ cluster: 'c1' });
    f.setProbe(probe);
    await f.controller.reconcile('c1');
    expect(f.probed).toEqual(['c1']);
    expect(available(f.addon('c1'))).toMatchObject(condition);
    expect(f.addon('c1')?.status).toMatchObject({
      namespace: 'open-cluster-management-agent-addon',
      relatedObjects: [
        {
          group: 'addon.open-cluster-management.io',
          resource: 'clustermanagementaddons',
          name: 'cluster-proxy',
        },
      ],
      addOnMeta: { displayName: 'Cluster Proxy' },
      healthCheck: { mode: 'Customized' },
    });
    expect(f.clusters.get('c1')?.metadata?.labels?.[FEATURE]).toBe(label);
  });

  it('writes nothing when nothing changed, and leaves an existing add-on spec alone', async () => {
    const f = fixture(['c1']);
    f.setAddOn('c1', {
      apiVersion: 'addon.open-cluster-management.io/v1alpha1',
      kind: 'ManagedClusterAddOn',
      metadata: { name: 'cluster-proxy', namespace: 'c1' },
      spec: { installNamespace: 'custom-ns' },
    });
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    expect(f.addon('c1')?.status?.namespace).toBe('custom-ns');
    const before = [...f.calls];
    await f.controller.reconcile('c1');
    expect(f.calls).toEqual(before);
    expect(f.calls.some((c) => c.startsWith('create managedclusteraddon'))).toBe(false);
  });

  it('never probes a cluster the hub does not accept', async () => {
    const f = fixture(['c1'], { accepted: false });
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    expect(f.probed).toEqual([]);
    expect(available(f.addon('c1'))).toMatchObject({
      status: 'Unknown',
      message: 'The cluster is not accepted by the hub.',
    });
  });

  it('leaves a cluster that is gone alone', async () => {
    const f = fixture([]);
    await f.controller.reconcile('c9');
    expect(f.calls).toEqual([]);
  });

  it('reuses a healthy answer while the cluster stays connected, and probes again after a disconnect', async () => {
    const f = fixture(['c1']);
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    await f.controller.reconcile('c1');
    expect(f.probed).toEqual(['c1']);
    expect(available(f.addon('c1'))).toMatchObject({ status: 'True' });

    // The agent leaves: Unknown at once, nothing probed; back, it is probed again.
    f.agents.length = 0;
    await f.controller.reconcile('c1');
    expect(available(f.addon('c1'))).toMatchObject({ status: 'Unknown' });
    f.agents.push({ cluster: 'c1' });
    f.setProbe({ answered: true, status: 503 });
    await f.controller.reconcile('c1');
    expect(f.probed).toEqual(['c1', 'c1']);
    expect(available(f.addon('c1'))).toMatchObject({ status: 'False' });

    // An unhealthy answer is never reused.
    f.setProbe({ answered: true, status: 200 });
    await f.controller.reconcile('c1');
    expect(f.probed).toEqual(['c1', 'c1', 'c1']);
    expect(available(f.addon('c1'))).toMatchObject({ status: 'True' });
  });

  it('probes a connected cluster again once the healthy answer is older than reprobeMs', async () => {
    const f = fixture(['c1'], { reprobeMs: 50 });
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    await f.controller.reconcile('c1');
    expect(f.probed).toEqual(['c1']);
    await new Promise((resolve) => setTimeout(resolve, 60));
    f.setProbe({ answered: false, error: 'GET /readyz: timed out' });
    await f.controller.reconcile('c1');
    expect(f.probed).toEqual(['c1', 'c1']);
    expect(available(f.addon('c1'))).toMatchObject({ status: 'False' });
  });
});
