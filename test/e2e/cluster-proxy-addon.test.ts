// The cluster proxy as an OCM add-on against the real hub and spoke1: the controller creates
// the ClusterManagementAddOn, a namespace and ManagedClusterAddOn per cluster, and reports
// Available from the cluster's agent API, probed through the tunnel as the hub controllers.
// Two clusters stand on spoke1's API server: one agent serves the agent API, the other not.
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import {
  ADDON_GROUP,
  AddOnReasons,
  CLUSTER_GROUP,
  type ClusterManagementAddOn,
} from '../../hub/api/index.ts';
import { createClusterProxyAddOnController } from '../../hub/controllers/cluster-proxy-addon/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import {
  controllerRig,
  failOnReconcileErrors,
  grantSpoke,
  type SpokeGrants,
} from './controller-rig.ts';
import { CMA, MC, addOnProbe } from './addon-kit.ts';

const hubPlane = inject('hub');
const spokePlane = inject('spoke1');
const suffix = Date.now().toString(36);
const SERVED = `proxy-addon-${suffix}`; // its agent serves the agent API
const DARK = `proxy-addon-off-${suffix}`; // its agent does not

const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const objects = hub.makeApiClient(CustomObjectsApi);
const probe = addOnProbe(hub, 'cluster-proxy');
const { availableBecomes, featureLabelBecomes } = probe;
let grants: SpokeGrants | undefined;

beforeAll(async () => {
  grants = await grantSpoke(spokePlane, `addon-${suffix}`);
});

afterAll(async () => {
  await grants?.remove();
  await probe.remove([SERVED, DARK]);
});

describe('the cluster-proxy add-on', () => {
  it('is offered by the hub and Available per cluster while its agent API answers', async () => {
    if (grants === undefined) throw new Error('beforeAll did not prepare the spoke');
    const kubeApiserver = new URL(spokePlane.server).host;
    const served = { name: SERVED, kubeApiserver, agentApi: grants.agentApi };
    const rig = await controllerRig(hubPlane, [served, { name: DARK, kubeApiserver }]);
    const controller = createClusterProxyAddOnController({
      hub,
      server: rig.server,
      spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
      // New clusters are found by the ManagedCluster watch; no resync during the test.
      intervalMs: 3_600_000,
      onError: failOnReconcileErrors(),
    });
    controller.start();
    onTestFinished(() => controller.stop());

    const cma = await eventually(
      'the ClusterManagementAddOn cluster-proxy',
      async () =>
        (await objects
          .getClusterCustomObject({ ...CMA, name: 'cluster-proxy' })
          .catch(() => undefined)) as ClusterManagementAddOn | undefined,
      15_000,
      100,
    );
    expect(cma.spec?.addOnMeta?.displayName).toBe('Cluster Proxy');
    expect(cma.spec?.installStrategy?.type).toBe('Manual');

    for (const name of [SERVED, DARK]) {
      await objects.createClusterCustomObject({
        ...MC,
        body: {
          apiVersion: `${CLUSTER_GROUP}/v1`,
          kind: 'ManagedCluster',
          metadata: { name },
          spec: { hubAcceptsClient: true },
        },
      });
    }

    // The served cluster: its namespace and add-on appear, Available through the agent API.
    const available = await availableBecomes(SERVED, 'True', AddOnReasons.ProbeAvailable);
    expect(available.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ClusterManagementAddOn', uid: cma.metadata?.uid }),
    ]);
    expect(available.status).toMatchObject({
      namespace: 'open-cluster-management-agent-addon',
      relatedObjects: [
        { group: ADDON_GROUP, resource: 'clustermanagementaddons', name: 'cluster-proxy' },
      ],
      healthCheck: { mode: 'Customized' },
    });
    await featureLabelBecomes(SERVED, 'available');
    const table = await kubectl(hubPlane.binaries.kubectl, ['get', 'mca', '-n', SERVED], {
      kubeconfig: hubPlane.kubeconfigPath,
    });
    expect(table.stdout).toMatch(/^cluster-proxy\s+True\s/m);

    // The other cluster's agent is connected but serves no agent API: False, with why.
    const dark = await availableBecomes(DARK, 'False', AddOnReasons.ProbeUnavailable);
    expect(dark.status?.conditions?.find((c) => c.type === 'Available')?.message).toContain(
      'the agent API is off',
    );
    await featureLabelBecomes(DARK, 'unhealthy');

    // The served cluster's agent goes: Unknown within seconds; back: Available again.
    const [agent] = rig.agents.get(SERVED) ?? [];
    await agent?.close();
    await availableBecomes(SERVED, 'Unknown', AddOnReasons.NoProbeResult, 5_000);
    await featureLabelBecomes(SERVED, 'unreachable');
    await rig.addAgent(served, 'a1');
    await availableBecomes(SERVED, 'True', AddOnReasons.ProbeAvailable);

    await controller.stop();
    // Its agent-api connections are pooled (keep-alive) until the proxy-server closes them.
    await rig.server.close();
    expect(rig.server.stats()).toEqual({ agents: 0, openStreams: 0, pendingDials: 0 });
  });
});
