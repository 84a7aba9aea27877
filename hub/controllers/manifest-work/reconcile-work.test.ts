// The reconcile flow against an in-memory spoke and hub store that record their verbs:
// finalizer, AppliedManifestWork, ownership, no writes when nothing changed, removed manifests,
// outages, bad input, the size limit, each delete option.
import { describe, expect, it } from 'vitest';

import { Finalizers, type ManifestWork, type ManifestWorkSpec } from '../../api/index.ts';
import type { KeyResult } from '../../kube/index.ts';
import { appliedWorkName } from './applied-work.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { NOT_CONNECTED_MESSAGE, reconcileWork } from './reconcile-work.ts';
import { identityKey } from './resource-ref.ts';
import { ClusterWatches } from './spoke-watches.ts';
import { FakeSpoke, FakeWorkStore } from './testing/fake-spoke.ts';

const HASH = 'a'.repeat(64);
const AMW = {
  group: 'work.open-cluster-management.io',
  version: 'v1',
  resource: 'appliedmanifestworks',
  name: `${HASH}-w`,
};
const cmRef = (name: string) => ({
  group: '',
  version: 'v1',
  resource: 'configmaps',
  namespace: 'ns',
  name,
});
const cm = (name: string, data: Record<string, unknown> = { a: '1' }) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data,
});

function setup(spec: ManifestWorkSpec) {
  const spoke = new FakeSpoke();
  const store = new FakeWorkStore();
  let isConnected = true;
  let now = new Date('2026-01-01T00:00:00Z');
  const watches = new ClusterWatches({ client: spoke, onChange: () => undefined });
  store.put({
    apiVersion: 'work.open-cluster-management.io/v1',
    kind: 'ManifestWork',
    metadata: { name: 'w', namespace: 'c1', generation: 1 },
    spec,
  });
  const ctx: ReconcileContext = {
    works: store,
    hubHash: HASH,
    clusterExists: (cluster) => cluster === 'c1',
    isConnected: () => isConnected,
    spoke: () => ({ client: spoke, watches }),
    existingSpoke: () => ({ client: spoke, watches }),
    manifestLimitBytes: 500 * 1024,
    retryDelayMs: (_key, hasFailed) => (hasFailed ? 2_000 : undefined),
    now: () => now,
  };
  /** Runs reconciles as the queue would (again on a conflict) until one settles. */
  const reconcile = async (): Promise<KeyResult> => {
    for (let i = 0; i < 5; i++) {
      const result = await reconcileWork(ctx, 'c1', 'w');
      if (result.again !== true) return result;
    }
    throw new Error('no settled reconcile in 5 runs');
  };
  const work = () => store.work('c1', 'w');
  const update = (change: (w: ManifestWork) => void) => {
    const next = structuredClone(work() as ManifestWork);
    change(next);
    store.put(next);
  };
  const condition = (type: string) => work()?.status?.conditions?.find((c) => c.type === type);
  return {
    spoke,
    store,
    watches,
    reconcile,
    work,
    update,
    condition,
    disconnect: () => (isConnected = false),
    setNow: (date: Date) => (now = date),
    teardown: () => watches.stop(),
  };
}

describe('reconcileWork', () => {
  it('adds the finalizer, records and owns what it applies, reports Applied and Available', async () => {
    const f = setup({
      workload: {
        manifests: [cm('b'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }],
      },
    });
    expect(await f.reconcile()).toEqual({});
    expect(f.work()?.metadata?.finalizers).toEqual([Finalizers.ManifestWork]);
    expect(f.spoke.verbs).toEqual([
      `create work.open-cluster-management.io/appliedmanifestworks//${HASH}-w`,
      'create /namespaces//ns',
      'create /configmaps/ns/b',
      `replaceStatus work.open-cluster-management.io/appliedmanifestworks//${HASH}-w`,
    ]);
    const amw = f.spoke.object(AMW);
    expect(amw?.spec).toEqual({ hubHash: HASH, agentID: 'c1', manifestWorkName: 'w' });
    expect((amw?.status as { appliedResources: unknown[] }).appliedResources).toEqual([
      {
        version: 'v1',
        resource: 'configmaps',
        namespace: 'ns',
        name: 'b',
        uid: expect.any(String),
      },
      { version: 'v1', resource: 'namespaces', name: 'ns', uid: expect.any(String) },
    ]);
    expect(
      (f.spoke.object(cmRef('b'))?.metadata as { ownerReferences: unknown }).ownerReferences,
    ).toEqual([
      {
        apiVersion: 'work.open-cluster-management.io/v1',
        kind: 'AppliedManifestWork',
        name: appliedWorkName(HASH, 'w'),
        uid: (amw?.metadata as { uid: string }).uid,
      },
    ]);
    expect(f.condition('Applied')).toMatchObject({
      status: 'True',
      reason: 'AppliedManifestWorkComplete',
      observedGeneration: 1,
    });
    expect(f.condition('Available')).toMatchObject({
      status: 'True',
      reason: 'ResourcesAvailable',
    });
    expect(f.watches.watched().sort()).toEqual([
      '/v1/configmaps in ns name=b',
      '/v1/namespaces name=ns',
    ]);

    // Nothing changed: no write on the spoke, no status write on the hub.
    f.spoke.verbs.length = 0;
    f.store.writes.length = 0;
    await f.reconcile();
    expect(f.spoke.verbs).toEqual([]);
    expect(f.store.writes).toEqual([]);
    f.teardown();
  });

  it('creates a new object without reading it first, reads what it applied before, merges what was there already', async () => {
    const f = setup({ workload: { manifests: [cm('b'), cm('pre', { a: '2' })] } });
    // Made on the spoke by someone else before the work: the create finds it, then it is merged.
    f.spoke.objects.set(identityKey(cmRef('pre')), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'pre', namespace: 'ns', uid: 'uid-pre', resourceVersion: '1' },
      data: { a: '1', theirs: 'x' },
    });
    expect(await f.reconcile()).toEqual({});
    const configMapReads = () => f.spoke.reads.filter((r) => r.includes('/configmaps/'));
    expect(configMapReads()).toEqual(['get /configmaps/ns/pre']);
    // A work never reconciled creates its AppliedManifestWork without looking first.
    expect(f.spoke.reads.filter((r) => r.includes('appliedmanifestworks'))).toEqual([]);
    expect(f.spoke.verbs.filter((v) => v.includes('/configmaps/'))).toEqual([
      'create /configmaps/ns/b',
      'create /configmaps/ns/pre',
      'replace /configmaps/ns/pre',
    ]);
    expect(f.spoke.object(cmRef('pre'))?.data).toEqual({ a: '2', theirs: 'x' });
    expect(f.condition('Applied')).toMatchObject({ status: 'True' });

    // Both are recorded now: the next pass reads them to compare, and writes nothing.
    f.spoke.reads.length = 0;
    f.spoke.verbs.length = 0;
    await f.reconcile();
    expect(configMapReads().sort()).toEqual(['get /configmaps/ns/b', 'get /configmaps/ns/pre']);
    expect(f.spoke.verbs).toEqual([]);
    f.teardown();
  });

  it('puts back a drifted field and deletes the object of a manifest removed from the spec', async () => {
    const f = setup({ workload: { manifests: [cm('keep'), cm('drop')] } });
    await f.reconcile();
    const drifted = f.spoke.object(cmRef('keep')) as { data: Record<string, string> };
    drifted.data = { a: 'drifted', extra: 'theirs' };
    f.update((w) => (w.spec = { workload: { manifests: [cm('keep')] } }));
    f.spoke.verbs.length = 0;
    await f.reconcile();
    expect(f.spoke.verbs).toEqual([
      'replace /configmaps/ns/keep',
      'delete /configmaps/ns/drop',
      `replaceStatus work.open-cluster-management.io/appliedmanifestworks//${HASH}-w`,
    ]);
    expect(f.spoke.object(cmRef('keep'))?.data).toEqual({ a: '1', extra: 'theirs' });
    f.teardown();
  });

  it('orphans a removed manifest when the delete option says so: only our ownerReference goes', async () => {
    const f = setup({
      workload: { manifests: [cm('keep'), cm('drop')] },
      deleteOption: { propagationPolicy: 'Orphan' },
    });
    await f.reconcile();
    f.update((w) => (w.spec = { ...w.spec, workload: { manifests: [cm('keep')] } }));
    await f.reconcile();
    expect(f.spoke.object(cmRef('drop'))?.metadata).not.toHaveProperty('ownerReferences');
    f.teardown();
  });

  it('fails only the bad manifests and tries again later', async () => {
    const f = setup({
      workload: {
        manifests: [
          cm('good'),
          cm('bad', { n: 1 }),
          { apiVersion: 'example.invalid/v1', kind: 'Gadget', metadata: { name: 'g' } },
        ],
      },
    });
    expect(await f.reconcile()).toEqual({ requeueAfterMs: 2_000 });
    const manifests = f.work()?.status?.resourceStatus?.manifests ?? [];
    expect(manifests.map((m) => m.conditions.find((c) => c.type === 'Applied')?.message)).toEqual([
      'Apply manifest complete',
      'data values must be strings',
      'no matches for kind "Gadget" in version "example.invalid/v1" on the cluster',
    ]);
    expect(f.condition('Applied')).toMatchObject({
      status: 'False',
      reason: 'AppliedManifestWorkFailed',
    });
    expect(f.spoke.object(cmRef('good'))).toBeDefined();
    f.teardown();
  });

  it('says Unknown without touching the spoke while the agent is away, or when the spoke cannot be reached', async () => {
    const f = setup({ workload: { manifests: [cm('b')] } });
    await f.reconcile();
    f.disconnect();
    f.spoke.verbs.length = 0;
    await f.reconcile();
    expect(f.spoke.verbs).toEqual([]);
    expect(f.condition('Available')).toMatchObject({
      status: 'Unknown',
      reason: 'ResourcesStatusUnknown',
      message: NOT_CONNECTED_MESSAGE,
    });
    expect(f.condition('Applied')?.status).toBe('True');

    const g = setup({ workload: { manifests: [cm('b')] } });
    await g.reconcile();
    g.spoke.isDown = true;
    expect(await g.reconcile()).toEqual({ requeueAfterMs: 2_000 });
    expect(g.condition('Available')?.message).toMatch(/^The cluster could not be reached/);
    f.teardown();
    g.teardown();
  });

  it('refuses a work over the size limit without applying anything', async () => {
    const f = setup({ workload: { manifests: [cm('big', { a: 'x'.repeat(600 * 1024) })] } });
    await f.reconcile();
    expect(f.spoke.verbs).toEqual([]);
    expect(f.condition('Applied')).toMatchObject({
      status: 'False',
      reason: 'AppliedManifestWorkFailed',
    });
    expect(f.condition('Applied')?.message).toMatch(
      /exceeds the 512000 byte limit; nothing was applied$/,
    );
    f.teardown();
  });

  it.each<{ name: string; option: ManifestWorkSpec['deleteOption']; left: string[] }>([
    { name: 'Foreground deletes every applied object', option: undefined, left: [] },
    {
      name: 'Orphan keeps them all, without our ownerReference',
      option: { propagationPolicy: 'Orphan' },
      left: ['a', 'b'],
    },
    {
      name: 'SelectivelyOrphan keeps what its rules name',
      option: {
        propagationPolicy: 'SelectivelyOrphan',
        selectivelyOrphans: {
          orphaningRules: [{ resource: 'configmaps', namespace: 'ns', name: 'b' }],
        },
      },
      left: ['b'],
    },
  ])(
    'deletion: $name, then the AppliedManifestWork and the finalizer',
    async ({ option, left }) => {
      const f = setup({
        workload: { manifests: [cm('a'), cm('b')] },
        ...(option === undefined ? {} : { deleteOption: option }),
      });
      await f.reconcile();
      f.update((w) => (w.metadata = { ...w.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' }));
      await f.reconcile();
      expect(f.work()).toBeUndefined();
      expect(f.spoke.object(AMW)).toBeUndefined();
      expect(['a', 'b'].filter((n) => f.spoke.object(cmRef(n)) !== undefined)).toEqual(left);
      for (const name of left)
        expect(f.spoke.object(cmRef(name))?.metadata).not.toHaveProperty('ownerReferences');
      expect(f.watches.watched()).toEqual([]);
      f.teardown();
    },
  );

  it('checks the executor with SubjectAccessReviews per manifest and fails only what it may not write', async () => {
    const f = setup({
      workload: { manifests: [cm('ok'), cm('denied'), cm('kept')] },
      executor: {
        subject: { type: 'ServiceAccount', serviceAccount: { namespace: 'ops', name: 'deployer' } },
      },
      deleteOption: {
        propagationPolicy: 'SelectivelyOrphan',
        selectivelyOrphans: {
          orphaningRules: [{ resource: 'configmaps', namespace: 'ns', name: 'kept' }],
        },
      },
    });
    f.spoke.allow = (spec) => {
      const attrs = spec.resourceAttributes as { name: string; verb: string };
      return (
        spec.user === 'system:serviceaccount:ops:deployer' &&
        !(attrs.name === 'denied' && attrs.verb === 'delete')
      );
    };
    expect(await f.reconcile()).toEqual({ requeueAfterMs: 2_000 });
    // Every verb for a deleted object; no `delete` for the orphaned one.
    expect(f.spoke.reviews).toEqual([
      ...['create', 'update', 'patch', 'get', 'delete'].map((v) => `${v} /configmaps/ns/ok`),
      ...['create', 'update', 'patch', 'get', 'delete'].map((v) => `${v} /configmaps/ns/denied`),
      ...['create', 'update', 'patch', 'get'].map((v) => `${v} /configmaps/ns/kept`),
    ]);
    const applied = (f.work()?.status?.resourceStatus?.manifests ?? []).map((m) =>
      m.conditions.find((c) => c.type === 'Applied'),
    );
    expect(applied[1]).toMatchObject({
      status: 'False',
      reason: 'AppliedManifestFailed',
      message:
        'not allowed to apply the resource  configmaps, ns denied: ' +
        'the executor system:serviceaccount:ops:deployer may not delete it',
    });
    expect([applied[0]?.status, applied[2]?.status]).toEqual(['True', 'True']);
    expect(f.spoke.object(cmRef('denied'))).toBeUndefined();
    expect(f.spoke.object(cmRef('ok'))).toBeDefined();

    // Allowed answers are reused; the refused one is asked again and now passes.
    f.spoke.reviews.length = 0;
    f.spoke.allow = () => true;
    expect(await f.reconcile()).toEqual({});
    expect(f.spoke.reviews).toEqual(['delete /configmaps/ns/denied']);
    expect(f.spoke.object(cmRef('denied'))).toBeDefined();
    f.teardown();
  });

  it('deletes a work ttlSecondsAfterFinished after its Complete rules hold, not before', async () => {
    const f = setup({
      workload: { manifests: [cm('job', { done: 'yes' })] },
      deleteOption: { ttlSecondsAfterFinished: 30 },
      manifestConfigs: [
        {
          resourceIdentifier: { resource: 'configmaps', namespace: 'ns', name: 'job' },
          conditionRules: [
            { condition: 'Complete', type: 'CEL', celExpressions: ["object.data.done == 'yes'"] },
          ],
        },
      ],
    });
    expect(await f.reconcile()).toEqual({ requeueAfterMs: 30_000 });
    expect(f.condition('Complete')).toMatchObject({
      status: 'True',
      reason: 'ConditionRulesAggregated',
    });
    expect(f.store.writes).not.toContain('delete c1/w');
    f.setNow(new Date('2026-01-01T00:00:29Z'));
    expect(await f.reconcile()).toEqual({ requeueAfterMs: 1_000 });
    f.setNow(new Date('2026-01-01T00:00:30Z'));
    f.spoke.verbs.length = 0;
    expect(await f.reconcile()).toEqual({});
    expect(f.store.writes).toContain('delete c1/w');
    expect(f.spoke.verbs).toEqual([]); // due before the spoke is touched
    expect(f.work()?.metadata?.deletionTimestamp).toBeDefined();
    f.teardown();
  });

  it('never deletes a work without Complete rules, whatever its TTL', async () => {
    const f = setup({
      workload: { manifests: [cm('a')] },
      deleteOption: { ttlSecondsAfterFinished: 0 },
    });
    expect(await f.reconcile()).toEqual({});
    expect(f.store.writes).not.toContain('delete c1/w');
    f.teardown();
  });
});
