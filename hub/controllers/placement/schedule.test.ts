import { describe, expect, it } from 'vitest';

import type {
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  Placement,
  PlacementSpec,
  Taint,
} from '../../api/index.ts';
import { decidePlacementStatus } from './placement-status.ts';
import { schedulePlacement, type ScheduleInput } from './schedule.ts';

const NOW = new Date('2026-03-01T10:00:00Z');
const SET_LABEL = 'cluster.open-cluster-management.io/clusterset';
const UNREACHABLE = 'cluster.open-cluster-management.io/unreachable';

function cluster(
  name: string,
  labels: Record<string, string>,
  options: { taints?: Taint[]; claims?: Record<string, string>; deleting?: boolean } = {},
): ManagedCluster {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: {
      name,
      labels,
      ...(options.deleting === true ? { deletionTimestamp: '2026-03-01T00:00:00Z' } : {}),
    },
    spec: { taints: options.taints ?? [] },
    status: {
      clusterClaims: Object.entries(options.claims ?? {}).map(([name, value]) => ({ name, value })),
    },
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

function binding(name: string): ManagedClusterSetBinding {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta2',
    kind: 'ManagedClusterSetBinding',
    metadata: { name, namespace: 'apps' },
    spec: { clusterSet: name },
  };
}

function placement(spec: PlacementSpec = {}): Placement {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta1',
    kind: 'Placement',
    metadata: { name: 'p1', namespace: 'apps', uid: 'uid-1' },
    spec,
  };
}

const inDev = (labels: Record<string, string> = {}) => ({ [SET_LABEL]: 'dev', ...labels });
const SETS = [
  set('dev'),
  set('prod'),
  set('global', { clusterSelector: { selectorType: 'LabelSelector', labelSelector: {} } }),
];
const CLUSTERS = [
  cluster('d1', inDev({ env: 'dev', gpu: 'true' }), { claims: { 'region.example.com': 'eu' } }),
  cluster('d2', inDev({ env: 'dev' }), { claims: { 'region.example.com': 'us' } }),
  cluster('d3', inDev({ env: 'qa' })),
  cluster('p1', { [SET_LABEL]: 'prod', env: 'prod' }),
  cluster('x1', { env: 'dev' }),
];

function input(spec: PlacementSpec, overrides: Partial<ScheduleInput> = {}): ScheduleInput {
  return {
    placement: placement(spec),
    bindings: [binding('dev')],
    clusterSet: (name) => SETS.find((s) => s.metadata?.name === name),
    clusters: CLUSTERS,
    decided: new Set(),
    otherDecisions: new Map(),
    now: NOW,
    ...overrides,
  };
}

function decided(result: ReturnType<typeof schedulePlacement>): string[] {
  return result.decisions.flatMap((d) => d.status?.decisions.map((c) => c.clusterName) ?? []);
}

function satisfied(result: ReturnType<typeof schedulePlacement>) {
  const status = decidePlacementStatus(placement(), result, NOW);
  const condition = (type: string) => status.conditions?.find((c) => c.type === type);
  return {
    satisfied: [
      condition('PlacementSatisfied')?.status,
      condition('PlacementSatisfied')?.reason,
      condition('PlacementSatisfied')?.message,
    ],
    misconfigured: [
      condition('PlacementMisconfigured')?.status,
      condition('PlacementMisconfigured')?.message,
    ],
    selected: status.numberOfSelectedClusters,
  };
}

describe('schedulePlacement: which clusters can be chosen', () => {
  it.each<{
    name: string;
    spec?: PlacementSpec;
    overrides?: Partial<ScheduleInput>;
    decided: string[];
    satisfied: unknown[];
  }>([
    {
      name: 'every member of the bound set',
      decided: ['d1', 'd2', 'd3'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'no binding in the namespace',
      overrides: { bindings: [] },
      decided: [],
      satisfied: [
        'False',
        'NoManagedClusterSetBindings',
        'No valid ManagedClusterSetBindings found in placement namespace',
      ],
    },
    {
      name: 'a binding whose set does not exist is not valid',
      overrides: { bindings: [binding('staging')] },
      decided: [],
      satisfied: [
        'False',
        'NoManagedClusterSetBindings',
        'No valid ManagedClusterSetBindings found in placement namespace',
      ],
    },
    {
      name: 'spec.clusterSets none of which is bound',
      spec: { clusterSets: ['prod', 'staging'] },
      decided: [],
      satisfied: [
        'False',
        'NoIntersection',
        'None of ManagedClusterSets [prod,staging] is bound to placement namespace',
      ],
    },
    {
      name: 'spec.clusterSets restricts the bound sets',
      spec: { clusterSets: ['prod'] },
      overrides: { bindings: [binding('dev'), binding('prod')] },
      decided: ['p1'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'an empty bound set',
      overrides: {
        bindings: [binding('prod')],
        clusters: CLUSTERS.filter((c) => c.metadata?.name !== 'p1'),
      },
      decided: [],
      satisfied: [
        'False',
        'AllManagedClusterSetsEmpty',
        'All ManagedClusterSets [prod] have no member ManagedCluster',
      ],
    },
    {
      name: 'overlapping sets count a cluster once',
      overrides: { bindings: [binding('dev'), binding('global')] },
      spec: {
        predicates: [
          { requiredClusterSelector: { labelSelector: { matchLabels: { env: 'dev' } } } },
        ],
      },
      decided: ['d1', 'd2', 'x1'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'a label predicate',
      spec: {
        predicates: [
          { requiredClusterSelector: { labelSelector: { matchLabels: { env: 'dev' } } } },
        ],
      },
      decided: ['d1', 'd2'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'predicates are ORed',
      spec: {
        predicates: [
          { requiredClusterSelector: { labelSelector: { matchLabels: { gpu: 'true' } } } },
          { requiredClusterSelector: { labelSelector: { matchLabels: { env: 'qa' } } } },
        ],
      },
      decided: ['d1', 'd3'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'label and claim selectors of one predicate are ANDed',
      spec: {
        predicates: [
          {
            requiredClusterSelector: {
              labelSelector: { matchLabels: { env: 'dev' } },
              claimSelector: {
                matchExpressions: [{ key: 'region.example.com', operator: 'In', values: ['us'] }],
              },
            },
          },
        ],
      },
      decided: ['d2'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'a claim that is missing',
      spec: {
        predicates: [
          {
            requiredClusterSelector: {
              claimSelector: {
                matchExpressions: [{ key: 'region.example.com', operator: 'DoesNotExist' }],
              },
            },
          },
        ],
      },
      decided: ['d3'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'no cluster matches',
      spec: {
        predicates: [
          { requiredClusterSelector: { labelSelector: { matchLabels: { env: 'prod' } } } },
        ],
      },
      decided: [],
      satisfied: [
        'False',
        'NoManagedClusterMatched',
        'No ManagedCluster matches any of the cluster predicate',
      ],
    },
    {
      name: 'a deleting cluster is never chosen',
      overrides: { clusters: [...CLUSTERS.slice(1), cluster('d1', inDev(), { deleting: true })] },
      decided: ['d2', 'd3'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'numberOfClusters below the feasible: the best N (by name when scores tie)',
      spec: { numberOfClusters: 2 },
      decided: ['d1', 'd2'],
      satisfied: ['True', 'AllDecisionsScheduled', 'All cluster decisions scheduled'],
    },
    {
      name: 'numberOfClusters above the feasible: all of them, and unsatisfied',
      spec: { numberOfClusters: 5 },
      decided: ['d1', 'd2', 'd3'],
      satisfied: ['False', 'NotAllDecisionsScheduled', '2 cluster decisions unscheduled'],
    },
    {
      name: 'numberOfClusters 0',
      spec: { numberOfClusters: 0 },
      decided: [],
      satisfied: [
        'False',
        'NoManagedClusterMatched',
        'No ManagedCluster matches any of the cluster predicate',
      ],
    },
  ])('$name', ({ spec, overrides, decided: expected, satisfied: condition }) => {
    const result = schedulePlacement(input(spec ?? {}, overrides));
    expect(decided(result)).toEqual(expected);
    expect(satisfied(result)).toEqual({
      satisfied: condition,
      misconfigured: ['False', 'Placement configurations check pass'],
      selected: expected.length,
    });
    expect(result.decisions.map((d) => d.metadata?.name)).toEqual(['p1-decision-1']);
  });
});

describe('schedulePlacement: taints and tolerations', () => {
  const taint = (key: string, timeAdded = '2026-03-01T09:59:00Z'): Taint => ({
    key,
    effect: 'NoSelect',
    timeAdded,
  });
  const clusters = [
    cluster('d1', inDev(), { taints: [taint(UNREACHABLE)] }),
    cluster('d2', inDev()),
  ];

  it('leaves a cluster with a NoSelect taint out', () => {
    const result = schedulePlacement(input({}, { clusters }));
    expect(decided(result)).toEqual(['d2']);
    expect(result.requeueAfterMs).toBeUndefined();
  });

  it('takes a tolerated cluster', () => {
    const result = schedulePlacement(
      input({ tolerations: [{ key: UNREACHABLE, operator: 'Exists' }] }, { clusters }),
    );
    expect(decided(result)).toEqual(['d1', 'd2']);
    expect(result.requeueAfterMs).toBeUndefined();
  });

  it('takes it only while tolerationSeconds last, and asks to be scheduled again then', () => {
    const spec = {
      tolerations: [{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 300 }],
    };
    const now = schedulePlacement(input(spec, { clusters, decided: new Set(['d1', 'd2']) }));
    expect(decided(now)).toEqual(['d1', 'd2']);
    expect(now.requeueAfterMs).toBe(240_000);
    const later = schedulePlacement(
      input(spec, {
        clusters,
        decided: new Set(['d1', 'd2']),
        now: new Date('2026-03-01T10:04:00Z'),
      }),
    );
    expect(decided(later)).toEqual(['d2']);
    expect(later.requeueAfterMs).toBeUndefined();
  });

  it('keeps a decided cluster with a NoSelectIfNew taint, but takes no new one', () => {
    const ifNew = [
      cluster('d1', inDev(), {
        taints: [{ key: 'maint', effect: 'NoSelectIfNew', timeAdded: '2026-03-01T09:00:00Z' }],
      }),
      cluster('d2', inDev(), {
        taints: [{ key: 'maint', effect: 'NoSelectIfNew', timeAdded: '2026-03-01T09:00:00Z' }],
      }),
    ];
    expect(
      decided(schedulePlacement(input({}, { clusters: ifNew, decided: new Set(['d2']) }))),
    ).toEqual(['d2']);
  });
});

describe('schedulePlacement: prioritizers', () => {
  const four = ['a', 'b', 'c', 'd'].map((name) => cluster(name, inDev()));

  it('Steady keeps the clusters already chosen', () => {
    const result = schedulePlacement(
      input({ numberOfClusters: 2 }, { clusters: four, decided: new Set(['c', 'd']) }),
    );
    expect(decided(result)).toEqual(['c', 'd']);
    expect(Object.fromEntries(result.scores)).toEqual({ a: 100, b: 100, c: 200, d: 200 });
  });

  it('Balance prefers the clusters other placements use least', () => {
    const result = schedulePlacement(
      input(
        { numberOfClusters: 2 },
        {
          clusters: four,
          otherDecisions: new Map([
            ['a', 2],
            ['b', 1],
          ]),
        },
      ),
    );
    expect(decided(result)).toEqual(['c', 'd']);
    expect(result.selected).toEqual(['c', 'd']);
  });

  it('at equal weights, Balance moves a placement off the busiest cluster despite Steady', () => {
    const result = schedulePlacement(
      input(
        { numberOfClusters: 1 },
        { clusters: four, decided: new Set(['a']), otherDecisions: new Map([['a', 1]]) },
      ),
    );
    // a: 100 (Steady) − 100 (Balance, busiest) = 0; b–d: 0 + 100.
    expect(decided(result)).toEqual(['b']);
  });

  it('a heavier Steady keeps it', () => {
    const spec: PlacementSpec = {
      numberOfClusters: 1,
      prioritizerPolicy: {
        configurations: [{ scoreCoordinate: { type: 'BuiltIn', builtIn: 'Steady' }, weight: 3 }],
      },
    };
    const result = schedulePlacement(
      input(spec, { clusters: four, decided: new Set(['a']), otherDecisions: new Map([['a', 1]]) }),
    );
    expect(decided(result)).toEqual(['a']);
  });

  it('Exact mode with no prioritizer picks by name only', () => {
    const spec: PlacementSpec = { numberOfClusters: 2, prioritizerPolicy: { mode: 'Exact' } };
    const result = schedulePlacement(input(spec, { clusters: four, decided: new Set(['d']) }));
    expect(decided(result)).toEqual(['a', 'b']);
  });

  it('writes decisions in name order, whatever the score order', () => {
    const result = schedulePlacement(
      input({ numberOfClusters: 3 }, { clusters: four, decided: new Set(['d']) }),
    );
    expect(result.selected).toEqual(['d', 'a', 'b']);
    expect(decided(result)).toEqual(['a', 'b', 'd']);
  });
});

describe('schedulePlacement: misconfiguration', () => {
  it.each<{ name: string; spec: PlacementSpec; message: string }>([
    {
      name: 'a CEL selector',
      spec: {
        predicates: [{ requiredClusterSelector: { celSelector: { celExpressions: ['true'] } } }],
      },
      message:
        'Predicate:predicates[0]: celSelector is not supported by this hub; use labelSelector or claimSelector',
    },
    {
      name: 'a bad label selector',
      spec: {
        predicates: [
          {
            requiredClusterSelector: {
              labelSelector: { matchExpressions: [{ key: 'env', operator: 'Gt', values: ['1'] }] },
            },
          },
        ],
      },
      message:
        'Predicate:predicates[0]: labelSelector: matchExpressions: env: "Gt" is not a label selector operator (In, NotIn, Exists, DoesNotExist)',
    },
    {
      name: 'a toleration without key',
      spec: { tolerations: [{ operator: 'Equal', value: 'x' }] },
      message:
        'TaintToleration:tolerations[0]: a toleration without a key must use operator Exists',
    },
    {
      name: 'an unknown prioritizer',
      spec: {
        prioritizerPolicy: {
          configurations: [{ scoreCoordinate: { type: 'BuiltIn', builtIn: 'Spread' } }],
        },
      },
      message: 'Prioritizer:incorrect builtin prioritizer: Spread',
    },
    {
      name: 'an unknown mode',
      spec: { prioritizerPolicy: { mode: 'Best' } },
      message: 'Prioritizer:incorrect prioritizer policy mode: Best',
    },
    {
      name: 'a decision group size that is not a percentage',
      spec: { decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: '2' } } },
      message: 'DecisionStrategy:2 invalid type: string is not a percentage',
    },
  ])('$name: nothing is chosen and Misconfigured says why', ({ spec, message }) => {
    const result = schedulePlacement(input(spec));
    expect(decided(result)).toEqual([]);
    expect(result.decisions).toHaveLength(1);
    expect(satisfied(result)).toEqual({
      satisfied: [
        'False',
        'NoManagedClusterMatched',
        'No ManagedCluster matches any of the cluster predicate',
      ],
      misconfigured: ['True', message],
      selected: 0,
    });
  });

  it('checks predicates only when there are clusters to filter, as OCM does', () => {
    const spec = {
      predicates: [{ requiredClusterSelector: { celSelector: { celExpressions: ['true'] } } }],
    };
    const result = schedulePlacement(input(spec, { bindings: [] }));
    expect(result.misconfiguration).toBeUndefined();
  });
});

describe('decidePlacementStatus', () => {
  it('keeps lastTransitionTime while a condition holds and other fields as they are', () => {
    const first = decidePlacementStatus(placement(), schedulePlacement(input({})), NOW);
    expect(first).toEqual({
      numberOfSelectedClusters: 3,
      decisionGroups: [
        {
          decisionGroupIndex: 0,
          decisionGroupName: '',
          decisions: ['p1-decision-1'],
          clusterCount: 3,
        },
      ],
      conditions: [
        {
          type: 'PlacementMisconfigured',
          status: 'False',
          reason: 'Succeedconfigured',
          message: 'Placement configurations check pass',
          lastTransitionTime: '2026-03-01T10:00:00Z',
        },
        {
          type: 'PlacementSatisfied',
          status: 'True',
          reason: 'AllDecisionsScheduled',
          message: 'All cluster decisions scheduled',
          lastTransitionTime: '2026-03-01T10:00:00Z',
        },
      ],
    });
    const later = new Date('2026-03-01T11:00:00Z');
    const withScore = {
      ...placement(),
      status: { ...first, lastScoreUpdateTime: '2026-03-01T10:30:00Z' },
    };
    const again = decidePlacementStatus(
      withScore,
      schedulePlacement(input({ numberOfClusters: 5 })),
      later,
    );
    expect(again.lastScoreUpdateTime).toBe('2026-03-01T10:30:00Z');
    expect(again.conditions?.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
      ['PlacementMisconfigured', 'False', '2026-03-01T10:00:00Z'],
      ['PlacementSatisfied', 'False', '2026-03-01T11:00:00Z'],
    ]);
  });
});
