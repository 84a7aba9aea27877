// Reconcile decisions of the cluster status controller, with a fake store that records writes
// and a fake registry (pure controller logic; the e2e test uses real planes and tunnels).
import { describe, expect, it } from 'vitest';

import {
  ManagedClusterConditionTypes as T,
  ManagedClusterReasons as R,
  type ManagedCluster,
} from '../../api/index.ts';
import type { ManagedClusterStore } from '../../kube/index.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { createClusterStatusController } from './controller.ts';
import type { SpokeProbe } from './status-decision.ts';

function fixture(accepted: boolean, unreachedRetryMs = 3_600_000) {
  let cluster: ManagedCluster = {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: { name: 'c1', resourceVersion: '1' },
    spec: { hubAcceptsClient: accepted },
  };
  const writes: ManagedCluster[] = [];
  const store: ManagedClusterStore = {
    list: async () => [cluster],
    get: async (name) => (name === 'c1' ? structuredClone(cluster) : undefined),
    replaceStatus: async (next) => {
      writes.push(structuredClone(next));
      cluster = structuredClone(next);
      return true;
    },
    patchLabels: async () => true,
  };
  const agents: { cluster: string }[] = [];
  const claim = { apiVersion: 'cluster.open-cluster-management.io/v1alpha1', kind: 'ClusterClaim' };
  let probe: SpokeProbe = {
    reached: true,
    readyz: 200,
    kubernetesVersion: 'v1.36.3',
    kubeSystemUid: 'uid-1',
    claims: [
      { ...claim, metadata: { name: 'region' }, spec: { value: 'eu' } },
      {
        ...claim,
        metadata: { name: 'secret', labels: { 'open-cluster-management.io/spoke-only': '' } },
        spec: { value: 'x' },
      },
    ],
  };
  let clock = new Date('2026-01-01T00:00:00Z');
  const probes: ('full' | 'light')[] = [];
  /** How the cluster's agents answer a tunnel ping. */
  let pings: 'answer' | 'silent' | 'none' = 'answer';
  let notify: ((name: string) => void) | undefined;
  const controller = createClusterStatusController({
    hub: new KubeConfig(),
    server: {
      agents: () => agents,
      pingCluster: async (name: string) =>
        pings === 'none' ? undefined : pings === 'answer' && agents.some((a) => a.cluster === name),
    },
    spokeKubeConfig: () => new KubeConfig(),
    store,
    // As probeSpoke: a light probe (details false) leaves out version, kube-system and nodes.
    probe: async (_cluster, _spoke, details) => {
      probes.push(details ? 'full' : 'light');
      if (details || !probe.reached) return probe;
      const light: SpokeProbe = { reached: true, readyz: probe.readyz };
      if (probe.claims !== undefined) Object.assign(light, { claims: probe.claims });
      return light;
    },
    now: () => clock,
    intervalMs: 3_600_000,
    unreachedRetryMs,
    watch: (onChange) => {
      notify = onChange;
      return { stop: async () => undefined };
    },
  });
  return {
    controller,
    writes,
    agents,
    probes,
    /** What the ManagedCluster watch reports. */
    changed: (name: string) => notify?.(name),
    setCluster: (next: ManagedCluster) => (cluster = next),
    get cluster() {
      return cluster;
    },
    setProbe: (p: SpokeProbe) => (probe = p),
    setPings: (p: typeof pings) => (pings = p),
    tick: (ms: number) => (clock = new Date(clock.getTime() + ms)),
  };
}

const condition = (c: ManagedCluster, type: string) =>
  c.status?.conditions?.find((x) => x.type === type);

describe('cluster status reconcile', () => {
  it('accepts, joins and reports Available with version and claims', async () => {
    const f = fixture(true);
    await f.controller.reconcile('c1');
    expect(condition(f.cluster, T.HubAccepted)).toMatchObject({
      status: 'True',
      reason: R.HubClusterAdminAccepted,
    });
    expect(condition(f.cluster, T.Joined)).toBeUndefined();
    expect(condition(f.cluster, T.Available)).toBeUndefined();

    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    expect(condition(f.cluster, T.Joined)).toMatchObject({
      status: 'True',
      reason: R.ManagedClusterJoined,
    });
    expect(condition(f.cluster, T.Available)).toMatchObject({
      status: 'True',
      reason: R.ManagedClusterAvailable,
    });
    expect(f.cluster.status?.version).toEqual({ kubernetes: 'v1.36.3' });
    expect(f.cluster.status?.clusterClaims).toEqual([
      { name: 'id.k8s.io', value: 'uid-1' },
      { name: 'kubeversion.open-cluster-management.io', value: 'v1.36.3' },
      { name: 'region', value: 'eu' },
    ]);
  });

  it('reads version, kube-system and nodes on connect and every 5 min, readyz and claims at every pass', async () => {
    const f = fixture(true);
    f.agents.push({ cluster: 'c1' });
    f.setProbe({
      reached: true,
      readyz: 200,
      kubernetesVersion: 'v1.36.3',
      kubeSystemUid: 'uid-1',
      claims: [],
      resources: { capacity: { cpu: '4' }, allocatable: { cpu: '4' } },
    });
    await f.controller.reconcile('c1');
    const full = structuredClone(f.cluster.status);
    f.tick(60_000);
    await f.controller.reconcile('c1');
    f.tick(60_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'light', 'light']);
    // The light passes kept what the full one found.
    expect(f.cluster.status?.version).toEqual(full?.version);
    expect(f.cluster.status?.capacity).toEqual(full?.capacity);
    expect(f.cluster.status?.clusterClaims).toEqual(full?.clusterClaims);
    f.tick(300_000);
    await f.controller.reconcile('c1');
    expect(f.probes.at(-1)).toBe('full');
    // The agent leaves and comes back: a full probe at once.
    f.agents.length = 0;
    await f.controller.reconcile('c1');
    f.agents.push({ cluster: 'c1' });
    f.tick(1_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'light', 'light', 'full', 'full']);
  });

  it('asks a ready cluster again after 45 s, one that was not ready or just came back at once', async () => {
    const f = fixture(true);
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    f.tick(30_000);
    await f.controller.reconcile('c1'); // ready 30 s ago: that answer stands
    expect(f.probes).toEqual(['full']);
    f.tick(15_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'light']);
    // Not ready: asked at every pass, however recent.
    f.setProbe({ reached: true, readyz: 500 });
    f.tick(45_000);
    await f.controller.reconcile('c1');
    f.tick(1_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'light', 'light', 'light']);
    expect(condition(f.cluster, T.Available)?.status).toBe('False');
    // Ready again, then the agent leaves and comes back a second later: asked at once (full).
    f.setProbe({ reached: true, readyz: 200, kubernetesVersion: 'v1', kubeSystemUid: 'u' });
    await f.controller.reconcile('c1');
    expect(condition(f.cluster, T.Available)?.status).toBe('True');
    f.agents.length = 0;
    await f.controller.reconcile('c1');
    f.agents.push({ cluster: 'c1' });
    f.tick(1_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'light', 'light', 'light', 'light', 'full']);
  });

  it('reuses a ready answer only while the tunnel answers a ping', async () => {
    const f = fixture(true);
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    // A blackhole: the agent is still registered, its tunnel silent. Probed at once, not reused.
    f.setPings('silent');
    f.setProbe({ reached: false, error: 'timeout' });
    f.tick(30_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'light']);
    expect(condition(f.cluster, T.Available)?.status).toBe('Unknown');
    // Agents that cannot be pinged (no `ping` extension): asked at every pass.
    f.setPings('none');
    f.setProbe({ reached: true, readyz: 200, kubernetesVersion: 'v1', kubeSystemUid: 'u' });
    await f.controller.reconcile('c1');
    f.tick(1_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'light', 'light', 'light']);
    expect(condition(f.cluster, T.Available)?.status).toBe('True');
  });

  it('probes a connected cluster that did not answer again within seconds, without a trigger', async () => {
    const f = fixture(true, 50);
    f.agents.push({ cluster: 'c1' });
    f.controller.start();
    try {
      f.setProbe({ reached: false, error: 'timeout' });
      await f.controller.reconcile('c1');
      expect(condition(f.cluster, T.Available)?.status).toBe('Unknown');
      // The spoke answers now: the retry, not a resync (an hour away here), finds it ready.
      f.setProbe({ reached: true, readyz: 200, kubernetesVersion: 'v1', kubeSystemUid: 'u' });
      await expect
        .poll(() => condition(f.cluster, T.Available)?.status, { timeout: 3_000 })
        .toBe('True');
      const probes = f.probes.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(f.probes.length).toBe(probes); // ready: no more retries
    } finally {
      await f.controller.stop();
    }
  });

  it('asks for the details again until a full probe could read them', async () => {
    const f = fixture(true);
    f.agents.push({ cluster: 'c1' });
    // Before the controllers' group is bound: /version and kube-system refused.
    f.setProbe({ reached: true, readyz: 200, claims: [] });
    await f.controller.reconcile('c1');
    f.tick(30_000);
    await f.controller.reconcile('c1');
    expect(f.probes).toEqual(['full', 'full']);
  });

  it('writes nothing and keeps lastTransitionTime when nothing changed', async () => {
    const f = fixture(true);
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    const before = f.writes.length;
    const since = condition(f.cluster, T.Available)?.lastTransitionTime;
    f.tick(60_000);
    await f.controller.reconcile('c1');
    expect(f.writes.length).toBe(before);
    expect(condition(f.cluster, T.Available)?.lastTransitionTime).toBe(since);
  });

  it('turns Unknown when the tunnel is lost, False when /readyz fails, and stays Joined', async () => {
    const f = fixture(true);
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    f.agents.pop();
    f.tick(1_000);
    await f.controller.reconcile('c1');
    expect(condition(f.cluster, T.Available)).toMatchObject({
      status: 'Unknown',
      reason: R.ManagedClusterLeaseUpdateStopped,
    });
    expect(condition(f.cluster, T.Joined)?.status).toBe('True');
    expect(f.cluster.status?.version).toEqual({ kubernetes: 'v1.36.3' });

    f.agents.push({ cluster: 'c1' });
    f.setProbe({ reached: true, readyz: 500 });
    await f.controller.reconcile('c1');
    expect(condition(f.cluster, T.Available)).toMatchObject({
      status: 'False',
      reason: R.ManagedClusterKubeAPIServerUnavailable,
    });

    f.setProbe({ reached: false, error: 'reset' });
    await f.controller.reconcile('c1');
    expect(condition(f.cluster, T.Available)?.status).toBe('Unknown');
  });

  it('never probes or reports Available for a cluster the hub does not accept', async () => {
    const f = fixture(false);
    f.agents.push({ cluster: 'c1' });
    await f.controller.reconcile('c1');
    expect(f.writes).toEqual([]);
    expect(condition(f.cluster, T.Available)).toBeUndefined();
  });

  it('reports node capacity and allocatable, keeping keys other controllers wrote', async () => {
    const f = fixture(true);
    f.agents.push({ cluster: 'c1' });
    f.setCluster({
      ...f.cluster,
      status: { capacity: { socket_worker: '2' }, allocatable: { cpu: '1' } },
    });
    f.setProbe({
      reached: true,
      readyz: 200,
      resources: { capacity: { cpu: '8', memory: '32Gi' }, allocatable: { cpu: '7500m' } },
    });
    await f.controller.reconcile('c1');
    expect(f.cluster.status?.capacity).toEqual({ socket_worker: '2', cpu: '8', memory: '32Gi' });
    expect(f.cluster.status?.allocatable).toEqual({ cpu: '7500m' });

    // No nodes (no resources in the probe): left as they are.
    f.setProbe({ reached: true, readyz: 200 });
    await f.controller.reconcile('c1');
    expect(f.cluster.status?.capacity).toEqual({ socket_worker: '2', cpu: '8', memory: '32Gi' });
  });

  it('reconciles a cluster as soon as the watch reports it, not at the next resync', async () => {
    const f = fixture(true);
    f.controller.start();
    try {
      await expect.poll(() => condition(f.cluster, T.HubAccepted)?.status).toBe('True');
      f.setCluster({ ...f.cluster, spec: { hubAcceptsClient: false } });
      f.changed('c1');
      await expect.poll(() => condition(f.cluster, T.HubAccepted)?.status).toBe('False');
    } finally {
      await f.controller.stop();
    }
  });

  it('reconciles a cluster when its agents come or go', async () => {
    const f = fixture(true);
    f.controller.start();
    try {
      await expect.poll(() => condition(f.cluster, T.HubAccepted)?.status).toBe('True');
      f.agents.push({ cluster: 'c1' });
      await expect
        .poll(() => condition(f.cluster, T.Available)?.status, { timeout: 3_000 })
        .toBe('True');
      f.agents.pop();
      await expect
        .poll(() => condition(f.cluster, T.Available)?.status, { timeout: 3_000 })
        .toBe('Unknown');
    } finally {
      await f.controller.stop();
    }
  });
});
