// Delete planning by deleteOption, the AppliedManifestWork's name and records.
import { describe, expect, it } from 'vitest';

import type { ManifestWorkSpec } from '../../api/index.ts';
import {
  appliedResource,
  appliedWorkFor,
  appliedWorkName,
  hubHashOf,
  nextRecords,
  ownerReferenceTo,
  type AppliedResource,
} from './applied-work.ts';
import { planDeletion } from './delete-plan.ts';
import { identityKey } from './resource-ref.ts';

const deployment: AppliedResource = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  namespace: 'ns',
  name: 'app',
  uid: 'u1',
};
const configMap: AppliedResource = {
  version: 'v1',
  resource: 'configmaps',
  namespace: 'ns',
  name: 'cfg',
  uid: 'u2',
};
const namespace: AppliedResource = { version: 'v1', resource: 'namespaces', name: 'ns', uid: 'u3' };
const all = [deployment, configMap, namespace];

describe('planDeletion', () => {
  it.each<{ name: string; option: ManifestWorkSpec['deleteOption']; deleted: AppliedResource[] }>([
    { name: 'no deleteOption is Foreground: delete all', option: undefined, deleted: all },
    { name: 'Foreground deletes all', option: { propagationPolicy: 'Foreground' }, deleted: all },
    { name: 'Orphan deletes nothing', option: { propagationPolicy: 'Orphan' }, deleted: [] },
    {
      name: 'SelectivelyOrphan keeps exactly what its rules name (group and namespace default empty)',
      option: {
        propagationPolicy: 'SelectivelyOrphan',
        selectivelyOrphans: {
          orphaningRules: [
            { resource: 'configmaps', namespace: 'ns', name: 'cfg' },
            { resource: 'namespaces', name: 'ns' },
            { group: 'apps', resource: 'deployments', namespace: 'other', name: 'app' },
          ],
        },
      },
      deleted: [deployment],
    },
    {
      name: 'SelectivelyOrphan without rules deletes all',
      option: { propagationPolicy: 'SelectivelyOrphan' },
      deleted: all,
    },
  ])('$name', ({ option, deleted }) => {
    const plan = planDeletion(option, all);
    expect(plan.delete).toEqual(deleted);
    expect(plan.orphan).toEqual(all.filter((r) => !deleted.includes(r)));
  });
});

describe('AppliedManifestWork', () => {
  it('is named <hex sha256 of the hub URL>-<work> with OCM spec fields', () => {
    const hash = hubHashOf('https://hub.example:6443');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(appliedWorkName(hash, 'w')).toBe(`${hash}-w`);
    expect(appliedWorkFor(hash, 'w', 'c1')).toEqual({
      apiVersion: 'work.open-cluster-management.io/v1',
      kind: 'AppliedManifestWork',
      metadata: { name: `${hash}-w` },
      spec: { hubHash: hash, agentID: 'c1', manifestWorkName: 'w' },
    });
    expect(
      ownerReferenceTo({ ...appliedWorkFor(hash, 'w', 'c1'), metadata: { name: 'n', uid: 'x' } }),
    ).toEqual({
      apiVersion: 'work.open-cluster-management.io/v1',
      kind: 'AppliedManifestWork',
      name: 'n',
      uid: 'x',
    });
  });

  it('records leave out the core group and the namespace of cluster-scoped objects', () => {
    expect(
      appliedResource({ group: '', version: 'v1', resource: 'namespaces', name: 'n' }, 'u'),
    ).toEqual({
      version: 'v1',
      resource: 'namespaces',
      name: 'n',
      uid: 'u',
    });
  });

  it('nextRecords keeps records of manifests still named that failed this time, drops the rest', () => {
    const renewed = { ...deployment, uid: 'u9' };
    const still = new Set([identityKey(configMap)]);
    expect(nextRecords(all, [renewed], (r) => still.has(identityKey(r)))).toEqual([
      renewed,
      configMap,
    ]);
  });
});
