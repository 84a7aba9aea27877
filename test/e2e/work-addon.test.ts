// ManifestWork delivery as an OCM add-on against the real hub and spoke1: the work add-on
// controller creates the ClusterManagementAddOn `work-manager` and a ManagedClusterAddOn per
// cluster, Available while the cluster's agent is connected and spoke1 serves the
// AppliedManifestWork CRD, read through the tunnel as the hub controllers. Two clusters stand on
// spoke1's API server: one agent serves the agent API, the other not.
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import {
  ADDON_GROUP,
  AddOnReasons,
  CLUSTER_GROUP,
  type ClusterManagementAddOn,
} from '../../hub/api/index.ts';
import { createWorkAddOnController } from '../../hub/controllers/work-addon/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually } from '../framework/kubectl.ts';
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
const SERVED = `work-addon-${suffix}`; // its agent serves the agent API
const DARK = `work-addon-off-${suffix}`; // its agent does not
const NAME = 'work-manager';

const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const objects = hub.makeApiClient(CustomObjectsApi);
const probe = addOnProbe(hub, NAME);
const { availableBecomes, featureLabelBecomes } = probe;
let grants: SpokeGrants | undefined;

beforeAll(async () => {
  grants = await grantSpoke(spokePlane, `work-addon-${suffix}`);
});

afterAll(async () => {
  await grants?.remove();
  await probe.remove([SERVED, DARK]);
});

describe('the work add-on', () => {
  it('is offered by the hub and Available per cluster while its agent is connected and the AppliedManifestWork CRD is served', async () => {
    if (grants === undefined) throw new Error('beforeAll did not prepare the spoke');
    const kubeApiserver = new URL(spokePlane.server).host;
    const served = { name: SERVED, kubeApiserver, agentApi: grants.agentApi };
    const rig = await controllerRig(hubPlane, [served, { name: DARK, kubeApiserver }]);
    const controller = createWorkAddOnController({
      hub,
      server: rig.server,
      spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
      intervalMs: 3_600_000,
      onError: failOnReconcileErrors(),
    });
    controller.start();
    onTestFinished(() => controller.stop());

    const cma = await eventually(
      'the ClusterManagementAddOn work-manager',
      async () =>
        (await objects.getClusterCustomObject({ ...CMA, name: NAME }).catch(() => undefined)) as
          ClusterManagementAddOn | undefined,
      15_000,
      100,
    );
    expect(cma.spec?.addOnMeta?.displayName).toBe('Work Manager');
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

    const available = await availableBecomes(SERVED, 'True', AddOnReasons.ProbeAvailable);
    expect(available.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ClusterManagementAddOn', uid: cma.metadata?.uid }),
    ]);
    expect(available.status).toMatchObject({
      relatedObjects: [{ group: ADDON_GROUP, resource: 'clustermanagementaddons', name: NAME }],
      healthCheck: { mode: 'Customized' },
    });
    expect(available.status?.conditions?.find((c) => c.type === 'Available')?.message).toBe(
      'The agent of the cluster is connected and the AppliedManifestWork CRD is installed on it.',
    );
    await featureLabelBecomes(SERVED, 'available');

    // Connected, but the spoke cannot be read through it: False.
    await availableBecomes(DARK, 'False', AddOnReasons.ProbeUnavailable);
    await featureLabelBecomes(DARK, 'unhealthy');

    // The agent goes: Unknown; back: Available again.
    const [agent] = rig.agents.get(SERVED) ?? [];
    await agent?.close();
    await availableBecomes(SERVED, 'Unknown', AddOnReasons.NoProbeResult, 5_000);
    await rig.addAgent(served, 'a1');
    await availableBecomes(SERVED, 'True', AddOnReasons.ProbeAvailable);

    await controller.stop();
    await rig.server.close();
    expect(rig.server.stats()).toEqual({ agents: 0, openStreams: 0, pendingDials: 0 });
  });
});
