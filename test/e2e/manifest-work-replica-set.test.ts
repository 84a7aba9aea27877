// ManifestWorkReplicaSets on the real hub, driven with OCM YAML through the real kubectl: the
// cluster-set, placement and ManifestWorkReplicaSet controllers run in-process against it.
// ManagedClusters are plain API objects (no agents), and the works' Applied/Available are
// written through the status subresource, as the work controller would write them once the
// spoke applied them. Every name is test-unique.
import { randomBytes } from 'node:crypto';

import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { Condition, ManifestWork, ManifestWorkReplicaSet } from '../../hub/api/index.ts';
import {
  createClusterSetController,
  type ClusterSetController,
} from '../../hub/controllers/cluster-set/index.ts';
import {
  createManifestWorkReplicaSetController,
  kubeReplicaSetStore,
  type ManifestWorkReplicaSetController,
} from '../../hub/controllers/manifest-work-replica-set/index.ts';
import {
  createPlacementController,
  type PlacementController,
} from '../../hub/controllers/placement/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';

const hubPlane = inject('hub');
const id = randomBytes(3).toString('hex');
const OWNER = `e2e-mwrs-${id}`; // label on every cluster this file creates
const NAMESPACE = `mwrs-${id}`;
const SET = `mwrs-set-${id}`;
const CLUSTERS = ['a', 'b', 'c'].map((n) => `mwrs-${n}-${id}`);
const MWRS_LABEL = 'work.open-cluster-management.io/manifestworkreplicaset';
const PLACEMENT_LABEL = 'work.open-cluster-management.io/placementname';
const FINALIZER = 'work.open-cluster-management.io/manifest-work-cleanup';

const errors: string[] = [];
/** Status writes by replica set name (the controller's store, counted). */
const statusWrites = new Map<string, number>();
const controllers: {
  sets?: ClusterSetController;
  placement?: PlacementController;
  mwrs?: ManifestWorkReplicaSetController;
} = {};

async function k(args: string[], input?: string): Promise<string> {
  const res = await kubectl(hubPlane.binaries.kubectl, args, {
    kubeconfig: hubPlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
  expect(res.code, `kubectl ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout;
}
const apply = (yaml: string) => k(['apply', '-f', '-'], yaml);
const tryJson = async <T>(args: string[]): Promise<T | undefined> => {
  const res = await kubectl(hubPlane.binaries.kubectl, ['get', ...args, '-o', 'json'], {
    kubeconfig: hubPlane.kubeconfigPath,
  });
  return res.code === 0 ? (JSON.parse(res.stdout) as T) : undefined;
};

/** The works labelled for replica set `name`, by cluster (namespace). */
async function worksOf(name: string): Promise<Map<string, ManifestWork>> {
  const list = await tryJson<{ items: ManifestWork[] }>([
    'manifestworks',
    '--all-namespaces',
    '-l',
    `${MWRS_LABEL}=${NAMESPACE}.${name}`,
  ]);
  return new Map((list?.items ?? []).map((w) => [w.metadata?.namespace ?? '', w]));
}

/** Waits until the clusters holding a work of `name` are exactly `expected`. */
async function worksBecome(name: string, expected: string[]): Promise<Map<string, ManifestWork>> {
  let last: string[] = [];
  return eventually(
    `works of ${name} on ${expected.join(',')}`,
    async () => {
      const works = await worksOf(name);
      last = [...works.keys()].sort();
      return JSON.stringify(last) === JSON.stringify([...expected].sort()) ? works : undefined;
    },
    30_000,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify(last)}`);
  });
}

/** Writes Applied and Available True on a work, for its current generation. */
async function markAvailable(cluster: string, name: string): Promise<void> {
  const work = await tryJson<ManifestWork>(['manifestwork', name, '-n', cluster]);
  const generation = work?.metadata?.generation ?? 1;
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, reason: string) => ({
    type,
    status: 'True',
    reason,
    message: `set by ${OWNER}`,
    lastTransitionTime: time,
    observedGeneration: generation,
  });
  await k([
    'patch',
    'manifestwork',
    name,
    '-n',
    cluster,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        conditions: [
          condition('Applied', 'AppliedManifestWorkComplete'),
          condition('Available', 'ResourcesAvailable'),
        ],
      },
    }),
  ]);
}

const conditionOf = (object: { status?: { conditions?: Condition[] } } | undefined, type: string) =>
  object?.status?.conditions?.find((c) => c.type === type);

function statusBecomes(name: string, check: (m: ManifestWorkReplicaSet) => boolean) {
  let last: unknown;
  return eventually(
    `the status of ${name}`,
    async () => {
      const mwrs = await tryJson<ManifestWorkReplicaSet>(['mwrs', name, '-n', NAMESPACE]);
      last = mwrs?.status;
      return mwrs !== undefined && check(mwrs) ? mwrs : undefined;
    },
    30_000,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify(last)}`);
  });
}

function mwrsYaml(name: string, rollout: string): string {
  return `apiVersion: work.open-cluster-management.io/v1alpha1
kind: ManifestWorkReplicaSet
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
spec:
  placementRefs:
    - name: gold
      rolloutStrategy:
${rollout}
  manifestWorkTemplate:
    deleteOption:
      propagationPolicy: Foreground
    workload:
      manifests:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: ${name}-config
            namespace: default
          data:
            greeting: hello
`;
}

beforeAll(async () => {
  const hub = new KubeConfig();
  hub.loadFromFile(hubPlane.kubeconfigPath);
  const onError = (what: string, err: unknown) => {
    // Other files' Placements (in their own, possibly terminating, namespaces) are not ours.
    const foreign = what.includes('/') && !what.includes(`${NAMESPACE}/`);
    if (what.endsWith(' watch') || foreign) console.warn(`${what}: ${describeError(err)}`);
    else errors.push(`${what}: ${describeError(err)}`);
  };
  controllers.sets = createClusterSetController({ hub, onError });
  controllers.placement = createPlacementController({ hub, onError });
  const store = kubeReplicaSetStore(hub);
  controllers.mwrs = createManifestWorkReplicaSetController({
    hub,
    onError,
    store: {
      ...store,
      replaceStatus: (mwrs) => {
        const name = mwrs.metadata?.name ?? '';
        statusWrites.set(name, (statusWrites.get(name) ?? 0) + 1);
        return store.replaceStatus(mwrs);
      },
    },
  });
  for (const c of Object.values(controllers)) c.start();
  await Promise.all(Object.values(controllers).map((c) => c.synced));
  await k(['create', 'namespace', NAMESPACE]);
  // Three available clusters in one set, bound to the namespace; a Placement of the gold ones.
  for (const cluster of CLUSTERS) {
    await apply(`apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata:
  name: ${cluster}
  labels:
    ${OWNER}: "true"
    cluster.open-cluster-management.io/clusterset: ${SET}
    tier: gold
spec:
  hubAcceptsClient: true
`);
    await k(['create', 'namespace', cluster]);
    await k([
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
              message: `set by ${OWNER}`,
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
            },
          ],
        },
      }),
    ]);
  }
  await apply(`apiVersion: cluster.open-cluster-management.io/v1beta2
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
`);
  await eventually(
    'the placement to select three clusters',
    async () => {
      const p = await tryJson<{ status?: { numberOfSelectedClusters?: number } }>([
        'placement',
        'gold',
        '-n',
        NAMESPACE,
      ]);
      return p?.status?.numberOfSelectedClusters === 3 ? true : undefined;
    },
    30_000,
    200,
  );
});

afterAll(async () => {
  await Promise.all(Object.values(controllers).map((c) => c.stop()));
  const run = (args: string[]) =>
    kubectl(hubPlane.binaries.kubectl, args, { kubeconfig: hubPlane.kubeconfigPath });
  // The controller is stopped: finalizers left on replica sets would hold the namespace.
  const left = await run(['get', 'mwrs', '-n', NAMESPACE, '-o', 'name']);
  for (const name of left.stdout.split('\n').filter((n) => n !== ''))
    await run([
      'patch',
      name,
      '-n',
      NAMESPACE,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
  await run(['delete', 'namespace', NAMESPACE, ...CLUSTERS, '--wait=false']);
  await run(['delete', 'managedclusters', '-l', OWNER, '--wait=false']);
  await run(['delete', 'managedclusterset', SET, '--wait=false']);
  expect(errors).toEqual([]);
});

describe('ManifestWorkReplicaSet', () => {
  it('All: one work per decided cluster, named and labelled as OCM does, then status Complete', async () => {
    await apply(mwrsYaml('everywhere', '        type: All'));
    const works = await worksBecome('everywhere', CLUSTERS);
    for (const [cluster, work] of works) {
      expect(work.metadata?.name).toBe('everywhere');
      expect(work.metadata?.labels).toMatchObject({
        [MWRS_LABEL]: `${NAMESPACE}.everywhere`,
        [PLACEMENT_LABEL]: 'gold',
      });
      expect(work.metadata?.namespace).toBe(cluster);
      expect(work.spec?.workload?.manifests?.[0]).toMatchObject({
        kind: 'ConfigMap',
        metadata: { name: 'everywhere-config' },
      });
    }
    const mwrs = await tryJson<ManifestWorkReplicaSet>(['mwrs', 'everywhere', '-n', NAMESPACE]);
    expect(mwrs?.metadata?.finalizers).toContain(FINALIZER);
    const before = await statusBecomes('everywhere', (m) => m.status?.summary?.total === 3);
    expect(conditionOf(before, 'PlacementVerified')).toMatchObject({
      status: 'True',
      reason: 'AsExpected',
    });
    expect(conditionOf(before, 'ManifestworkApplied')).toMatchObject({
      status: 'False',
      reason: 'Processing',
    });

    for (const cluster of CLUSTERS) await markAvailable(cluster, 'everywhere');
    const after = await statusBecomes(
      'everywhere',
      (m) => conditionOf(m, 'PlacementRolledOut')?.reason === 'Complete',
    );
    expect(after.status?.summary).toEqual({
      total: 3,
      applied: 3,
      available: 3,
      progressing: 0,
      degraded: 0,
      desiredTotal: 3,
      updated: 3,
    });
    expect(conditionOf(after, 'ManifestworkApplied')).toMatchObject({
      status: 'True',
      reason: 'AsExpected',
    });
    // A settled replica set is not written again: a change that is not the spec (a label)
    // makes a reconcile, which finds the status as it is.
    const writes = statusWrites.get('everywhere');
    await k(['label', 'mwrs', 'everywhere', '-n', NAMESPACE, `${OWNER}=touched`]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(statusWrites.get('everywhere')).toBe(writes);
    expect(after.status?.placementSummary).toEqual([
      expect.objectContaining({
        name: 'gold',
        availableDecisionGroups: '1 (3 / 3 clusters applied)',
      }),
    ]);
  });

  it('Progressive maxConcurrency 1: one cluster at a time, each once the previous is available', async () => {
    await apply(
      mwrsYaml(
        'one-by-one',
        '        type: Progressive\n        progressive:\n          maxConcurrency: 1',
      ),
    );
    const [first, second, third] = [...CLUSTERS].sort() as [string, string, string];
    await worksBecome('one-by-one', [first]);
    const progressing = await statusBecomes(
      'one-by-one',
      (m) => m.status?.summary?.total === 1 && m.status.summary.desiredTotal === 3,
    );
    expect(conditionOf(progressing, 'PlacementRolledOut')).toMatchObject({
      status: 'False',
      reason: 'Progressing',
    });
    // The controller has looked at the rollout since and still holds the others back.
    expect([...(await worksOf('one-by-one')).keys()]).toEqual([first]);
    await markAvailable(first, 'one-by-one');
    await worksBecome('one-by-one', [first, second]);
    await markAvailable(second, 'one-by-one');
    await worksBecome('one-by-one', [first, second, third]);
    await markAvailable(third, 'one-by-one');
    await statusBecomes(
      'one-by-one',
      (m) => conditionOf(m, 'PlacementRolledOut')?.reason === 'Complete',
    );
  });

  it('a cluster that leaves the decisions loses its work; deleting the replica set deletes its works', async () => {
    await worksBecome('everywhere', CLUSTERS);
    const leaving = CLUSTERS[2] ?? '';
    await k(['label', 'managedcluster', leaving, 'tier=bronze', '--overwrite']);
    await worksBecome('everywhere', CLUSTERS.slice(0, 2));
    await statusBecomes('everywhere', (m) => m.status?.summary?.desiredTotal === 2);

    await k(['delete', 'mwrs', 'everywhere', '-n', NAMESPACE, '--wait=false']);
    await worksBecome('everywhere', []);
    await eventually(
      'the replica set to be gone',
      async () =>
        (await tryJson(['mwrs', 'everywhere', '-n', NAMESPACE])) === undefined ? true : undefined,
      30_000,
      200,
    );
    // The other replica set keeps its works (less the cluster that left the same placement).
    expect([...(await worksOf('one-by-one')).keys()].sort()).toEqual(CLUSTERS.slice(0, 2));
  });
});
