// ManagedCluster status read by the hub through the tunnel: real hub and spoke control planes,
// a real proxy-server and agents (the tunnel rig), the status controller in this process. The
// controller reaches the spoke only through the agent API, as the hub controllers' identity
// (bound to cluster-admin on the spoke, as join does); it holds no spoke credentials.
import {
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Node,
} from '@kubernetes/client-node';
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
import { HUB_CONTROLLER_IDENTITY, HUB_CONTROLLERS_SPOKE_GROUP } from '../../proxy-server/index.ts';
import { eventually } from '../framework/kubectl.ts';
import {
  controllerRig,
  failOnReconcileErrors,
  grantSpoke,
  type SpokeGrants,
} from './controller-rig.ts';

const hubPlane = inject('hub');
const spokePlane = inject('spoke1');
const CLUSTER = 'spoke1';
const suffix = Date.now().toString(36);
const NODE = `spokelink-status-node-${suffix}`;

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
let grants: SpokeGrants | undefined;

beforeAll(async () => {
  grants = await grantSpoke(spokePlane, suffix);
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
  await grants?.remove();
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

/** A Node object with this status (no kubelet will ever report for it). */
async function createNode(
  name: string,
  unschedulable: boolean,
  capacity: Record<string, string>,
  allocatable: Record<string, string>,
): Promise<void> {
  const core = spoke.makeApiClient(CoreV1Api);
  const status = { capacity, allocatable };
  const node: V1Node = await core.createNode({
    body: { metadata: { name }, spec: { unschedulable }, status },
  });
  // Create keeps a node's status; should a release drop it, write it through the subresource.
  if (node.status?.capacity?.['cpu'] === undefined)
    await core.replaceNodeStatus({ name, body: { ...node, status } });
}

async function deleteNode(name: string): Promise<void> {
  await spoke
    .makeApiClient(CoreV1Api)
    .deleteNode({ name })
    .catch(() => undefined);
}

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
    if (grants === undefined) throw new Error('beforeAll did not prepare the spoke');
    const rigCluster = {
      name: CLUSTER,
      kubeApiserver: new URL(spokePlane.server).host,
      agentApi: grants.agentApi,
    };
    const rig = await controllerRig(hubPlane, [rigCluster]);
    const controller = createClusterStatusController({
      hub,
      server: rig.server,
      spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
      // Only the ManagedCluster watch can notice the new cluster: no resync during the test.
      intervalMs: 3_600_000,
      // Every pass reads the nodes (a hub reads them every 5 min): the test adds some below.
      detailsIntervalMs: 0,
      // …and asks the spoke again: a ready answer is not reused (a hub reuses it for 45 s).
      readyReuseMs: 0,
      onError: failOnReconcileErrors(),
    });
    controller.start();
    onTestFinished(() => controller.stop());

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
    // The spoke has no nodes (no kubelet): no capacity, as OCM with no nodes to sum.
    expect(mc.status?.capacity).toBeUndefined();
    const kubeSystem = await spoke.makeApiClient(CoreV1Api).readNamespace({ name: 'kube-system' });
    expect(mc.status?.clusterClaims).toEqual(
      expect.arrayContaining([
        { name: 'id.k8s.io', value: kubeSystem.metadata?.uid },
        { name: 'kubeversion.open-cluster-management.io', value: 'v1.36.3' },
      ]),
    );

    // The controller's view of the spoke: client-node through the agent API, as the hub
    // controllers' identity (the spoke says who it is talking to).
    const asController = rig.server.spokeKubeConfig(CLUSTER, HUB_CONTROLLER_IDENTITY);
    const review = await asController
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('spokelink:hub:system:spokelink:hub-controller');
    expect(review.status?.userInfo?.groups).toEqual(
      expect.arrayContaining([HUB_CONTROLLERS_SPOKE_GROUP, 'system:authenticated']),
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

    // A node appears (a Node object is real API data even without a kubelet): its capacity
    // and allocatable are summed into the status; a cordoned one counts in capacity only.
    await createNode(NODE, false, { cpu: '4', memory: '8Gi', pods: '110' }, { cpu: '3500m' });
    onTestFinished(() => deleteNode(NODE));
    await createNode(`${NODE}-b`, true, { cpu: '2', memory: '4Gi' }, { cpu: '2' });
    onTestFinished(() => deleteNode(`${NODE}-b`));
    await controller.reconcile(CLUSTER);
    const sized = await managedCluster();
    expect(sized.status?.capacity).toEqual({ cpu: '6', memory: '12Gi', pods: '110' });
    expect(sized.status?.allocatable).toEqual({ cpu: '3500m' });

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
    // Its agent-api connections are pooled (keep-alive) until the proxy-server closes them.
    await rig.server.close();
    expect(rig.server.stats()).toEqual({ agents: 0, openStreams: 0, pendingDials: 0 });
  });
});
