import { describe, expect, it } from 'vitest';

import type { PlacementBinding, PlacementDecision, Policy, PolicySet } from '../../api/index.ts';
import {
  aggregateCompliance,
  decidePropagation,
  isReplicaCurrent,
  rootOf,
  type PropagationInput,
} from './propagation.ts';

const NS = 'policies';

function root(spec: Partial<Policy['spec']> = {}, meta: Partial<Policy['metadata']> = {}): Policy {
  return {
    apiVersion: 'policy.open-cluster-management.io/v1',
    kind: 'Policy',
    metadata: {
      name: 'p1',
      namespace: NS,
      labels: { team: 'a' },
      annotations: {
        'policy.open-cluster-management.io/standards': 'NIST',
        'policy.open-cluster-management.io/trigger-update': '1',
      },
      resourceVersion: '5',
      ...meta,
    },
    spec: { disabled: false, remediationAction: 'inform', 'policy-templates': [], ...spec },
  };
}

function binding(
  name: string,
  subjects: PlacementBinding['subjects'],
  placement = 'pl',
  extra: Partial<PlacementBinding> = {},
): PlacementBinding {
  return {
    apiVersion: 'policy.open-cluster-management.io/v1',
    kind: 'PlacementBinding',
    metadata: { name, namespace: NS },
    placementRef: {
      apiGroup: 'cluster.open-cluster-management.io',
      kind: 'Placement',
      name: placement,
    },
    subjects,
    ...extra,
  };
}

const bindsP1 = [
  { apiGroup: 'policy.open-cluster-management.io' as const, kind: 'Policy' as const, name: 'p1' },
];

function decision(placement: string, clusters: string[], namespace = NS): PlacementDecision {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta1',
    kind: 'PlacementDecision',
    metadata: {
      name: `${placement}-decision-1`,
      namespace,
      labels: { 'cluster.open-cluster-management.io/placement': placement },
    },
    status: { decisions: clusters.map((clusterName) => ({ clusterName, reason: '' })) },
  };
}

function input(partial: Partial<PropagationInput>): PropagationInput {
  return {
    root: root(),
    bindings: [],
    policySets: [],
    decisions: [],
    replicas: new Map(),
    ...partial,
  };
}

describe('decidePropagation', () => {
  it('replicates a bound policy to each placed cluster with OCM labels and annotations', () => {
    const out = decidePropagation(
      input({ bindings: [binding('b1', bindsP1)], decisions: [decision('pl', ['c2', 'c1'])] }),
    );
    expect([...out.replicas.keys()]).toEqual(['c1', 'c2']);
    expect(out.replicas.get('c1')).toEqual({
      apiVersion: 'policy.open-cluster-management.io/v1',
      kind: 'Policy',
      metadata: {
        name: 'policies.p1',
        namespace: 'c1',
        labels: {
          team: 'a',
          'policy.open-cluster-management.io/cluster-name': 'c1',
          'policy.open-cluster-management.io/cluster-namespace': 'c1',
          'policy.open-cluster-management.io/root-policy': 'policies.p1',
        },
        annotations: {
          'policy.open-cluster-management.io/standards': 'NIST',
          'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
        },
      },
      spec: { disabled: false, remediationAction: 'inform', 'policy-templates': [] },
    });
    expect(out.status).toEqual({
      placement: [{ placementBinding: 'b1', placement: 'pl' }],
      status: [
        { clustername: 'c1', clusternamespace: 'c1' },
        { clustername: 'c2', clusternamespace: 'c2' },
      ],
    });
  });

  it.each([
    [
      'disabled',
      input({
        root: root({ disabled: true }),
        bindings: [binding('b1', bindsP1)],
        decisions: [decision('pl', ['c1'])],
      }),
    ],
    ['unbound', input({ decisions: [decision('pl', ['c1'])] })],
    [
      'bound to another policy',
      input({
        bindings: [binding('b1', [{ ...bindsP1[0]!, name: 'p2' }])],
        decisions: [decision('pl', ['c1'])],
      }),
    ],
    [
      'a binding in another namespace',
      input({
        bindings: [{ ...binding('b1', bindsP1), metadata: { name: 'b1', namespace: 'other' } }],
        decisions: [decision('pl', ['c1'])],
      }),
    ],
    [
      'decisions of another placement',
      input({ bindings: [binding('b1', bindsP1)], decisions: [decision('other', ['c1'])] }),
    ],
    [
      'a restricted binding only',
      input({
        bindings: [binding('b1', bindsP1, 'pl', { subFilter: 'restricted' })],
        decisions: [decision('pl', ['c1'])],
      }),
    ],
    [
      'a PlacementRule (not supported)',
      input({
        bindings: [
          {
            ...binding('b1', bindsP1),
            placementRef: {
              apiGroup: 'apps.open-cluster-management.io',
              kind: 'PlacementRule',
              name: 'pl',
            },
          },
        ],
        decisions: [decision('pl', ['c1'])],
      }),
    ],
  ])('has no replicas when %s', (_what, given) => {
    expect([...decidePropagation(given).replicas.keys()]).toEqual([]);
  });

  it('binds through a PolicySet of the namespace and names it in placement', () => {
    const set: PolicySet = {
      apiVersion: 'policy.open-cluster-management.io/v1beta1',
      kind: 'PolicySet',
      metadata: { name: 'set', namespace: NS },
      spec: { policies: ['p1'] },
    };
    const out = decidePropagation(
      input({
        policySets: [set],
        bindings: [
          binding('b1', [
            { apiGroup: 'policy.open-cluster-management.io', kind: 'PolicySet', name: 'set' },
          ]),
        ],
        decisions: [decision('pl', ['c1'])],
      }),
    );
    expect([...out.replicas.keys()]).toEqual(['c1']);
    expect(out.status.placement).toEqual([
      { placementBinding: 'b1', placement: 'pl', policySet: 'set' },
    ]);
  });

  it('enforces on clusters of a binding override, unless the root already enforces', () => {
    const out = decidePropagation(
      input({
        bindings: [
          binding('b1', bindsP1, 'all'),
          binding('b2', bindsP1, 'some', {
            subFilter: 'restricted',
            bindingOverrides: { remediationAction: 'Enforce' },
          }),
        ],
        decisions: [decision('all', ['c1', 'c2']), decision('some', ['c2', 'c3'])],
      }),
    );
    expect([...out.replicas.keys()]).toEqual(['c1', 'c2']);
    expect(out.replicas.get('c1')?.spec.remediationAction).toBe('inform');
    expect(out.replicas.get('c2')?.spec.remediationAction).toBe('enforce');
  });

  it('copies only policy.open-cluster-management.io/ metadata when copyPolicyMetadata is false', () => {
    const out = decidePropagation(
      input({
        root: root({ copyPolicyMetadata: false }),
        bindings: [binding('b1', bindsP1)],
        decisions: [decision('pl', ['c1'])],
      }),
    );
    expect(out.replicas.get('c1')?.metadata?.labels).toEqual({
      'policy.open-cluster-management.io/cluster-name': 'c1',
      'policy.open-cluster-management.io/cluster-namespace': 'c1',
      'policy.open-cluster-management.io/root-policy': 'policies.p1',
    });
  });

  it("aggregates the replicas' compliance into the root status, sorted by cluster", () => {
    const replica = (compliant?: 'Compliant' | 'NonCompliant' | 'Pending'): Policy => ({
      ...root(),
      ...(compliant === undefined ? {} : { status: { compliant } }),
    });
    const out = decidePropagation(
      input({
        bindings: [binding('b1', bindsP1)],
        decisions: [decision('pl', ['c2', 'c1'])],
        replicas: new Map([
          ['c1', replica('Compliant')],
          ['c2', replica('NonCompliant')],
        ]),
      }),
    );
    expect(out.status.compliant).toBe('NonCompliant');
    expect(out.status.status).toEqual([
      { clustername: 'c1', clusternamespace: 'c1', compliant: 'Compliant' },
      { clustername: 'c2', clusternamespace: 'c2', compliant: 'NonCompliant' },
    ]);
  });
});

describe('aggregateCompliance', () => {
  it.each([
    [[], undefined],
    [['Compliant', 'Compliant'], 'Compliant'],
    [['Compliant', 'Pending'], 'Pending'],
    [['Pending', 'NonCompliant', 'Compliant'], 'NonCompliant'],
    [['Compliant', undefined], undefined],
    [['Pending', undefined], 'Pending'],
  ] as const)('%j → %s', (states, expected) => {
    expect(aggregateCompliance(states)).toBe(expected);
  });
});

describe('replicas', () => {
  it('finds the root of a replica from its label', () => {
    expect(
      rootOf(
        root({}, { labels: { 'policy.open-cluster-management.io/root-policy': 'ns.my.policy' } }),
      ),
    ).toEqual({
      namespace: 'ns',
      name: 'my.policy',
    });
    expect(rootOf(root())).toBeUndefined();
  });

  it('counts a replica as current regardless of status and key order', () => {
    const desired = decidePropagation(
      input({ bindings: [binding('b1', bindsP1)], decisions: [decision('pl', ['c1'])] }),
    ).replicas.get('c1')!;
    const existing: Policy = {
      ...desired,
      metadata: { ...desired.metadata, resourceVersion: '9' },
      spec: { 'policy-templates': [], remediationAction: 'inform', disabled: false },
      status: { compliant: 'Compliant' },
    };
    expect(isReplicaCurrent(existing, desired)).toBe(true);
    expect(
      isReplicaCurrent({ ...existing, spec: { ...existing.spec, disabled: true } }, desired),
    ).toBe(false);
  });
});
