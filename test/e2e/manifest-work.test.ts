// ManifestWork delivery through the tunnel against the real hub and spoke1: OCM-shaped YAML
// applied with the real kubectl on the hub, the work controller in this process reaching the
// spoke only through the tunnel rig's agent API as the hub controllers (cluster-admin there, as
// join grants). Delivery in kind order with status and feedback, drift corrected from the
// spoke's watch, removed manifests deleted, each delete option, each update strategy, an agent
// outage and its return, bad input beside good input, the 500 KiB limit at the hub.
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

import {
  Finalizers,
  WORK_GROUP,
  WorkConditionTypes as T,
  WorkReasons as R,
  type AppliedManifestWork,
} from '../../hub/api/index.ts';
import {
  appliedWorkName,
  MANIFEST_WORK_POLICY_NAME,
} from '../../hub/controllers/manifest-work/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { conditionOf, configMap, isCondition, manifestWork, workKit } from './manifest-work-kit.ts';

const suffix = Date.now().toString(36);
const CLUSTER = `work-${suffix}`;
const SPOKE_NS = `mw-${suffix}`; // made by the first work's Namespace manifest
const OTHER_NS = `mw-other-${suffix}`; // made by the kit for the other works
const CRD_GROUP = `w${suffix}.e2e.spokelink.io`;
const kit = workKit({
  hubPlane: inject('hub'),
  spokePlane: inject('spoke1'),
  cluster: CLUSTER,
  spokeNamespaces: [OTHER_NS],
  alsoDelete: [['crd', `widgets.${CRD_GROUP}`]],
});
const { hubHash, onHub, onSpoke, applyWork, workWhere, spokeJson, deleteWork } = kit;
const spokeObjects = (() => {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('spoke1').kubeconfigPath);
  return kc.makeApiClient(CustomObjectsApi);
})();
const AMW = { group: WORK_GROUP, version: 'v1', plural: 'appliedmanifestworks' };

beforeAll(() => kit.prepare());
afterAll(() => kit.cleanup([SPOKE_NS]));

describe('ManifestWork delivery through the tunnel', () => {
  it('applies in kind order with status and feedback, corrects drift, deletes removed manifests and, Foreground, everything', async () => {
    await kit.startDelivery();
    const NAME = 'app';
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hello', namespace: SPOKE_NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'hello' } },
        template: {
          metadata: { labels: { app: 'hello' } },
          spec: { containers: [{ name: 'hello', image: 'registry.k8s.io/pause:3.10' }] },
        },
      },
    };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${CRD_GROUP}` },
      spec: {
        group: CRD_GROUP,
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
              },
            },
          },
        ],
      },
    };
    const widget = {
      apiVersion: `${CRD_GROUP}/v1`,
      kind: 'Widget',
      metadata: { name: 'gizmo', namespace: SPOKE_NS },
      spec: { size: 3 },
    };
    // Spec order is deliberately backwards: the namespace and the CRD must still come first.
    const manifests = [
      deployment,
      widget,
      configMap('hello-config', SPOKE_NS, { greeting: 'hello' }),
      crd,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SPOKE_NS } },
    ];
    await applyWork(
      manifestWork(NAME, {
        workload: { manifests },
        manifestConfigs: [
          {
            resourceIdentifier: {
              group: 'apps',
              resource: 'deployments',
              namespace: SPOKE_NS,
              name: 'hello',
            },
            feedbackRules: [
              { type: 'WellKnownStatus' },
              {
                type: 'JSONPaths',
                jsonPaths: [
                  { name: 'desired', path: '.spec.replicas' },
                  {
                    name: 'image',
                    path: '.spec.template.spec.containers[?(@.name=="hello")].image',
                  },
                ],
              },
            ],
          },
        ],
      }),
    );

    const applied = await workWhere(
      'app',
      'Applied and Available',
      (w) =>
        isCondition(w, T.Applied, 'True', R.AppliedManifestWorkComplete) &&
        isCondition(w, T.Available, 'True', R.ResourcesAvailable),
    );
    expect(conditionOf(applied.status, T.Applied)?.observedGeneration).toBe(
      applied.metadata?.generation,
    );
    expect(applied.metadata?.finalizers).toContain(Finalizers.ManifestWork);
    const metas = applied.status?.resourceStatus?.manifests?.map((m) => m.resourceMeta);
    expect(metas).toEqual([
      {
        ordinal: 0,
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        resource: 'deployments',
        name: 'hello',
        namespace: SPOKE_NS,
      },
      {
        ordinal: 1,
        group: CRD_GROUP,
        version: 'v1',
        kind: 'Widget',
        resource: 'widgets',
        name: 'gizmo',
        namespace: SPOKE_NS,
      },
      {
        ordinal: 2,
        version: 'v1',
        kind: 'ConfigMap',
        resource: 'configmaps',
        name: 'hello-config',
        namespace: SPOKE_NS,
      },
      {
        ordinal: 3,
        group: 'apiextensions.k8s.io',
        version: 'v1',
        kind: 'CustomResourceDefinition',
        resource: 'customresourcedefinitions',
        name: `widgets.${CRD_GROUP}`,
      },
      { ordinal: 4, version: 'v1', kind: 'Namespace', resource: 'namespaces', name: SPOKE_NS },
    ]);
    for (const m of applied.status?.resourceStatus?.manifests ?? []) {
      expect(m.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
        [T.Applied, 'True', R.AppliedManifestComplete],
        [T.Available, 'True', R.ResourceAvailable],
        [
          T.StatusFeedbackSynced,
          'True',
          m.resourceMeta.ordinal === 0 ? R.StatusFeedbackSynced : R.NoStatusFeedbackSynced,
        ],
      ]);
    }
    // No deployment controller runs on the sandbox spoke, so the Deployment has no status yet:
    // the well-known statuses give nothing, the JSONPaths on its spec do.
    expect(applied.status?.resourceStatus?.manifests?.[0]?.statusFeedback?.values).toEqual([
      { name: 'desired', fieldValue: { type: 'Integer', integer: 2 } },
      { name: 'image', fieldValue: { type: 'String', string: 'registry.k8s.io/pause:3.10' } },
    ]);

    // On the spoke: the AppliedManifestWork records every object, each owned by it.
    const amwName = appliedWorkName(hubHash, NAME);
    const amw = (await spokeObjects.getClusterCustomObject({
      ...AMW,
      name: amwName,
    })) as AppliedManifestWork;
    expect(amw.spec).toEqual({ hubHash, agentID: CLUSTER, manifestWorkName: NAME });
    expect(
      amw.status?.appliedResources
        ?.map((r) => `${r.group ?? ''}/${r.resource}/${r.namespace ?? ''}/${r.name}`)
        .sort(),
    ).toEqual(
      [
        `/configmaps/${SPOKE_NS}/hello-config`,
        `/namespaces//${SPOKE_NS}`,
        `${CRD_GROUP}/widgets/${SPOKE_NS}/gizmo`,
        `apiextensions.k8s.io/customresourcedefinitions//widgets.${CRD_GROUP}`,
        `apps/deployments/${SPOKE_NS}/hello`,
      ].sort(),
    );
    const cm = await spokeJson(['configmap', 'hello-config', '-n', SPOKE_NS]);
    expect((cm?.metadata as { ownerReferences?: unknown[] }).ownerReferences).toEqual([
      {
        apiVersion: `${WORK_GROUP}/v1`,
        kind: 'AppliedManifestWork',
        name: amwName,
        uid: amw.metadata?.uid,
      },
    ]);
    const table = await onHub(['get', 'manifestwork', NAME, '-n', CLUSTER]);
    expect(table.code).toBe(0);

    // Status feedback follows the spoke: the Deployment's status written (as its controller
    // would) reaches the hub through the watch; ReadyReplicas is absent, so not reported.
    const patched = await onSpoke([
      'patch',
      'deployment',
      'hello',
      '-n',
      SPOKE_NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { replicas: 2, updatedReplicas: 2, observedGeneration: 1 } }),
    ]);
    expect(patched.stderr).toBe('');
    const withFeedback = await workWhere(NAME, 'Replicas feedback', (w) =>
      (w.status?.resourceStatus?.manifests?.[0]?.statusFeedback?.values ?? []).some(
        (v) => v.name === 'Replicas',
      ),
    );
    expect(withFeedback.status?.resourceStatus?.manifests?.[0]?.statusFeedback?.values).toEqual([
      { name: 'Replicas', fieldValue: { type: 'Integer', integer: 2 } },
      { name: 'desired', fieldValue: { type: 'Integer', integer: 2 } },
      { name: 'image', fieldValue: { type: 'String', string: 'registry.k8s.io/pause:3.10' } },
    ]);

    // Drift: an edit on the spoke is put back, a deleted object comes back.
    await onSpoke([
      'patch',
      'configmap',
      'hello-config',
      '-n',
      SPOKE_NS,
      '--type=merge',
      '-p',
      '{"data":{"greeting":"changed","extra":"kept"}}',
    ]);
    await eventually(
      'the edited ConfigMap corrected',
      async () => {
        const data = (await spokeJson(['configmap', 'hello-config', '-n', SPOKE_NS]))?.data as
          Record<string, string> | undefined;
        // Update keeps fields the manifest does not state.
        return data?.greeting === 'hello' && data.extra === 'kept' ? true : undefined;
      },
      30_000,
      200,
    );
    await onSpoke(['delete', 'widget.' + CRD_GROUP, 'gizmo', '-n', SPOKE_NS]);
    await eventually(
      'the deleted Widget recreated',
      async () =>
        (await spokeJson(['widget.' + CRD_GROUP, 'gizmo', '-n', SPOKE_NS])) === undefined
          ? undefined
          : true,
      30_000,
      200,
    );

    // A manifest removed from the spec: its object is deleted (Foreground is the default).
    await applyWork(
      manifestWork(NAME, {
        workload: { manifests: manifests.filter((m) => m.kind !== 'ConfigMap') },
      }),
    );
    await eventually(
      'the removed ConfigMap deleted',
      async () =>
        (await spokeJson(['configmap', 'hello-config', '-n', SPOKE_NS])) === undefined
          ? true
          : undefined,
      30_000,
      200,
    );
    const after = await workWhere(
      NAME,
      'four manifests',
      (w) => w.status?.resourceStatus?.manifests?.length === 4 && isCondition(w, T.Applied, 'True'),
    );
    expect(conditionOf(after.status, T.Applied)?.observedGeneration).toBe(
      after.metadata?.generation,
    );

    // Deleting the work (Foreground): every applied object goes, then the record, then the work.
    await deleteWork(NAME);
    expect(
      await spokeJson(['namespace', SPOKE_NS]).then(
        (ns) => ns === undefined || (ns.status as { phase?: string }).phase === 'Terminating',
      ),
    ).toBe(true);
    expect(await spokeJson(['crd', `widgets.${CRD_GROUP}`])).toBeUndefined();
    expect(await spokeJson(['appliedmanifestwork', amwName])).toBeUndefined();
  });

  it('Orphan leaves every object, SelectivelyOrphan those its rules name', async () => {
    await kit.startDelivery();
    await applyWork(
      manifestWork('orphan', {
        workload: { manifests: [configMap('orphan-a', OTHER_NS, { a: '1' })] },
        deleteOption: { propagationPolicy: 'Orphan' },
      }),
    );
    await applyWork(
      manifestWork('selective', {
        workload: {
          manifests: [
            configMap('keep-me', OTHER_NS, { a: '1' }),
            configMap('drop-me', OTHER_NS, { a: '1' }),
          ],
        },
        deleteOption: {
          propagationPolicy: 'SelectivelyOrphan',
          selectivelyOrphans: {
            orphaningRules: [{ resource: 'configmaps', namespace: OTHER_NS, name: 'keep-me' }],
          },
        },
      }),
    );
    for (const name of ['orphan', 'selective']) {
      await workWhere(name, 'Applied', (w) => isCondition(w, T.Applied, 'True'));
    }
    await deleteWork('orphan');
    await deleteWork('selective');
    for (const name of ['orphan-a', 'keep-me']) {
      const kept = await spokeJson(['configmap', name, '-n', OTHER_NS]);
      expect(kept, name).toBeDefined();
      expect(
        (kept?.metadata as { ownerReferences?: unknown }).ownerReferences,
        name,
      ).toBeUndefined();
    }
    expect(await spokeJson(['configmap', 'drop-me', '-n', OTHER_NS])).toBeUndefined();
    for (const name of ['orphan', 'selective']) {
      expect(
        await spokeJson(['appliedmanifestwork', appliedWorkName(hubHash, name)]),
      ).toBeUndefined();
    }
  });

  it('honours the update strategies: CreateOnly, ServerSideApply (conflicts and force), ReadOnly', async () => {
    await kit.startDelivery();
    // Objects that exist before the work: one another manager owns, one to read.
    await onSpoke(
      ['apply', '--server-side', '--field-manager=someone-else', '-f', '-'],
      stringify(configMap('ssa-owned', OTHER_NS, { owner: 'someone-else' })),
    );
    await onSpoke(
      ['create', '-f', '-'],
      stringify(configMap('read-me', OTHER_NS, { answer: '42' })),
    );
    const identifier = (name: string) => ({ resource: 'configmaps', namespace: OTHER_NS, name });
    const spec = (force: boolean) => ({
      workload: {
        manifests: [
          configMap('create-only', OTHER_NS, { v: '1' }),
          configMap('ssa-owned', OTHER_NS, { owner: 'work' }),
          configMap('read-me', OTHER_NS, { answer: 'ignored' }),
        ],
      },
      manifestConfigs: [
        { resourceIdentifier: identifier('create-only'), updateStrategy: { type: 'CreateOnly' } },
        {
          resourceIdentifier: identifier('ssa-owned'),
          updateStrategy: { type: 'ServerSideApply', serverSideApply: { force } },
        },
        {
          resourceIdentifier: identifier('read-me'),
          updateStrategy: { type: 'ReadOnly' },
          feedbackRules: [
            { type: 'JSONPaths', jsonPaths: [{ name: 'answer', path: '.data.answer' }] },
          ],
        },
      ],
    });
    await applyWork(manifestWork('strategies', spec(false)));
    const conflicted = await workWhere('strategies', 'Applied=False', (w) =>
      isCondition(w, T.Applied, 'False', R.AppliedManifestWorkFailed),
    );
    const [createOnly, ssa, readOnly] = conflicted.status?.resourceStatus?.manifests ?? [];
    expect(conditionOf(createOnly, T.Applied)?.status).toBe('True');
    // The API server's own message for a server-side apply conflict.
    expect(conditionOf(ssa, T.Applied)).toMatchObject({
      status: 'False',
      reason: R.AppliedManifestFailed,
    });
    expect(conditionOf(ssa, T.Applied)?.message).toMatch(/conflict with "someone-else"/);
    expect(readOnly?.statusFeedback?.values).toEqual([
      { name: 'answer', fieldValue: { type: 'String', string: '42' } },
    ]);

    // CreateOnly: an edit on the spoke stays.
    await onSpoke([
      'patch',
      'configmap',
      'create-only',
      '-n',
      OTHER_NS,
      '--type=merge',
      '-p',
      '{"data":{"v":"edited"}}',
    ]);
    // force: the work takes the field over.
    await applyWork(manifestWork('strategies', spec(true)));
    await workWhere(
      'strategies',
      'Applied=True',
      (w) =>
        isCondition(w, T.Applied, 'True') &&
        conditionOf(w.status, T.Applied)?.observedGeneration === w.metadata?.generation,
    );
    const owned = await spokeJson(['configmap', 'ssa-owned', '-n', OTHER_NS]);
    expect(owned?.data).toEqual({ owner: 'work' });
    const managers = (
      (owned?.metadata as { managedFields?: { manager: string }[] }).managedFields ?? []
    ).map((f) => f.manager);
    expect(managers).toContain('work-agent');
    expect((await spokeJson(['configmap', 'create-only', '-n', OTHER_NS]))?.data).toEqual({
      v: 'edited',
    });
    // ReadOnly never writes: not ours, not owned.
    const read = await spokeJson(['configmap', 'read-me', '-n', OTHER_NS]);
    expect(read?.data).toEqual({ answer: '42' });
    expect((read?.metadata as { ownerReferences?: unknown }).ownerReferences).toBeUndefined();
    await deleteWork('strategies');
    expect(await spokeJson(['configmap', 'read-me', '-n', OTHER_NS])).toBeDefined();
    expect(await spokeJson(['configmap', 'create-only', '-n', OTHER_NS])).toBeUndefined();
  });

  it('says Unknown while the agent is away and converges when it returns', async () => {
    const { rig, rigCluster } = await kit.startDelivery();
    await applyWork(
      manifestWork('outage', {
        workload: { manifests: [configMap('outage', OTHER_NS, { v: '1' })] },
      }),
    );
    await workWhere('outage', 'Available', (w) => isCondition(w, T.Available, 'True'));
    for (const agent of rig.agents.get(CLUSTER) ?? []) await agent.close();
    const away = await workWhere('outage', 'Available=Unknown', (w) =>
      isCondition(w, T.Available, 'Unknown', R.ResourcesStatusUnknown),
    );
    // Applied stays as last known: nothing false is written while the cluster is away.
    expect(conditionOf(away.status, T.Applied)?.status).toBe('True');
    await applyWork(
      manifestWork('outage', {
        workload: { manifests: [configMap('outage', OTHER_NS, { v: '2' })] },
      }),
    );
    await rig.addAgent(rigCluster, 'a1');
    const back = await workWhere(
      'outage',
      'converged',
      (w) =>
        isCondition(w, T.Available, 'True') &&
        conditionOf(w.status, T.Applied)?.observedGeneration === w.metadata?.generation,
    );
    expect(conditionOf(back.status, T.Applied)?.status).toBe('True');
    expect((await spokeJson(['configmap', 'outage', '-n', OTHER_NS]))?.data).toEqual({ v: '2' });
    await deleteWork('outage');
  });

  it('fails only the bad manifests, with the API server’s message, and refuses a work over 500 KiB', async () => {
    await kit.startDelivery();
    await applyWork(
      manifestWork('mixed', {
        workload: {
          manifests: [
            configMap('good', OTHER_NS, { state: 'fine' }),
            configMap('bad-type', OTHER_NS, { n: 1 }),
            {
              apiVersion: 'example.invalid/v1',
              kind: 'Gadget',
              metadata: { name: 'g', namespace: OTHER_NS },
            },
          ],
        },
      }),
    );
    const mixed = await workWhere(
      'mixed',
      'Applied=False',
      (w) =>
        isCondition(w, T.Applied, 'False', R.AppliedManifestWorkFailed) &&
        (w.status?.resourceStatus?.manifests?.length ?? 0) === 3,
    );
    const [good, badType, unknownKind] = mixed.status?.resourceStatus?.manifests ?? [];
    expect(conditionOf(good, T.Applied)?.status).toBe('True');
    expect(conditionOf(badType, T.Applied)).toMatchObject({
      status: 'False',
      reason: R.AppliedManifestFailed,
    });
    expect(conditionOf(badType, T.Applied)?.message).toMatch(
      /cannot unmarshal number into Go struct field ConfigMap\.data of type string/,
    );
    expect(conditionOf(unknownKind, T.Applied)?.message).toBe(
      'no matches for kind "Gadget" in version "example.invalid/v1" on the cluster',
    );
    expect(conditionOf(unknownKind, T.Available)?.reason).toBe(R.IncompleteResourceMeta);
    expect((await spokeJson(['configmap', 'good', '-n', OTHER_NS]))?.data).toEqual({
      state: 'fine',
    });
    await deleteWork('mixed');

    // 500 KiB: refused by the hub's admission policy, with why (HTTP 413).
    const big = manifestWork('too-big', {
      workload: { manifests: [configMap('big', OTHER_NS, { blob: 'x'.repeat(520 * 1024) })] },
    });
    const refused = await eventually(
      'the admission policy to refuse',
      async () => {
        const res = await onHub(
          ['create', '--dry-run=server', '-n', CLUSTER, '-f', '-'],
          JSON.stringify(big),
        );
        return res.code !== 0 ? res : undefined;
      },
      30_000,
      500,
    );
    expect(refused.stderr).toContain(`ValidatingAdmissionPolicy '${MANIFEST_WORK_POLICY_NAME}'`);
    expect(refused.stderr).toMatch(
      /the size of manifests is \d+ bytes which exceeds the 512000 byte \(500 KiB\) limit/,
    );
    const fits = manifestWork('fits', {
      workload: { manifests: [configMap('fits', OTHER_NS, { blob: 'x'.repeat(400 * 1024) })] },
    });
    expect(
      (await onHub(['create', '--dry-run=server', '-n', CLUSTER, '-f', '-'], JSON.stringify(fits)))
        .code,
    ).toBe(0);
  });
});
