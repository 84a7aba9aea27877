// The cluster proxy as an OCM add-on against the real hub and spoke1: the controller creates
// the ClusterManagementAddOn, a namespace and ManagedClusterAddOn per cluster, and reports
// Available from the cluster's agent API, probed through the tunnel as the hub controllers.
// Two clusters stand on spoke1's API server: one agent serves the agent API, the other not.
import { describe, expect, inject, it } from 'vitest';

import { ADDON_GROUP, AddOnReasons } from '../../hub/api/index.ts';
import { createClusterProxyAddOnController } from '../../hub/controllers/cluster-proxy-addon/index.ts';
import { kubectl } from '../framework/kubectl.ts';
import { addOnScenario } from './addon-kit.ts';

const hubPlane = inject('hub');
const suffix = Date.now().toString(36);
const SERVED = `proxy-addon-${suffix}`; // its agent serves the agent API
const DARK = `proxy-addon-off-${suffix}`; // its agent does not

const scenario = addOnScenario({
  addOn: 'cluster-proxy',
  served: SERVED,
  dark: DARK,
  grantsSuffix: `addon-${suffix}`,
  createController: createClusterProxyAddOnController,
});
const { availableBecomes, featureLabelBecomes } = scenario.probe;

describe('the cluster-proxy add-on', () => {
  it('is offered by the hub and Available per cluster while its agent API answers', async () => {
    const { rig, served, controller, cma } = await scenario.start();
    expect(cma.spec?.addOnMeta?.displayName).toBe('Cluster Proxy');
    expect(cma.spec?.installStrategy?.type).toBe('Manual');

    await scenario.createClusters();

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
