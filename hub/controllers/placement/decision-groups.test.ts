import { describe, expect, it } from 'vitest';

import type { ManagedCluster, Placement, PlacementSpec } from '../../api/index.ts';
import { decisionGroups, decisionPages, groupLength } from './decision-groups.ts';

function placement(spec: PlacementSpec = {}): Placement {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta1',
    kind: 'Placement',
    metadata: { name: 'p1', namespace: 'apps', uid: 'uid-1' },
    spec,
  };
}

function cluster(name: string, labels: Record<string, string> = {}): ManagedCluster {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: { name, labels },
  };
}

/** `n` clusters named c000 … in a scrambled order (as scores would order them). */
function many(n: number): ManagedCluster[] {
  return Array.from({ length: n }, (_, i) => cluster(`c${String((i * 37) % n).padStart(3, '0')}`));
}

describe('groupLength', () => {
  it.each<{ value: number | string | undefined; total: number; length: number }>([
    { value: undefined, total: 7, length: 7 },
    { value: '100%', total: 7, length: 7 },
    { value: '50%', total: 7, length: 4 }, // rounded up
    { value: '25%', total: 10, length: 3 },
    { value: '1%', total: 10, length: 1 },
    { value: 3, total: 7, length: 3 },
    { value: 0, total: 7, length: 7 },
    { value: 20, total: 7, length: 7 },
    { value: '10%', total: 0, length: 0 },
  ])('$value of $total is $length', ({ value, total, length }) => {
    expect(groupLength(value, total)).toEqual({ ok: true, value: length });
  });

  it('refuses a string that is not a percentage, as OCM does', () => {
    expect(groupLength('3', 7)).toEqual({
      ok: false,
      message: '3 invalid type: string is not a percentage',
    });
  });
});

describe('decisionGroups', () => {
  const selected = [
    cluster('e', { canary: 'true' }),
    cluster('a', { region: 'eu' }),
    cluster('d', { region: 'eu', canary: 'true' }),
    cluster('b'),
    cluster('c', { region: 'us' }),
  ];

  it('puts everything in one unnamed group by default, in name order', () => {
    expect(decisionGroups(placement(), selected)).toEqual({
      ok: true,
      value: [{ name: '', clusters: ['a', 'b', 'c', 'd', 'e'] }],
    });
  });

  it('fills named groups in order (a cluster joins the first that matches), then the rest', () => {
    const spec: PlacementSpec = {
      decisionStrategy: {
        groupStrategy: {
          decisionGroups: [
            {
              groupName: 'canary',
              groupClusterSelector: { labelSelector: { matchLabels: { canary: 'true' } } },
            },
            {
              groupName: 'eu',
              groupClusterSelector: { labelSelector: { matchLabels: { region: 'eu' } } },
            },
            {
              groupName: 'none',
              groupClusterSelector: { labelSelector: { matchLabels: { region: 'mars' } } },
            },
          ],
        },
      },
    };
    expect(decisionGroups(placement(spec), selected)).toEqual({
      ok: true,
      value: [
        { name: 'canary', clusters: ['d', 'e'] },
        { name: 'eu', clusters: ['a'] },
        { name: '', clusters: ['b', 'c'] },
      ],
    });
  });

  it('cuts groups to clustersPerDecisionGroup, a percentage of all selected clusters', () => {
    const spec: PlacementSpec = {
      decisionStrategy: {
        groupStrategy: {
          clustersPerDecisionGroup: '40%', // of 5: 2
          decisionGroups: [
            {
              groupName: 'eu',
              groupClusterSelector: { labelSelector: { matchLabels: { region: 'eu' } } },
            },
          ],
        },
      },
    };
    expect(decisionGroups(placement(spec), selected)).toEqual({
      ok: true,
      value: [
        { name: 'eu', clusters: ['a', 'd'] },
        { name: '', clusters: ['b', 'c'] },
        { name: '', clusters: ['e'] },
      ],
    });
  });

  it('selects groups by claims too', () => {
    const claimed = {
      ...cluster('z'),
      status: { clusterClaims: [{ name: 'region.example.com', value: 'eu' }] },
    };
    const spec: PlacementSpec = {
      decisionStrategy: {
        groupStrategy: {
          decisionGroups: [
            {
              groupName: 'eu',
              groupClusterSelector: {
                claimSelector: {
                  matchExpressions: [{ key: 'region.example.com', operator: 'In', values: ['eu'] }],
                },
              },
            },
          ],
        },
      },
    };
    expect(decisionGroups(placement(spec), [cluster('a'), claimed])).toEqual({
      ok: true,
      value: [
        { name: 'eu', clusters: ['z'] },
        { name: '', clusters: ['a'] },
      ],
    });
  });

  it('gives one empty group when nothing is selected', () => {
    expect(decisionGroups(placement(), [])).toEqual({
      ok: true,
      value: [{ name: '', clusters: [] }],
    });
  });

  it('refuses an invalid group selector', () => {
    const spec: PlacementSpec = {
      decisionStrategy: {
        groupStrategy: {
          decisionGroups: [
            {
              groupName: 'g',
              groupClusterSelector: {
                labelSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] },
              },
            },
          ],
        },
      },
    };
    expect(decisionGroups(placement(spec), selected)).toEqual({
      ok: false,
      message:
        'decisionGroups[0]: labelSelector: matchExpressions: a: operator In needs at least one value',
    });
  });
});

describe('decisionPages', () => {
  const labels = (name: string, index: number) => ({
    'cluster.open-cluster-management.io/placement': 'p1',
    'cluster.open-cluster-management.io/decision-group-name': name,
    'cluster.open-cluster-management.io/decision-group-index': String(index),
  });

  it('writes one empty PlacementDecision for no cluster, labelled and owned', () => {
    const pages = decisionPages(placement(), [{ name: '', clusters: [] }]);
    expect(pages.decisions).toEqual([
      {
        apiVersion: 'cluster.open-cluster-management.io/v1beta1',
        kind: 'PlacementDecision',
        metadata: {
          name: 'p1-decision-1',
          namespace: 'apps',
          labels: labels('', 0),
          ownerReferences: [
            {
              apiVersion: 'cluster.open-cluster-management.io/v1beta1',
              kind: 'Placement',
              name: 'p1',
              uid: 'uid-1',
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        status: { decisions: [] },
      },
    ]);
    expect(pages.groups).toEqual([
      {
        decisionGroupIndex: 0,
        decisionGroupName: '',
        decisions: ['p1-decision-1'],
        clusterCount: 0,
      },
    ]);
  });

  it.each([
    { clusters: 1, pages: [1] },
    { clusters: 100, pages: [100] },
    { clusters: 101, pages: [100, 1] },
    { clusters: 250, pages: [100, 100, 50] },
  ])('pages $clusters decisions as $pages', ({ clusters, pages }) => {
    const groups = decisionGroups(placement(), many(clusters));
    if (!groups.ok) throw new Error(groups.message);
    const result = decisionPages(placement(), groups.value);
    expect(result.decisions.map((d) => d.status?.decisions.length)).toEqual(pages);
    expect(result.decisions.map((d) => d.metadata?.name)).toEqual(
      pages.map((_, i) => `p1-decision-${i + 1}`),
    );
    const all = result.decisions.flatMap(
      (d) => d.status?.decisions.map((c) => c.clusterName) ?? [],
    );
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(clusters);
    expect(result.decisions[0]?.status?.decisions[0]).toEqual({ clusterName: 'c000', reason: '' });
    expect(result.groups).toEqual([
      {
        decisionGroupIndex: 0,
        decisionGroupName: '',
        decisions: pages.map((_, i) => `p1-decision-${i + 1}`),
        clusterCount: clusters,
      },
    ]);
  });

  it('numbers PlacementDecisions across groups from 1, and groups from 0', () => {
    const result = decisionPages(placement(), [
      { name: 'canary', clusters: ['a'] },
      {
        name: '',
        clusters: Array.from({ length: 150 }, (_, i) => `r${String(i).padStart(3, '0')}`),
      },
      { name: '', clusters: ['z'] },
    ]);
    expect(
      result.decisions.map((d) => [
        d.metadata?.name,
        d.metadata?.labels,
        d.status?.decisions.length,
      ]),
    ).toEqual([
      ['p1-decision-1', labels('canary', 0), 1],
      ['p1-decision-2', labels('', 1), 100],
      ['p1-decision-3', labels('', 1), 50],
      ['p1-decision-4', labels('', 2), 1],
    ]);
    expect(result.groups).toEqual([
      {
        decisionGroupIndex: 0,
        decisionGroupName: 'canary',
        decisions: ['p1-decision-1'],
        clusterCount: 1,
      },
      {
        decisionGroupIndex: 1,
        decisionGroupName: '',
        decisions: ['p1-decision-2', 'p1-decision-3'],
        clusterCount: 150,
      },
      {
        decisionGroupIndex: 2,
        decisionGroupName: '',
        decisions: ['p1-decision-4'],
        clusterCount: 1,
      },
    ]);
  });
});
