// Cluster sets, bindings and placements on the real hub, driven with OCM YAML through the real
// kubectl: the cluster-set and placement controllers run in-process against it. ManagedClusters
// are plain API objects here (no agents): their availability is written through the status
// subresource, as the cluster-status controller would write it. Every name is test-unique.
import { randomBytes } from 'node:crypto';

import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type {
  Condition,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  Placement,
  PlacementDecision,
} from '../../hub/api/index.ts';
import {
  createClusterSetController,
  type ClusterSetController,
} from '../../hub/controllers/cluster-set/index.ts';
import {
  createPlacementController,
  type PlacementController,
} from '../../hub/controllers/placement/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';

const hubPlane = inject('hub');
const id = randomBytes(3).toString('hex');
const OWNER = `e2e-placement-${id}`; // label on every cluster this file creates
const NAMESPACE = `placement-${id}`;
const SET_LABEL = 'cluster.open-cluster-management.io/clusterset';
const UNAVAILABLE = 'cluster.open-cluster-management.io/unavailable';
const UNREACHABLE = 'cluster.open-cluster-management.io/unreachable';

const errors: string[] = [];
let clusterSets: ClusterSetController | undefined;
let placements: PlacementController | undefined;

/** Runs kubectl on the hub; expects success; resolves to stdout. */
async function k(args: string[], input?: string): Promise<string> {
  const res = await kubectl(hubPlane.binaries.kubectl, args, {
    kubeconfig: hubPlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
  expect(res.code, `kubectl ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout;
}

const apply = (yaml: string) => k(['apply', '-f', '-'], yaml);
const json = async <T>(args: string[]) => JSON.parse(await k(['get', ...args, '-o', 'json'])) as T;
const tryJson = async <T>(args: string[]): Promise<T | undefined> => {
  const res = await kubectl(hubPlane.binaries.kubectl, ['get', ...args, '-o', 'json'], {
    kubeconfig: hubPlane.kubeconfigPath,
  });
  return res.code === 0 ? (JSON.parse(res.stdout) as T) : undefined;
};

function clusterYaml(name: string, labels: Record<string, string>): string {
  const lines = Object.entries({ [OWNER]: 'true', ...labels }).map(
    ([key, value]) => `    ${key}: "${value}"`,
  );
  return `apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata:
  name: ${name}
  labels:
${lines.join('\n')}
spec:
  hubAcceptsClient: true
`;
}

/** Writes the cluster's Available condition (and claims) through the status subresource. */
async function setAvailable(
  name: string,
  status: Condition['status'],
  claims: Record<string, string> = {},
): Promise<void> {
  const reason = {
    True: 'ManagedClusterAvailable',
    False: 'ManagedClusterKubeAPIServerUnavailable',
    Unknown: 'ManagedClusterLeaseUpdateStopped',
  }[status];
  const patch = {
    status: {
      conditions: [
        {
          type: 'ManagedClusterConditionAvailable',
          status,
          reason,
          message: `set by ${OWNER}`,
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ],
      clusterClaims: Object.entries(claims).map(([claim, value]) => ({ name: claim, value })),
    },
  };
  await k([
    'patch',
    'managedcluster',
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(patch),
  ]);
}

function clusterSetYaml(name: string): string {
  return `apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSet
metadata:
  name: ${name}
spec:
  clusterSelector:
    selectorType: ExclusiveClusterSetLabel
---
apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSetBinding
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
spec:
  clusterSet: ${name}
`;
}

/** The clusters a placement's PlacementDecisions hold, by decision name. */
async function decisionsOf(placement: string): Promise<Record<string, string[]>> {
  const list = await json<{ items: PlacementDecision[] }>([
    'placementdecisions',
    '-n',
    NAMESPACE,
    '-l',
    `cluster.open-cluster-management.io/placement=${placement}`,
  ]);
  return Object.fromEntries(
    list.items.map((d) => [
      d.metadata?.name ?? '',
      (d.status?.decisions ?? []).map((c) => c.clusterName).sort(),
    ]),
  );
}

/** Waits until `placement`'s decisions are `expected` (one PlacementDecision per key). */
function decisionsBecome(
  placement: string,
  expected: Record<string, string[]>,
  timeoutMs = 30_000,
) {
  let last: unknown;
  return eventually(
    `${placement}'s decisions ${JSON.stringify(expected)}`,
    async () => {
      last = await decisionsOf(placement);
      try {
        expect(last).toEqual(expected);
        return true;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify(last)}`);
  });
}

const conditionOf = (object: { status?: { conditions?: Condition[] } } | undefined, type: string) =>
  object?.status?.conditions?.find((c) => c.type === type);

/** Waits until the condition `type` of `target` has `status` and `reason`; resolves to it. */
function conditionBecomes(
  target: string[],
  type: string,
  status: string,
  reason: string,
  timeoutMs = 30_000,
) {
  let last: unknown;
  return eventually(
    `${target.join(' ')} ${type}=${status}/${reason}`,
    async () => {
      const object = await tryJson<{ status?: { conditions?: Condition[] } }>(target);
      const condition = conditionOf(object, type);
      last = condition;
      return condition?.status === status && condition.reason === reason ? condition : undefined;
    },
    timeoutMs,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify(last)}`);
  });
}

beforeAll(async () => {
  const hub = new KubeConfig();
  hub.loadFromFile(hubPlane.kubeconfigPath);
  const onError = (what: string, err: unknown) => {
    // A watch restarts on its own (e.g. 429 while a fresh API server warms up its storage).
    if (what.endsWith(' watch')) console.warn(`${what}: ${describeError(err)}`);
    // The hub is shared: another file's Placement (its namespace being deleted) is not ours.
    else if (/^Placement [^/(]+\//.test(what) && !what.includes(id)) return;
    else errors.push(`${what}: ${describeError(err)}`);
  };
  clusterSets = createClusterSetController({ hub, onError });
  placements = createPlacementController({ hub, onError });
  clusterSets.start();
  placements.start();
  await Promise.all([clusterSets.synced, placements.synced]);
  await k(['create', 'namespace', NAMESPACE]);
});

afterAll(async () => {
  await Promise.all([clusterSets?.stop(), placements?.stop()]);
  const run = (args: string[]) =>
    kubectl(hubPlane.binaries.kubectl, args, { kubeconfig: hubPlane.kubeconfigPath });
  await run(['delete', 'namespace', NAMESPACE, '--wait=false']);
  await run(['delete', 'managedclusters', '-l', OWNER, '--wait=false']);
  const sets = await run(['get', 'managedclustersets', '-o', 'name']);
  const ours = sets.stdout.split('\n').filter((name) => name.includes(`-${id}`));
  if (ours.length > 0) await run(['delete', ...ours, '--wait=false']);
  // Failures the controllers retried on their own: none is expected against a healthy hub.
  expect(errors).toEqual([]);
});

describe('ManagedClusterSet and ManagedClusterSetBinding', () => {
  it('keeps the built-in sets, puts clusters without a set into default, counts members and binds', async () => {
    const defaultSet = await eventually('the default set', () =>
      tryJson<ManagedClusterSet>(['managedclusterset', 'default']),
    );
    expect(defaultSet.spec?.clusterSelector).toEqual({ selectorType: 'ExclusiveClusterSetLabel' });
    const globalSet = await eventually('the global set', () =>
      tryJson<ManagedClusterSet>(['managedclusterset', 'global']),
    );
    expect(globalSet.spec?.clusterSelector).toEqual({
      selectorType: 'LabelSelector',
      labelSelector: {},
    });

    // A cluster that names no set joins `default`, and is unreachable until it reports Available.
    const lonely = `lonely-${id}`;
    await apply(clusterYaml(lonely, {}));
    const labelled = await eventually('the default set label', async () => {
      const cluster = await json<ManagedCluster>(['managedcluster', lonely]);
      return cluster.metadata?.labels?.[SET_LABEL] === 'default' &&
        (cluster.spec?.taints ?? []).length > 0
        ? cluster
        : undefined;
    });
    expect(labelled.spec?.taints).toEqual([
      {
        key: UNREACHABLE,
        effect: 'NoSelect',
        timeAdded: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
    ]);
    expect(
      await k(['get', 'managedclusters', '-l', `${SET_LABEL}=default`, '-o', 'name']),
    ).toContain(lonely);

    // A set of our own: empty, then holding the cluster once it is labelled into it.
    const dev = `dev-${id}`;
    await apply(clusterSetYaml(dev));
    const empty = await conditionBecomes(
      ['managedclusterset', dev],
      'ClusterSetEmpty',
      'True',
      'NoClusterMatched',
    );
    expect(empty.message).toBe('No ManagedCluster selected');
    const bound = await conditionBecomes(
      ['managedclustersetbinding', dev, '-n', NAMESPACE],
      'Bound',
      'True',
      'ClusterSetBound',
    );
    expect(bound.message).toBe(`ManagedClusterSet ${dev} is bound to this namespace`);
    await k(['label', 'managedcluster', lonely, `${SET_LABEL}=${dev}`, '--overwrite']);
    const selected = await conditionBecomes(
      ['managedclusterset', dev],
      'ClusterSetEmpty',
      'False',
      'ClustersSelected',
    );
    expect(selected.message).toBe('1 ManagedClusters selected');
    expect((await k(['get', 'managedclusterset', dev])).split('\n')[1]).toMatch(
      new RegExp(`^${dev}\\s+False\\s+`),
    );

    // A binding to a set that does not exist yet, until it does.
    const later = `later-${id}`;
    await apply(clusterSetYaml(later).split('---\n')[1] ?? '');
    const missing = await conditionBecomes(
      ['managedclustersetbinding', later, '-n', NAMESPACE],
      'Bound',
      'False',
      'ClusterSetNotFound',
    );
    expect(missing.message).toBe(`ManagedClusterSet "${later}" not found`);
    await apply(clusterSetYaml(later).split('---\n')[0] ?? '');
    await conditionBecomes(
      ['managedclustersetbinding', later, '-n', NAMESPACE],
      'Bound',
      'True',
      'ClusterSetBound',
    );
  });
});

describe('Placement', () => {
  const apps = `apps-${id}`;
  const [a1, a2, a3] = ['a1', 'a2', 'a3'].map((n) => `${n}-${id}`) as [string, string, string];

  beforeAll(async () => {
    await apply(
      [
        clusterSetYaml(apps),
        clusterYaml(a1, { [SET_LABEL]: apps, env: 'prod' }),
        clusterYaml(a2, { [SET_LABEL]: apps, env: 'prod' }),
        clusterYaml(a3, { [SET_LABEL]: apps, env: 'dev' }),
      ].join('---\n'),
    );
    await setAvailable(a1, 'True', { 'region.open-cluster-management.io': 'eu-west-1' });
    await setAvailable(a2, 'True', { 'region.open-cluster-management.io': 'us-east-1' });
    await setAvailable(a3, 'True', { 'region.open-cluster-management.io': 'eu-west-1' });
  });

  it('chooses by labels and claims, writes OCM-shaped decisions and status, and follows label changes', async () => {
    await apply(`apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: prod-eu
  namespace: ${NAMESPACE}
spec:
  clusterSets:
    - ${apps}
  predicates:
    - requiredClusterSelector:
        labelSelector:
          matchLabels:
            env: prod
        claimSelector:
          matchExpressions:
            - key: region.open-cluster-management.io
              operator: In
              values:
                - eu-west-1
`);
    await decisionsBecome('prod-eu', { 'prod-eu-decision-1': [a1] });
    const decision = await json<PlacementDecision>([
      'placementdecision',
      'prod-eu-decision-1',
      '-n',
      NAMESPACE,
    ]);
    expect(decision.metadata?.labels).toMatchObject({
      'cluster.open-cluster-management.io/placement': 'prod-eu',
      'cluster.open-cluster-management.io/decision-group-index': '0',
      'cluster.open-cluster-management.io/decision-group-name': '',
    });
    const placement = await json<Placement>(['placement', 'prod-eu', '-n', NAMESPACE]);
    expect(decision.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'cluster.open-cluster-management.io/v1beta1',
        kind: 'Placement',
        name: 'prod-eu',
        uid: placement.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(decision.status?.decisions).toEqual([{ clusterName: a1, reason: '' }]);
    await conditionBecomes(
      ['placement', 'prod-eu', '-n', NAMESPACE],
      'PlacementSatisfied',
      'True',
      'AllDecisionsScheduled',
    );
    const status = (await json<Placement>(['placement', 'prod-eu', '-n', NAMESPACE])).status;
    expect(status?.numberOfSelectedClusters).toBe(1);
    expect(status?.decisionGroups).toEqual([
      {
        decisionGroupIndex: 0,
        decisionGroupName: '',
        decisions: ['prod-eu-decision-1'],
        clusterCount: 1,
      },
    ]);
    expect(status?.conditions?.find((c) => c.type === 'PlacementMisconfigured')).toMatchObject({
      status: 'False',
      reason: 'Succeedconfigured',
      message: 'Placement configurations check pass',
    });
    const table = (await k(['get', 'placement', 'prod-eu', '-n', NAMESPACE])).trim().split('\n');
    expect(table.map((line) => line.trim().split(/\s+/))).toEqual([
      ['NAME', 'SUCCEEDED', 'REASON', 'SELECTEDCLUSTERS'],
      ['prod-eu', 'True', 'AllDecisionsScheduled', '1'],
    ]);

    // Scheduling again changes nothing: what the API server stored is what the controller wants.
    const versions = async () =>
      [
        await json<Placement>(['placement', 'prod-eu', '-n', NAMESPACE]),
        await json<PlacementDecision>(['placementdecision', 'prod-eu-decision-1', '-n', NAMESPACE]),
      ].map((o) => o.metadata?.resourceVersion);
    const before = await versions();
    await placements?.reconcile(`${NAMESPACE}/prod-eu`);
    expect(await versions()).toEqual(before);

    // a3 turns prod: it is in eu, so it joins; a1 turns dev: it leaves.
    await k(['label', 'managedcluster', a3, 'env=prod', '--overwrite']);
    await decisionsBecome('prod-eu', { 'prod-eu-decision-1': [a1, a3].sort() });
    await k(['label', 'managedcluster', a1, 'env=dev', '--overwrite']);
    await decisionsBecome('prod-eu', { 'prod-eu-decision-1': [a3] });
    await k(['label', 'managedcluster', a1, 'env=prod', '--overwrite']);
    await k(['label', 'managedcluster', a3, 'env=dev', '--overwrite']);
    await decisionsBecome('prod-eu', { 'prod-eu-decision-1': [a1] });
  });

  it('takes numberOfClusters, keeps its choice steady, and says when it is short', async () => {
    await apply(`apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: two
  namespace: ${NAMESPACE}
spec:
  numberOfClusters: 2
  clusterSets:
    - ${apps}
  prioritizerPolicy:
    mode: Exact
    configurations:
      - scoreCoordinate:
          builtIn: Steady
        weight: 1
`);
    // By name among equals: a1, a2.
    await decisionsBecome('two', { 'two-decision-1': [a1, a2] });
    await conditionBecomes(
      ['placement', 'two', '-n', NAMESPACE],
      'PlacementSatisfied',
      'True',
      'AllDecisionsScheduled',
    );
    // A new cluster whose name sorts first does not displace them (Steady).
    const a0 = `a0-${id}`;
    await apply(clusterYaml(a0, { [SET_LABEL]: apps, env: 'dev' }));
    await setAvailable(a0, 'True');
    await conditionBecomes(
      ['managedclusterset', apps],
      'ClusterSetEmpty',
      'False',
      'ClustersSelected',
    );
    await eventually('the set to count a0', async () => {
      const set = await json<ManagedClusterSet>(['managedclusterset', apps]);
      return conditionOf(set, 'ClusterSetEmpty')?.message === '4 ManagedClusters selected'
        ? true
        : undefined;
    });
    // Schedule it now (a0 is in its set) rather than trust that an event already did.
    await placements?.reconcile(`${NAMESPACE}/two`);
    expect(await decisionsOf('two')).toEqual({ 'two-decision-1': [a1, a2] });
    // More than there are: all four, and short by two.
    await k([
      'patch',
      'placement',
      'two',
      '-n',
      NAMESPACE,
      '--type=merge',
      '-p',
      '{"spec":{"numberOfClusters":6}}',
    ]);
    await decisionsBecome('two', { 'two-decision-1': [a0, a1, a2, a3].sort() });
    const short = await conditionBecomes(
      ['placement', 'two', '-n', NAMESPACE],
      'PlacementSatisfied',
      'False',
      'NotAllDecisionsScheduled',
    );
    expect(short.message).toBe('2 cluster decisions unscheduled');
    await k(['delete', 'managedcluster', a0]);
    await decisionsBecome('two', { 'two-decision-1': [a1, a2, a3].sort() });
  });

  it('taints a cluster that turns unavailable or unreachable, and places it only while tolerated', async () => {
    const tolerating = (
      name: string,
      key: string,
      seconds?: number,
    ) => `apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
spec:
  clusterSets:
    - ${apps}
  predicates:
    - requiredClusterSelector:
        labelSelector:
          matchLabels:
            env: prod
  tolerations:
    - key: ${key}
      operator: Exists${seconds === undefined ? '' : `\n      tolerationSeconds: ${seconds}`}
`;
    await apply(
      [
        tolerating('strict', 'example.com/none'),
        tolerating('tolerant', UNAVAILABLE),
        tolerating('brief', UNAVAILABLE, 4),
      ].join('---\n'),
    );
    for (const name of ['strict', 'tolerant', 'brief'])
      await decisionsBecome(name, { [`${name}-decision-1`]: [a1, a2] });

    // Available=False: the unavailable taint, with its time.
    await setAvailable(a2, 'False');
    const tainted = await eventually('the unavailable taint', async () => {
      const cluster = await json<ManagedCluster>(['managedcluster', a2]);
      return cluster.spec?.taints?.find((t) => t.key === UNAVAILABLE);
    });
    expect(tainted).toEqual({
      key: UNAVAILABLE,
      effect: 'NoSelect',
      timeAdded: expect.any(String),
    });
    await decisionsBecome('strict', { 'strict-decision-1': [a1] });
    await decisionsBecome('tolerant', { 'tolerant-decision-1': [a1, a2] });
    // brief tolerates it for 4 s from timeAdded, then lets it go without any other change.
    await decisionsBecome('brief', { 'brief-decision-1': [a1] });
    expect(await decisionsOf('tolerant')).toEqual({ 'tolerant-decision-1': [a1, a2] });

    // Available=Unknown: unreachable replaces unavailable, which `tolerant` does not tolerate.
    await setAvailable(a2, 'Unknown');
    await eventually('the unreachable taint', async () => {
      const taints = (await json<ManagedCluster>(['managedcluster', a2])).spec?.taints ?? [];
      return taints.length === 1 && taints[0]?.key === UNREACHABLE ? true : undefined;
    });
    await decisionsBecome('tolerant', { 'tolerant-decision-1': [a1] });

    // Back to Available: no taint, placed everywhere again.
    await setAvailable(a2, 'True');
    for (const name of ['strict', 'tolerant', 'brief'])
      await decisionsBecome(name, { [`${name}-decision-1`]: [a1, a2] });
    expect((await json<ManagedCluster>(['managedcluster', a2])).spec?.taints).toEqual([]);
  });

  it('says why nothing is placed', async () => {
    await apply(`apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: unbound
  namespace: ${NAMESPACE}
spec:
  clusterSets:
    - nowhere-${id}
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: nobody
  namespace: ${NAMESPACE}
spec:
  clusterSets:
    - ${apps}
  predicates:
    - requiredClusterSelector:
        labelSelector:
          matchLabels:
            env: mars
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: spread
  namespace: ${NAMESPACE}
spec:
  clusterSets:
    - ${apps}
  prioritizerPolicy:
    configurations:
      - scoreCoordinate:
          builtIn: Spread
`);
    const unbound = await conditionBecomes(
      ['placement', 'unbound', '-n', NAMESPACE],
      'PlacementSatisfied',
      'False',
      'NoIntersection',
    );
    expect(unbound.message).toBe(
      `None of ManagedClusterSets [nowhere-${id}] is bound to placement namespace`,
    );
    await conditionBecomes(
      ['placement', 'nobody', '-n', NAMESPACE],
      'PlacementSatisfied',
      'False',
      'NoManagedClusterMatched',
    );
    const misconfigured = await conditionBecomes(
      ['placement', 'spread', '-n', NAMESPACE],
      'PlacementMisconfigured',
      'True',
      'Misconfigured',
    );
    expect(misconfigured.message).toBe('Prioritizer:incorrect builtin prioritizer: Spread');
    for (const name of ['unbound', 'nobody', 'spread'])
      await decisionsBecome(name, { [`${name}-decision-1`]: [] });

    // In a namespace without any binding.
    const lone = `placement-lone-${id}`;
    await k(['create', 'namespace', lone]);
    try {
      await apply(`apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: p
  namespace: ${lone}
spec:
  numberOfClusters: 1
`);
      const none = await conditionBecomes(
        ['placement', 'p', '-n', lone],
        'PlacementSatisfied',
        'False',
        'NoManagedClusterSetBindings',
      );
      expect(none.message).toBe('No valid ManagedClusterSetBindings found in placement namespace');
    } finally {
      await k(['delete', 'namespace', lone, '--wait=false']);
    }
  });
});

describe('PlacementDecision paging', () => {
  it('writes 101 chosen clusters as pages of 100 and 1, and drops a page when they shrink', async () => {
    const many = `many-${id}`;
    const names = Array.from({ length: 101 }, (_, i) => `m${String(i).padStart(3, '0')}-${id}`);
    await apply(
      [clusterSetYaml(many), ...names.map((name) => clusterYaml(name, { [SET_LABEL]: many }))].join(
        '---\n',
      ),
    );
    // These clusters never report: they stay unreachable, which this placement tolerates.
    await apply(`apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: many
  namespace: ${NAMESPACE}
spec:
  clusterSets:
    - ${many}
  tolerations:
    - key: ${UNREACHABLE}
      operator: Exists
`);
    await decisionsBecome(
      'many',
      { 'many-decision-1': names.slice(0, 100), 'many-decision-2': names.slice(100) },
      60_000,
    );
    const status = (await json<Placement>(['placement', 'many', '-n', NAMESPACE])).status;
    expect(status?.numberOfSelectedClusters).toBe(101);
    expect(status?.decisionGroups).toEqual([
      {
        decisionGroupIndex: 0,
        decisionGroupName: '',
        decisions: ['many-decision-1', 'many-decision-2'],
        clusterCount: 101,
      },
    ]);
    await k([
      'patch',
      'placement',
      'many',
      '-n',
      NAMESPACE,
      '--type=merge',
      '-p',
      '{"spec":{"numberOfClusters":100}}',
    ]);
    await decisionsBecome('many', { 'many-decision-1': names.slice(0, 100) }, 60_000);
    const binding = await json<ManagedClusterSetBinding>([
      'managedclustersetbinding',
      many,
      '-n',
      NAMESPACE,
    ]);
    expect(conditionOf(binding, 'Bound')?.status).toBe('True');
  });
});
