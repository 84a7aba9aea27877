// ManifestWork delivery as an OCM add-on against the real hub and spoke1: the work add-on
// controller creates the ClusterManagementAddOn `work-manager` and a ManagedClusterAddOn per
// cluster, Available while the cluster's agent is connected and spoke1 serves the
// AppliedManifestWork CRD, read through the tunnel as the hub controllers. Two clusters stand on
// spoke1's API server: one agent serves the agent API, the other not.
import { describe, expect, it } from 'vitest';

import { ADDON_GROUP, AddOnReasons } from '../../hub/api/index.ts';
import { createWorkAddOnController } from '../../hub/controllers/work-addon/index.ts';
import { addOnScenario } from './addon-kit.ts';

const suffix = Date.now().toString(36);
const SERVED = `work-addon-${suffix}`; // its agent serves the agent API
const DARK = `work-addon-off-${suffix}`; // its agent does not
const NAME = 'work-manager';

const scenario = addOnScenario({
  addOn: NAME,
  served: SERVED,
  dark: DARK,
  grantsSuffix: `work-addon-${suffix}`,
  createController: createWorkAddOnController,
});
const { availableBecomes, featureLabelBecomes } = scenario.probe;

describe('the work add-on', () => {
  it('is offered by the hub and Available per cluster while its agent is connected and the AppliedManifestWork CRD is served', async () => {
    const { rig, served, controller, cma } = await scenario.start();
    expect(cma.spec?.addOnMeta?.displayName).toBe('Work Manager');
    expect(cma.spec?.installStrategy?.type).toBe('Manual');

    await scenario.createClusters();

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
