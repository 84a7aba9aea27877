import { describe, expect, it } from 'vitest';

import type {
  Condition,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  Taint,
} from '../../api/index.ts';
import {
  builtInSelectorReset,
  decideBindingStatus,
  decideClusterLabels,
  decideClusterSetStatus,
  decideClusterTaints,
} from './cluster-set-decision.ts';
import {
  builtInClusterSet,
  clusterSetMembers,
  clusterSetsOf,
  DEFAULT_CLUSTER_SET,
  GLOBAL_CLUSTER_SET,
} from './cluster-set-membership.ts';

const NOW = new Date('2026-03-01T10:00:00.500Z');
const STAMP = '2026-03-01T10:00:00Z';
const EARLIER = '2026-02-01T00:00:00Z';
const SET_LABEL = 'cluster.open-cluster-management.io/clusterset';
const UNREACHABLE = 'cluster.open-cluster-management.io/unreachable';
const UNAVAILABLE = 'cluster.open-cluster-management.io/unavailable';

function cluster(
  name: string,
  labels: Record<string, string> = {},
  extra: Partial<ManagedCluster> = {},
): ManagedCluster {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: { name, labels },
    ...extra,
  };
}

function set(name: string, spec: ManagedClusterSet['spec'] = {}): ManagedClusterSet {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta2',
    kind: 'ManagedClusterSet',
    metadata: { name },
    spec,
  };
}

function available(status: Condition['status']): NonNullable<ManagedCluster['status']> {
  return {
    conditions: [
      {
        type: 'ManagedClusterConditionAvailable',
        status,
        reason: 'R',
        message: '',
        lastTransitionTime: EARLIER,
      },
    ],
  };
}

const clusters = [
  cluster('a', { [SET_LABEL]: 'dev', env: 'dev' }),
  cluster('b', { [SET_LABEL]: 'prod', env: 'prod' }),
  cluster('c', { env: 'prod' }),
];

describe('cluster set membership', () => {
  it.each<{ name: string; set: ManagedClusterSet; members: string[] }>([
    { name: 'exclusive label (the default selector)', set: set('dev'), members: ['a'] },
    {
      name: 'exclusive label, written out',
      set: set('prod', { clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } }),
      members: ['b'],
    },
    {
      name: 'a label selector',
      set: set('any-prod', {
        clusterSelector: {
          selectorType: 'LabelSelector',
          labelSelector: { matchLabels: { env: 'prod' } },
        },
      }),
      members: ['b', 'c'],
    },
    {
      name: 'the global set: an empty label selector',
      set: builtInClusterSet('global'),
      members: ['a', 'b', 'c'],
    },
    {
      name: 'a LabelSelector set without a selector holds nothing',
      set: set('none', { clusterSelector: { selectorType: 'LabelSelector' } }),
      members: [],
    },
    {
      name: 'an invalid selector holds nothing',
      set: set('bad', {
        clusterSelector: {
          selectorType: 'LabelSelector',
          labelSelector: { matchExpressions: [{ key: 'env', operator: 'In' }] },
        },
      }),
      members: [],
    },
  ])('$name', ({ set, members }) => {
    expect(clusterSetMembers(set, clusters).map((c) => c.metadata?.name)).toEqual(members);
  });

  it('names every set that holds a cluster', () => {
    const sets = [set('dev'), set('prod'), builtInClusterSet('global')];
    expect(clusterSetsOf(clusters[0] as ManagedCluster, sets)).toEqual(['dev', 'global']);
    expect(clusterSetsOf(clusters[2] as ManagedCluster, sets)).toEqual(['global']);
  });

  it('builds the built-in sets as OCM creates them', () => {
    expect(builtInClusterSet(DEFAULT_CLUSTER_SET).spec).toEqual({
      clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' },
    });
    expect(builtInClusterSet(GLOBAL_CLUSTER_SET).spec).toEqual({
      clusterSelector: { selectorType: 'LabelSelector', labelSelector: {} },
    });
    expect(() => builtInClusterSet('dev')).toThrow(
      new TypeError('dev is not a built-in cluster set'),
    );
  });
});

describe('ManagedClusterSet status', () => {
  it('is empty with no member, and counts members otherwise', () => {
    const empty = decideClusterSetStatus(set('dev'), 0, NOW);
    expect(empty.conditions).toEqual([
      {
        type: 'ClusterSetEmpty',
        status: 'True',
        reason: 'NoClusterMatched',
        message: 'No ManagedCluster selected',
        lastTransitionTime: STAMP,
      },
    ]);
    const later = new Date('2026-03-01T11:00:00Z');
    const two = decideClusterSetStatus({ ...set('dev'), status: empty }, 2, later);
    expect(two.conditions).toEqual([
      {
        type: 'ClusterSetEmpty',
        status: 'False',
        reason: 'ClustersSelected',
        message: '2 ManagedClusters selected',
        lastTransitionTime: '2026-03-01T11:00:00Z',
      },
    ]);
    // The time stays while the status holds.
    const three = decideClusterSetStatus(
      { ...set('dev'), status: two },
      3,
      new Date('2026-03-02T00:00:00Z'),
    );
    expect(three.conditions?.[0]).toMatchObject({
      message: '3 ManagedClusters selected',
      lastTransitionTime: '2026-03-01T11:00:00Z',
    });
  });
});

describe('ManagedClusterSetBinding status', () => {
  const binding: ManagedClusterSetBinding = {
    apiVersion: 'cluster.open-cluster-management.io/v1beta2',
    kind: 'ManagedClusterSetBinding',
    metadata: { name: 'dev', namespace: 'apps' },
    spec: { clusterSet: 'dev' },
  };
  it.each([
    {
      exists: true,
      status: 'True',
      reason: 'ClusterSetBound',
      message: 'ManagedClusterSet dev is bound to this namespace',
    },
    {
      exists: false,
      status: 'False',
      reason: 'ClusterSetNotFound',
      message: 'ManagedClusterSet "dev" not found',
    },
  ])('is Bound=$status when the set exists: $exists', ({ exists, status, reason, message }) => {
    expect(decideBindingStatus(binding, exists, NOW).conditions).toEqual([
      { type: 'Bound', status, reason, message, lastTransitionTime: STAMP },
    ]);
  });
});

describe('built-in set selectors', () => {
  it.each<{ name: string; set: ManagedClusterSet; reset: unknown }>([
    { name: 'default unchanged', set: builtInClusterSet('default'), reset: undefined },
    { name: 'global unchanged', set: builtInClusterSet('global'), reset: undefined },
    {
      name: 'default changed to a label selector',
      set: set('default', {
        clusterSelector: { selectorType: 'LabelSelector', labelSelector: {} },
      }),
      reset: { selectorType: 'ExclusiveClusterSetLabel' },
    },
    {
      name: 'global narrowed',
      set: set('global', {
        clusterSelector: {
          selectorType: 'LabelSelector',
          labelSelector: { matchLabels: { a: 'b' } },
        },
      }),
      reset: { selectorType: 'LabelSelector', labelSelector: {} },
    },
    {
      name: 'global narrowed with autoupdate off',
      set: {
        ...set('global', { clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } }),
        metadata: {
          name: 'global',
          annotations: { 'cluster.open-cluster-management.io/autoupdate': 'false' },
        },
      },
      reset: undefined,
    },
    {
      name: 'another set is never reset',
      set: set('dev', { clusterSelector: { selectorType: 'LabelSelector' } }),
      reset: undefined,
    },
  ])('$name', ({ set, reset }) => {
    expect(builtInSelectorReset(set)).toEqual(reset);
  });
});

describe('the default set label', () => {
  it.each<{ name: string; labels: Record<string, string>; change: unknown }>([
    { name: 'added when missing', labels: { env: 'dev' }, change: { [SET_LABEL]: 'default' } },
    { name: 'added when empty', labels: { [SET_LABEL]: '' }, change: { [SET_LABEL]: 'default' } },
    { name: 'kept when naming a set', labels: { [SET_LABEL]: 'dev' }, change: undefined },
  ])('$name', ({ labels, change }) => {
    expect(decideClusterLabels(cluster('a', labels))).toEqual(change);
  });
});

describe('availability taints', () => {
  const gpu: Taint = { key: 'gpu', value: 'true', effect: 'NoSelect', timeAdded: EARLIER };
  it.each<{
    name: string;
    status?: Condition['status'];
    taints: Taint[];
    expected: Taint[] | undefined;
  }>([
    {
      name: 'no Available condition: unreachable',
      taints: [],
      expected: [{ key: UNREACHABLE, effect: 'NoSelect', timeAdded: STAMP }],
    },
    {
      name: 'Unknown: unreachable, other taints kept',
      status: 'Unknown',
      taints: [gpu],
      expected: [gpu, { key: UNREACHABLE, effect: 'NoSelect', timeAdded: STAMP }],
    },
    {
      name: 'False: unavailable replaces unreachable',
      status: 'False',
      taints: [{ key: UNREACHABLE, effect: 'NoSelect', timeAdded: EARLIER }],
      expected: [{ key: UNAVAILABLE, effect: 'NoSelect', timeAdded: STAMP }],
    },
    {
      name: 'True: both removed',
      status: 'True',
      taints: [
        { key: UNAVAILABLE, effect: 'NoSelect', timeAdded: EARLIER },
        gpu,
        { key: UNREACHABLE, effect: 'NoSelect', timeAdded: EARLIER },
      ],
      expected: [gpu],
    },
    {
      name: 'True and untainted: nothing to do',
      status: 'True',
      taints: [gpu],
      expected: undefined,
    },
    {
      name: 'Unknown and already unreachable: the time is kept',
      status: 'Unknown',
      taints: [{ key: UNREACHABLE, effect: 'NoSelect', timeAdded: EARLIER }],
      expected: undefined,
    },
    {
      name: 'a user taint without timeAdded gets one',
      status: 'True',
      taints: [{ key: 'gpu', effect: 'NoSelectIfNew' }],
      expected: [{ key: 'gpu', effect: 'NoSelectIfNew', timeAdded: STAMP }],
    },
    {
      name: 'a user taint with the same key but another effect stays',
      status: 'True',
      taints: [{ key: UNREACHABLE, effect: 'PreferNoSelect', timeAdded: EARLIER }],
      expected: undefined,
    },
  ])('$name', ({ status, taints, expected }) => {
    const c = cluster(
      'a',
      {},
      {
        spec: { taints },
        ...(status === undefined ? {} : { status: available(status) }),
      },
    );
    expect(decideClusterTaints(c, NOW)).toEqual(expected);
  });

  it('leaves a deleting cluster alone', () => {
    const c = cluster('a', {}, { spec: { taints: [] } });
    c.metadata = { ...c.metadata, deletionTimestamp: EARLIER };
    expect(decideClusterTaints(c, NOW)).toBeUndefined();
  });
});
