import { describe, expect, it } from 'vitest';

import type { PlacementDecision, Subscription, SubscriptionSpec } from '../../api/index.ts';
import { placedClusters } from './placement-clusters.ts';

const sub = (placement: SubscriptionSpec['placement']): Subscription => ({
  apiVersion: 'apps.open-cluster-management.io/v1',
  kind: 'Subscription',
  metadata: { name: 's', namespace: 'apps' },
  spec: { channel: 'ch/c', ...(placement === undefined ? {} : { placement }) },
});
const decision = (
  namespace: string,
  labels: Record<string, string>,
  clusters: string[],
): PlacementDecision => ({
  apiVersion: 'cluster.open-cluster-management.io/v1beta1',
  kind: 'PlacementDecision',
  metadata: { name: `d-${clusters.join('-')}`, namespace, labels },
  status: { decisions: clusters.map((clusterName) => ({ clusterName, reason: '' })) },
});
const decisions = [
  decision('apps', { 'cluster.open-cluster-management.io/placement': 'p' }, ['c2', 'c1']),
  decision('apps', { 'cluster.open-cluster-management.io/placement': 'p' }, ['c3', 'c1']),
  decision('other', { 'cluster.open-cluster-management.io/placement': 'p' }, ['c9']),
  decision('apps', { 'cluster.open-cluster-management.io/placementrule': 'r' }, ['c4']),
];

describe('placedClusters', () => {
  it.each<{ name: string; placement: SubscriptionSpec['placement']; expected: string[] }>([
    {
      name: 'a Placement: its decisions in the namespace',
      placement: { placementRef: { kind: 'Placement', name: 'p' } },
      expected: ['c1', 'c2', 'c3'],
    },
    {
      name: 'a PlacementRule',
      placement: { placementRef: { kind: 'PlacementRule', name: 'r' } },
      expected: ['c4'],
    },
    {
      name: 'an empty kind means PlacementRule',
      placement: { placementRef: { name: 'r' } },
      expected: ['c4'],
    },
    {
      name: 'a placement without decisions',
      placement: { placementRef: { kind: 'Placement', name: 'none' } },
      expected: [],
    },
    {
      name: 'a cluster list',
      placement: { clusters: [{ name: 'b' }, { name: 'a' }, { name: 'b' }] },
      expected: ['a', 'b'],
    },
  ])('$name', ({ placement, expected }) => {
    expect(placedClusters(sub(placement), decisions)).toEqual(expected);
  });

  it.each<{ placement: SubscriptionSpec['placement']; message: string }>([
    { placement: undefined, message: 'Placement must be specified' },
    { placement: {}, message: 'Placement must be specified' },
    {
      placement: { local: true },
      message: 'local placement (deploying on the hub itself) is not supported by this hub',
    },
    {
      placement: { local: true, clusters: [{ name: 'a' }] },
      message: 'local placement cannot be combined with remote placement',
    },
    {
      placement: { clusterSelector: {} },
      message: 'placement.clusterSelector is not supported; use a placementRef to a Placement',
    },
    {
      placement: { placementRef: { kind: 'Deployment', name: 'x' } },
      message: 'placementRef kind "Deployment" is not Placement or PlacementRule',
    },
  ])('refuses $placement', ({ placement, message }) => {
    expect(() => placedClusters(sub(placement), decisions)).toThrow(message);
  });
});
