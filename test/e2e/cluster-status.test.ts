// ManagedCluster status read by the hub through the tunnel: real hub and spoke control planes,
// a real proxy-server and agents (the tunnel rig), the status controller in this process.
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import {
  CLUSTER_GROUP,
  ManagedClusterConditionTypes as T,
  ManagedClusterReasons as R,
  hubCrds,
  spokeCrds,
  type ManagedCluster,
} from '../../hub/api/index.ts';
import { createClusterStatusController } from '../../hub/controllers/cluster-status/index.ts';
import { installCrds } from '../../hub/kube/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';

const hubPlane = inject('hub');
const spokePlane = inject('spoke1');
const CLUSTER = 'spoke1';

function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

const hub = kubeConfig(hubPlane.kubeconfigPath);
const spoke = kubeConfig(spokePlane.kubeconfigPath);
const hubObjects = hub.makeApiClient(CustomObjectsApi);
const spokeObjects = spoke.makeApiClient(CustomObjectsApi);
let created: [KubeConfig, string[]][] = [];

beforeAll(async () => {
  const [onHub, onSpoke] = await Promise.all([
    installCrds(hub, hubCrds()),
    installCrds(spoke, spokeCrds()),
  ]);
  created = [
    [hub, onHub],
    [spoke, onSpoke],
  ];
});

afterAll(async () => {
  // Leave the planes as we found them: CRDs this file created go (with their objects).
  const { ApiextensionsV1Api } = await import('@kubernetes/client-node');
  for (const [kc, names] of created) {
    const api = kc.makeApiClient(ApiextensionsV1Api);
    for (const name of names) await api.deleteCustomResourceDefinition({ name }).catch(() => {});
    // Wait until they are gone, so that a later file can create them again.
    for (const name of names) {
      await eventually(
        `CRD ${name} to be deleted`,
        () =>
          api.readCustomResourceDefinition({ name }).then(
            () => undefined,
            () => true,
          ),
        60_000,
        200,
      );
    }
  }
});

async function managedCluster(): Promise<ManagedCluster> {
  return (await hubObjects.getClusterCustomObject({
    group: CLUSTER_GROUP,
    version: 'v1',
    plural: 'managedclusters',
    name: CLUSTER,
  })) as ManagedCluster;
}

const conditionOf = (mc: ManagedCluster, type: string) =>
  mc.status?.conditions?.find((c) => c.type === type);

/** Resolves when Available has `status`, with the time it took. */
async function availableBecomes(status: string, timeoutMs: number) {
  const started = Date.now();
  let last: ManagedCluster | undefined;
  const mc = await eventually(
    `Available=${status}`,
    async () => {
      const mc = await managedCluster();
      if (conditionOf(mc, T.Available)?.status === status) return mc;
      last = mc;
      return undefined;
    },
    timeoutMs,
    100,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last status: ${JSON.stringify(last?.status)}`);
  });
  return { mc, ms: Date.now() - started };
}

describe('ManagedCluster status through the tunnel', () => {
  it('reports Available, version and claims, Unknown when the tunnel is lost, Available again', async () => {
    await hubObjects.createClusterCustomObject({
      group: CLUSTER_GROUP,
      version: 'v1',
      plural: 'managedclusters',
      body: {
        apiVersion: `${CLUSTER_GROUP}/v1`,
        kind: 'ManagedCluster',
        metadata: { name: CLUSTER },
        spec: { hubAcceptsClient: true },
      },
    });
    onTestFinished(async () => {
      await hubObjects
        .deleteClusterCustomObject({
          group: CLUSTER_GROUP,
          version: 'v1',
          plural: 'managedclusters',
          name: CLUSTER,
        })
        .catch(() => {});
    });

    const rigCluster = { name: CLUSTER, kubeApiserver: new URL(spokePlane.server).host };
    const rig = await startTunnelRig({ transport: 'grpc', clusters: [rigCluster] });
    const errors: string[] = [];
    onTestFinished(() => expect(errors).toEqual([]));
    const controller = createClusterStatusController({
      hub,
      server: rig.server,
      spokeCredentials: (name) => (name === CLUSTER ? spoke : undefined),
      intervalMs: 2_000,
      onError: (cluster, err) => errors.push(`${cluster}: ${String(err)}`),
    });
    controller.start();
    onTestFinished(() => controller.stop());

    const { mc } = await availableBecomes('True', 30_000);
    expect(conditionOf(mc, T.HubAccepted)).toMatchObject({
      status: 'True',
      reason: R.HubClusterAdminAccepted,
    });
    expect(conditionOf(mc, T.Joined)).toMatchObject({
      status: 'True',
      reason: R.ManagedClusterJoined,
    });
    expect(conditionOf(mc, T.Available)?.reason).toBe(R.ManagedClusterAvailable);
    expect(mc.status?.version?.kubernetes).toBe('v1.36.3');
    const kubeSystem = await spoke.makeApiClient(CoreV1Api).readNamespace({ name: 'kube-system' });
    expect(mc.status?.clusterClaims).toEqual(
      expect.arrayContaining([
        { name: 'id.k8s.io', value: kubeSystem.metadata?.uid },
        { name: 'kubeversion.open-cluster-management.io', value: 'v1.36.3' },
      ]),
    );

    // A claim made on the spoke reaches the hub.
    await spokeObjects.createClusterCustomObject({
      group: CLUSTER_GROUP,
      version: 'v1alpha1',
      plural: 'clusterclaims',
      body: {
        apiVersion: `${CLUSTER_GROUP}/v1alpha1`,
        kind: 'ClusterClaim',
        metadata: { name: 'region.example.com' },
        spec: { value: 'eu-west' },
      },
    });
    onTestFinished(async () => {
      await spokeObjects
        .deleteClusterCustomObject({
          group: CLUSTER_GROUP,
          version: 'v1alpha1',
          plural: 'clusterclaims',
          name: 'region.example.com',
        })
        .catch(() => {});
    });
    await controller.reconcile(CLUSTER);
    expect((await managedCluster()).status?.clusterClaims).toContainEqual({
      name: 'region.example.com',
      value: 'eu-west',
    });

    // The agent goes: Unknown within 5 s, still joined.
    const [agent] = rig.agents.get(CLUSTER) ?? [];
    await agent?.close();
    const lost = await availableBecomes('Unknown', 5_000);
    expect(lost.ms).toBeLessThan(5_000);
    expect(conditionOf(lost.mc, T.Available)?.reason).toBe(R.ManagedClusterLeaseUpdateStopped);
    expect(conditionOf(lost.mc, T.Joined)?.status).toBe('True');

    // A new agent: Available again.
    await rig.addAgent(rigCluster, 'a1');
    await availableBecomes('True', 10_000);
    await controller.stop();
    await rig.assertIdle();
  });
});
