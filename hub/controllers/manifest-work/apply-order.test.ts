// OCM's kind order: ranks, unknown kinds last, spec order kept within a rank.
import { describe, expect, it } from 'vitest';

import { applyOrder, kindRank, UNKNOWN_KIND_RANK } from './apply-order.ts';

describe('apply order', () => {
  it.each<{ name: string; kinds: string[]; order: number[] }>([
    {
      name: 'namespaces and CRDs first, custom resources last',
      kinds: ['Deployment', 'Widget', 'ConfigMap', 'CustomResourceDefinition', 'Namespace'],
      order: [3, 4, 2, 0, 1],
    },
    {
      name: 'RBAC before service accounts before config before services before workloads',
      kinds: ['Deployment', 'Service', 'Secret', 'ServiceAccount', 'RoleBinding'],
      order: [4, 3, 2, 1, 0],
    },
    {
      name: 'webhooks after workloads, before unknown kinds',
      kinds: ['Gadget', 'ValidatingWebhookConfiguration', 'Job'],
      order: [2, 1, 0],
    },
    {
      name: 'a stable sort: one rank keeps the spec order',
      kinds: ['ConfigMap', 'Secret', 'ConfigMap', 'PersistentVolumeClaim'],
      order: [0, 1, 2, 3],
    },
    { name: 'an empty work', kinds: [], order: [] },
  ])('$name', ({ kinds, order }) => {
    const manifests = kinds.map((kind) => ({ kind }));
    expect(applyOrder(manifests)).toEqual(order);
    expect(manifests.map((m) => m.kind)).toEqual(kinds);
  });

  it('puts a manifest without a kind with the unknown kinds', () => {
    expect(kindRank(undefined)).toBe(UNKNOWN_KIND_RANK);
    expect(applyOrder([{}, { kind: 'Namespace' }])).toEqual([1, 0]);
  });
});
