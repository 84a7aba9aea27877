// Issue 5's acceptance test: work delivery to two real spokes through a Placement. The real hub
// and spoke1 + spoke2 control planes, one tunnel rig with an agent (and its agent API) per
// cluster, and the real cluster-set, placement, ManifestWorkReplicaSet and work controllers in
// this process. OCM-shaped YAML goes in with the real kubectl on the hub; what reached each spoke
// is read with kubectl on that spoke. Covered: a Deployment, a ConfigMap and a custom resource
// (with its CRD) on both spokes; the Deployment's replicas fed back into each work's status;
// drift on spoke2 corrected; a label change taking spoke2 out of the Placement removes its work
// and its objects; an invalid manifest beside valid ones fails alone with the API server's
// message. Each delete option and an agent outage are covered by manifest-work.test.ts.
import { randomBytes } from 'node:crypto';

import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { stringify } from 'yaml';

import {
  CLUSTER_GROUP,
  WORK_GROUP,
  WorkConditionTypes as T,
  type ManifestWork,
} from '../../hub/api/index.ts';
import { createClusterSetController } from '../../hub/controllers/cluster-set/index.ts';
import { createManifestWorkReplicaSetController } from '../../hub/controllers/manifest-work-replica-set/index.ts';
import {
  createManifestWorkController,
  MANIFEST_WORK_POLICY_NAME,
} from '../../hub/controllers/manifest-work/index.ts';
import { createPlacementController } from '../../hub/controllers/placement/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';
import { controllerRig, grantSpoke, type SpokeGrants } from './controller-rig.ts';
import { conditionOf, isCondition } from './manifest-work-kit.ts';

const hubPlane = inject('hub');
const spokes = { spoke1: inject('spoke1'), spoke2: inject('spoke2') };
const id = randomBytes(3).toString('hex');
const CLUSTER1 = `wd1-${id}`; // on spoke1
const CLUSTER2 = `wd2-${id}`; // on spoke2
const NAMESPACE = `wd-${id}`; // the replica set's namespace on the hub
const SET = `wd-set-${id}`;
const APP_NS = `wd-app-${id}`; // made on each spoke by the work's Namespace manifest
const CRD_GROUP = `wd${id}.e2e.spokelink.io`;
const MWRS = 'web';

const errors: string[] = [];
const grants: SpokeGrants[] = [];

async function run(plane: SharedControlPlane, args: string[], input?: string) {
  return kubectl(plane.binaries.kubectl, args, {
    kubeconfig: plane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
}

async function onHub(args: string[], input?: string): Promise<string> {
  const res = await run(hubPlane, args, input);
  expect(res.code, `kubectl ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout;
}

/** `kubectl get … -o json` on `plane`, or undefined when absent. */
async function getJson<T>(plane: SharedControlPlane, args: string[]): Promise<T | undefined> {
  const res = await run(plane, ['get', ...args, '-o', 'json']);
  return res.code === 0 ? (JSON.parse(res.stdout) as T) : undefined;
}

function workOn(cluster: string): Promise<ManifestWork | undefined> {
  return getJson<ManifestWork>(hubPlane, ['manifestwork', MWRS, '-n', cluster]);
}

/** Resolves the work on `cluster` once `check` holds; the error shows its last status. */
async function workWhere(cluster: string, what: string, check: (w: ManifestWork) => boolean) {
  let last: unknown;
  return eventually(
    `${cluster}: ${what}`,
    async () => {
      const work = await workOn(cluster);
      last = work?.status;
      return work !== undefined && check(work) ? work : undefined;
    },
    60_000,
    250,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last status: ${JSON.stringify(last)}`);
  });
}

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: APP_NS },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] },
    },
  },
};
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `gadgets.${CRD_GROUP}` },
  spec: {
    group: CRD_GROUP,
    names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget' },
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
const manifests = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP_NS } },
  crd,
  deployment,
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: APP_NS },
    data: { greeting: 'hello' },
  },
  {
    apiVersion: `${CRD_GROUP}/v1`,
    kind: 'Gadget',
    metadata: { name: 'gizmo', namespace: APP_NS },
    spec: { size: 3 },
  },
];

function replicaSet(extra: readonly object[] = []) {
  return {
    apiVersion: `${WORK_GROUP}/v1alpha1`,
    kind: 'ManifestWorkReplicaSet',
    metadata: { name: MWRS, namespace: NAMESPACE },
    spec: {
      placementRefs: [{ name: 'gold', rolloutStrategy: { type: 'All' } }],
      manifestWorkTemplate: {
        deleteOption: { propagationPolicy: 'Foreground' },
        workload: { manifests: [...manifests, ...extra] },
        manifestConfigs: [
          {
            resourceIdentifier: {
              group: 'apps',
              resource: 'deployments',
              namespace: APP_NS,
              name: 'web',
            },
            feedbackRules: [{ type: 'WellKnownStatus' }],
          },
        ],
      },
    },
  };
}

async function markAvailable(cluster: string): Promise<void> {
  await onHub([
    'patch',
    'managedcluster',
    cluster,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        conditions: [
          {
            type: 'ManagedClusterConditionAvailable',
            status: 'True',
            reason: 'ManagedClusterAvailable',
            message: 'set by the work delivery test',
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
        ],
      },
    }),
  ]);
}

/**
 * The tunnel rig (one agent and agent API per cluster) and the controllers, stopped when the
 * test finishes.
 */
async function startControllers(): Promise<void> {
  const hub = new KubeConfig();
  hub.loadFromFile(hubPlane.kubeconfigPath);
  const onError = (what: string | undefined, err: unknown) => {
    const text = `${what ?? 'watch'}: ${describeError(err)}`;
    // Only failures about this file's objects count; watches retry by design, and other
    // files' Placements and clusters on the shared hub are not ours.
    if (what !== undefined && what.includes(id) && !what.endsWith(' watch')) errors.push(text);
    else console.warn(text);
  };
  const rig = await controllerRig(hubPlane, [
    {
      name: CLUSTER1,
      kubeApiserver: new URL(spokes.spoke1.server).host,
      agentApi: (grants[0] as SpokeGrants).agentApi,
    },
    {
      name: CLUSTER2,
      kubeApiserver: new URL(spokes.spoke2.server).host,
      agentApi: (grants[1] as SpokeGrants).agentApi,
    },
  ]);
  const server = rig.server;
  const sets = createClusterSetController({ hub, onError });
  const placement = createPlacementController({ hub, onError });
  const mwrs = createManifestWorkReplicaSetController({ hub, onError });
  const work = createManifestWorkController({
    hub,
    server,
    spokeKubeConfig: (cluster) => server.spokeKubeConfig(cluster, HUB_CONTROLLER_IDENTITY),
    onError,
  });
  for (const c of [sets, placement, mwrs, work]) c.start();
  onTestFinished(async () => {
    for (const c of [work, mwrs, placement, sets]) await c.stop();
  });
  await Promise.all([sets.synced, placement.synced, mwrs.synced]);
}

beforeAll(async () => {
  grants.push(await grantSpoke(spokes.spoke1, `wd1-${id}`));
  grants.push(await grantSpoke(spokes.spoke2, `wd2-${id}`));
  await onHub(['create', 'namespace', NAMESPACE]);
  for (const cluster of [CLUSTER1, CLUSTER2]) {
    await onHub(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: `${CLUSTER_GROUP}/v1`,
        kind: 'ManagedCluster',
        metadata: {
          name: cluster,
          labels: { 'cluster.open-cluster-management.io/clusterset': SET, tier: 'gold' },
        },
        spec: { hubAcceptsClient: true },
      }),
    );
    await onHub(['create', 'namespace', cluster]);
    await markAvailable(cluster);
  }
  await onHub(
    ['apply', '-f', '-'],
    `apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSet
metadata:
  name: ${SET}
spec:
  clusterSelector:
    selectorType: ExclusiveClusterSetLabel
---
apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSetBinding
metadata:
  name: ${SET}
  namespace: ${NAMESPACE}
spec:
  clusterSet: ${SET}
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: gold
  namespace: ${NAMESPACE}
spec:
  clusterSets: [${SET}]
  predicates:
    - requiredClusterSelector:
        labelSelector:
          matchLabels:
            tier: gold
`,
  );
}, 120_000);

/** Deletes the replica set while the controllers run, so they remove its works and objects. */
async function deleteReplicaSet(): Promise<void> {
  await run(hubPlane, ['delete', 'mwrs', MWRS, '-n', NAMESPACE, '--ignore-not-found']);
  await eventually(
    'the works to be gone',
    async () =>
      (await workOn(CLUSTER1)) === undefined && (await workOn(CLUSTER2)) === undefined
        ? true
        : undefined,
    60_000,
    250,
  );
}

afterAll(async () => {
  for (const cluster of [CLUSTER1, CLUSTER2]) {
    for (const kind of ['manifestwork', 'managedclusteraddon']) {
      await run(hubPlane, ['delete', kind, '--all', '-n', cluster, '--wait=false']);
    }
    await run(hubPlane, ['delete', 'namespace', cluster, '--ignore-not-found', '--wait=false']);
    await run(hubPlane, ['delete', 'managedcluster', cluster, '--ignore-not-found']);
  }
  await run(hubPlane, ['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']);
  await run(hubPlane, ['delete', 'managedclusterset', SET, '--ignore-not-found']);
  for (const kind of ['validatingadmissionpolicybinding', 'validatingadmissionpolicy']) {
    await run(hubPlane, ['delete', kind, MANIFEST_WORK_POLICY_NAME, '--ignore-not-found']);
  }
  for (const plane of Object.values(spokes)) {
    await run(plane, ['delete', 'namespace', APP_NS, '--ignore-not-found', '--wait=false']);
    await run(plane, [
      'delete',
      'crd',
      `gadgets.${CRD_GROUP}`,
      '--ignore-not-found',
      '--wait=false',
    ]);
  }
  for (const g of grants) await g.remove();
  expect(errors).toEqual([]);
}, 120_000);

describe('work delivery to two spokes through a Placement', () => {
  it('delivers, feeds back, corrects drift, follows the Placement and fails a bad manifest alone', async () => {
    await startControllers();
    try {
      await deliverAndCheck();
    } finally {
      await deleteReplicaSet();
    }
  });
});

/** The flow itself (see the file comment). */
async function deliverAndCheck(): Promise<void> {
  await onHub(['apply', '-f', '-'], stringify(replicaSet()));

  // Both clusters get the work, and both apply it.
  for (const cluster of [CLUSTER1, CLUSTER2]) {
    await workWhere(
      cluster,
      'Applied and Available',
      (w) => isCondition(w, T.Applied, 'True') && isCondition(w, T.Available, 'True'),
    );
  }
  // What reached each spoke, read there with kubectl.
  for (const plane of Object.values(spokes)) {
    const deploy = await getJson<{ spec: { replicas: number } }>(plane, [
      'deployment',
      'web',
      '-n',
      APP_NS,
    ]);
    expect(deploy?.spec.replicas, plane.name).toBe(2);
    const settings = await getJson<{ data: object }>(plane, [
      'configmap',
      'settings',
      '-n',
      APP_NS,
    ]);
    expect(settings?.data, plane.name).toEqual({ greeting: 'hello' });
    const gadget = await getJson<{ spec: object }>(plane, ['gadget', 'gizmo', '-n', APP_NS]);
    expect(gadget?.spec, plane.name).toEqual({ size: 3 });
  }

  // Feedback: each spoke's Deployment status (written as its controller would; the sandbox
  // runs none) reaches that cluster's work.
  for (const [cluster, plane, replicas] of [
    [CLUSTER1, spokes.spoke1, 2],
    [CLUSTER2, spokes.spoke2, 1],
  ] as const) {
    const patched = await run(plane, [
      'patch',
      'deployment',
      'web',
      '-n',
      APP_NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { replicas, readyReplicas: replicas, observedGeneration: 1 } }),
    ]);
    expect(patched.stderr).toBe('');
    const fed = await workWhere(cluster, `Replicas feedback ${replicas}`, (w) =>
      (w.status?.resourceStatus?.manifests ?? []).some((m) =>
        (m.statusFeedback?.values ?? []).some(
          (v) => v.name === 'Replicas' && v.fieldValue.integer === replicas,
        ),
      ),
    );
    const deployStatus = fed.status?.resourceStatus?.manifests?.find(
      (m) => m.resourceMeta.kind === 'Deployment',
    );
    expect(deployStatus?.statusFeedback?.values).toEqual([
      { name: 'ReadyReplicas', fieldValue: { type: 'Integer', integer: replicas } },
      { name: 'Replicas', fieldValue: { type: 'Integer', integer: replicas } },
    ]);
  }

  // Drift on spoke2: the ConfigMap edited there is put back.
  const edited = await run(spokes.spoke2, [
    'patch',
    'configmap',
    'settings',
    '-n',
    APP_NS,
    '--type=merge',
    '-p',
    '{"data":{"greeting":"drifted"}}',
  ]);
  expect(edited.code, edited.stderr).toBe(0);
  await eventually(
    'the ConfigMap on spoke2 to be corrected',
    async () => {
      const cm = await getJson<{ data: { greeting: string } }>(spokes.spoke2, [
        'configmap',
        'settings',
        '-n',
        APP_NS,
      ]);
      return cm?.data.greeting === 'hello' ? true : undefined;
    },
    15_000,
    100,
  );

  // An invalid manifest beside the valid ones: only it fails, with the API server's message.
  await onHub(
    ['apply', '-f', '-'],
    stringify(
      replicaSet([
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'bad', namespace: APP_NS },
          data: { n: 1 },
        },
      ]),
    ),
  );
  const mixed = await workWhere(CLUSTER2, 'the bad manifest failed', (w) =>
    isCondition(w, T.Applied, 'False', 'AppliedManifestWorkFailed'),
  );
  const applied = (mixed.status?.resourceStatus?.manifests ?? []).map((m) =>
    conditionOf(m, T.Applied),
  );
  expect(applied.map((c) => c?.status)).toEqual(['True', 'True', 'True', 'True', 'True', 'False']);
  expect(applied[5]?.message).toMatch(
    /cannot unmarshal number into Go struct field ConfigMap\.data of type string/,
  );
  expect(await getJson(spokes.spoke2, ['configmap', 'settings', '-n', APP_NS])).toBeDefined();

  // spoke2 leaves the Placement: its work goes, and with it every object on spoke2.
  await onHub(['label', 'managedcluster', CLUSTER2, 'tier=silver', '--overwrite']);
  await eventually(
    `the work on ${CLUSTER2} to be gone`,
    async () => ((await workOn(CLUSTER2)) === undefined ? true : undefined),
    60_000,
    250,
  );
  for (const args of [
    ['deployment', 'web', '-n', APP_NS],
    ['configmap', 'settings', '-n', APP_NS],
    ['gadget', 'gizmo', '-n', APP_NS],
  ]) {
    await eventually(
      `${args.join(' ')} to be gone from spoke2`,
      async () => ((await getJson(spokes.spoke2, args)) === undefined ? true : undefined),
      30_000,
      250,
    );
  }
  // spoke1 keeps everything.
  expect(await workOn(CLUSTER1)).toBeDefined();
  expect(await getJson(spokes.spoke1, ['configmap', 'settings', '-n', APP_NS])).toBeDefined();
  expect(await getJson(spokes.spoke1, ['gadget', 'gizmo', '-n', APP_NS])).toBeDefined();
}
