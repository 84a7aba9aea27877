import { describe, expect, it } from 'vitest';

import type {
  ComplianceState,
  PlacementBinding,
  PlacementDecision,
  Policy,
  PolicySet,
} from '../../api/index.ts';
import { policySetStatus, type PolicySetStatusInput } from './policy-set-status.ts';

const NS = 'policies';
const GROUP = 'policy.open-cluster-management.io';

function set(policies: string[], namespace = NS): PolicySet {
  return {
    apiVersion: `${GROUP}/v1beta1`,
    kind: 'PolicySet',
    metadata: { name: 'set', namespace },
    spec: { policies },
  };
}

/** A root placed through the set's binding `pb`, with a state per cluster (undefined: none). */
function root(
  name: string,
  states: Record<string, ComplianceState | undefined>,
  extra: { disabled?: boolean; policySet?: string } = {},
): Policy {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'Policy',
    metadata: { name, namespace: NS },
    spec: { disabled: extra.disabled ?? false, 'policy-templates': [] },
    status: {
      placement: [
        { placementBinding: 'direct', placement: 'pl' },
        { placementBinding: 'pb', placement: 'pl', policySet: extra.policySet ?? 'set' },
      ],
      status: Object.entries(states).map(([cluster, compliant]) => ({
        clustername: cluster,
        clusternamespace: cluster,
        ...(compliant === undefined ? {} : { compliant }),
      })),
    },
  };
}

const binding: PlacementBinding = {
  apiVersion: `${GROUP}/v1`,
  kind: 'PlacementBinding',
  metadata: { name: 'pb', namespace: NS },
  placementRef: { apiGroup: 'cluster.open-cluster-management.io', kind: 'Placement', name: 'pl' },
  subjects: [{ apiGroup: GROUP, kind: 'PolicySet', name: 'set' }],
};

const decisions: PlacementDecision[] = [
  {
    apiVersion: 'cluster.open-cluster-management.io/v1beta1',
    kind: 'PlacementDecision',
    metadata: {
      name: 'pl-decision-1',
      namespace: NS,
      labels: { 'cluster.open-cluster-management.io/placement': 'pl' },
    },
    status: {
      decisions: [
        { clusterName: 'c1', reason: '' },
        { clusterName: 'c2', reason: '' },
      ],
    },
  },
];

const PLACEMENT = [{ placementBinding: 'pb', placement: 'pl' }];

describe('policySetStatus', () => {
  it.each<{
    name: string;
    input: Omit<PolicySetStatusInput, 'bindings' | 'decisions'>;
    expected: NonNullable<PolicySet['status']>;
  }>([
    { name: 'no policies: empty status', input: { set: set([]), policies: [] }, expected: {} },
    {
      name: 'all compliant',
      input: {
        set: set(['a', 'b']),
        policies: [root('a', { c1: 'Compliant' }), root('b', { c1: 'Compliant', c2: 'Compliant' })],
      },
      expected: {
        compliant: 'Compliant',
        placement: PLACEMENT,
        statusMessage: 'All policies are reporting status',
      },
    },
    {
      name: 'one cluster non-compliant makes the set NonCompliant',
      input: {
        set: set(['a', 'b']),
        policies: [
          root('a', { c1: 'Compliant', c2: 'NonCompliant' }),
          root('b', { c1: 'Pending' }),
        ],
      },
      expected: {
        compliant: 'NonCompliant',
        placement: PLACEMENT,
        statusMessage: 'Policies awaiting pending dependencies: b',
      },
    },
    {
      name: 'pending without non-compliance',
      input: { set: set(['a']), policies: [root('a', { c1: 'Pending', c2: 'Compliant' })] },
      expected: {
        compliant: 'Pending',
        placement: PLACEMENT,
        statusMessage: 'Policies awaiting pending dependencies: a',
      },
    },
    {
      name: 'clusters the set does not place are ignored; no state hides compliant',
      input: {
        set: set(['a', 'b']),
        policies: [
          root('a', { c1: 'Compliant' }),
          root('b', { c3: 'NonCompliant', c1: undefined }),
        ],
      },
      expected: {
        placement: PLACEMENT,
        statusMessage: 'No status provided while awaiting policy status: b',
      },
    },
    {
      name: 'disabled and deleted policies, in the set order',
      input: {
        set: set(['gone', 'a', 'off', 'also-gone']),
        policies: [root('a', { c1: 'Compliant' }), root('off', {}, { disabled: true })],
      },
      expected: {
        compliant: 'Compliant',
        placement: PLACEMENT,
        statusMessage: 'Disabled policies: off; Deleted policies: gone, also-gone',
      },
    },
    {
      name: 'placed only through another set: no placement, no status',
      input: {
        set: set(['a']),
        policies: [root('a', { c1: 'Compliant' }, { policySet: 'other' })],
      },
      expected: { statusMessage: 'No status provided while awaiting policy status: a' },
    },
    {
      name: 'policies of other namespaces do not count',
      input: { set: set(['a'], 'elsewhere'), policies: [root('a', { c1: 'Compliant' })] },
      expected: { statusMessage: 'Deleted policies: a' },
    },
  ])('$name', ({ input, expected }) => {
    expect(policySetStatus({ ...input, bindings: [binding], decisions })).toEqual(expected);
  });
});
