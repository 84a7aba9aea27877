// The work add-on's status decisions (the controller loop is the shared add-on controller's,
// tested in cluster-proxy-addon; test/e2e/work-addon.test.ts runs it on real planes).
import { describe, expect, it } from 'vitest';

import type { ManagedClusterAddOn } from '../../api/index.ts';
import {
  clusterManagementAddOn,
  decideAddOnStatus,
  managedClusterAddOn,
  type AddOnObservation,
} from '../cluster-proxy-addon/index.ts';
import { WORK_ADDON } from './work-addon-controller.ts';

const NOW = new Date('2026-03-01T10:00:00Z');
const CMA = clusterManagementAddOn(WORK_ADDON);
const ADDON: ManagedClusterAddOn = managedClusterAddOn('c1', CMA, WORK_ADDON);

describe('the work add-on', () => {
  it('is named work-manager, owned by its ClusterManagementAddOn', () => {
    expect(CMA.metadata?.name).toBe('work-manager');
    expect(CMA.spec?.addOnMeta?.displayName).toBe('Work Manager');
    expect(ADDON.metadata).toMatchObject({ name: 'work-manager', namespace: 'c1' });
    expect(WORK_ADDON.probePath).toBe(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/appliedmanifestworks.work.open-cluster-management.io',
    );
  });

  it.each<{ name: string; observation: AddOnObservation; status: string; message: string }>([
    {
      name: 'CRD served',
      observation: { accepted: true, connected: true, probe: { answered: true, status: 200 } },
      status: 'True',
      message:
        'The agent of the cluster is connected and the AppliedManifestWork CRD is installed on it.',
    },
    {
      name: 'CRD missing',
      observation: { accepted: true, connected: true, probe: { answered: true, status: 404 } },
      status: 'False',
      message:
        'The CRD appliedmanifestworks.work.open-cluster-management.io is not installed on the cluster.',
    },
    {
      name: 'refused',
      observation: { accepted: true, connected: true, probe: { answered: true, status: 403 } },
      status: 'False',
      message:
        'Reading the CRD appliedmanifestworks.work.open-cluster-management.io through the agent API answered 403.',
    },
    {
      name: 'no agent',
      observation: { accepted: true, connected: false },
      status: 'Unknown',
      message: 'No agent of this cluster is connected to the proxy-server.',
    },
  ])('$name: Available $status', ({ observation, status, message }) => {
    const decided = decideAddOnStatus(ADDON, CMA, observation, NOW, WORK_ADDON);
    expect(decided.conditions?.find((c) => c.type === 'Available')).toMatchObject({
      status,
      message,
    });
    expect(decided.relatedObjects).toEqual([
      {
        group: 'addon.open-cluster-management.io',
        resource: 'clustermanagementaddons',
        name: 'work-manager',
      },
    ]);
  });
});
