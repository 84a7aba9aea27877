import { describe, expect, it } from 'vitest';

import type { ManagedCluster, PlacementSpec } from '../../api/index.ts';
import {
  prioritizerScores,
  prioritizerWeights,
  totalScores,
  type ScoreContext,
} from './prioritizers.ts';

function cluster(
  name: string,
  resources: { allocatable?: Record<string, string>; capacity?: Record<string, string> } = {},
): ManagedCluster {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: { name },
    status: resources,
  };
}

const builtIn = (name: string, weight?: number) => ({
  scoreCoordinate: { type: 'BuiltIn' as const, builtIn: name },
  ...(weight === undefined ? {} : { weight }),
});

describe('prioritizerWeights', () => {
  it.each<{ name: string; policy: PlacementSpec['prioritizerPolicy']; weights: unknown }>([
    {
      name: 'no policy: Additive defaults, Balance and Steady at 1',
      policy: undefined,
      weights: [
        { name: 'Balance', weight: 1 },
        { name: 'Steady', weight: 1 },
      ],
    },
    {
      name: 'Additive adds and overrides',
      policy: {
        mode: 'Additive',
        configurations: [builtIn('Steady', 3), builtIn('ResourceAllocatableCPU', 2)],
      },
      weights: [
        { name: 'Balance', weight: 1 },
        { name: 'Steady', weight: 3 },
        { name: 'ResourceAllocatableCPU', weight: 2 },
      ],
    },
    {
      name: 'weight 0 turns a default off; a missing weight is 1',
      policy: { configurations: [builtIn('Balance', 0), builtIn('ResourceAllocatableMemory')] },
      weights: [
        { name: 'Steady', weight: 1 },
        { name: 'ResourceAllocatableMemory', weight: 1 },
      ],
    },
    {
      name: 'Exact uses only the configurations, negative weights too',
      policy: { mode: 'Exact', configurations: [builtIn('Balance', -2)] },
      weights: [{ name: 'Balance', weight: -2 }],
    },
    {
      name: 'Exact without configurations: no prioritizer',
      policy: { mode: 'Exact' },
      weights: [],
    },
    {
      name: 'an add-on score',
      policy: {
        mode: 'Exact',
        configurations: [
          {
            scoreCoordinate: { type: 'AddOn', addOn: { resourceName: 'r', scoreName: 's' } },
            weight: 2,
          },
        ],
      },
      weights: [{ name: 'AddOn/r/s', weight: 2 }],
    },
  ])('$name', ({ policy, weights }) => {
    expect(prioritizerWeights(policy)).toEqual({ ok: true, weights });
  });

  it.each<{ name: string; policy: PlacementSpec['prioritizerPolicy']; message: string }>([
    {
      name: 'an unknown mode',
      policy: { mode: 'Greedy' },
      message: 'incorrect prioritizer policy mode: Greedy',
    },
    {
      name: 'an unknown built-in',
      policy: { configurations: [builtIn('Random')] },
      message: 'incorrect builtin prioritizer: Random',
    },
    {
      name: 'Spread, which OCM does not implement as a prioritizer',
      policy: { configurations: [builtIn('Spread')] },
      message: 'incorrect builtin prioritizer: Spread',
    },
    {
      name: 'an AddOn coordinate without addOn',
      policy: { configurations: [{ scoreCoordinate: { type: 'AddOn' } }] },
      message: 'addOn should not be empty',
    },
  ])('refuses $name', ({ policy, message }) => {
    expect(prioritizerWeights(policy)).toEqual({ ok: false, message });
  });
});

describe('prioritizer scores', () => {
  const clusters = ['a', 'b', 'c', 'd'].map((name) => cluster(name));
  const context = (decided: string[], others: Record<string, number>): ScoreContext => ({
    decided: new Set(decided),
    otherDecisions: new Map(Object.entries(others)),
  });

  it('Steady: 100 for clusters already chosen, else 0', () => {
    expect(
      Object.fromEntries(prioritizerScores('Steady', clusters, context(['b', 'x'], {}))),
    ).toEqual({
      a: 0,
      b: 100,
      c: 0,
      d: 0,
    });
  });

  it('Balance: the most used cluster scores -100, unused ones 100', () => {
    // 2 × trunc(100 × (0.5 − count/max)) with max 4 (z is not a candidate but counts for max).
    expect(
      Object.fromEntries(
        prioritizerScores('Balance', clusters, context([], { a: 2, b: 1, c: 3, z: 4 })),
      ),
    ).toEqual({
      a: 0,
      b: 50,
      c: -50,
      d: 100,
    });
    expect(
      Object.fromEntries(prioritizerScores('Balance', clusters, context([], { a: 1, b: 2, c: 3 }))),
    ).toEqual({
      a: 32,
      b: -32,
      c: -100,
      d: 100,
    });
    expect(Object.fromEntries(prioritizerScores('Balance', clusters, context([], {})))).toEqual({
      a: 100,
      b: 100,
      c: 100,
      d: 100,
    });
  });

  it('ResourceAllocatableCPU and Memory: scaled between the least and the most', () => {
    const sized = [
      cluster('a', {
        allocatable: { cpu: '4', memory: '8Gi' },
        capacity: { cpu: '4', memory: '8Gi' },
      }),
      cluster('b', {
        allocatable: { cpu: '8', memory: '16Gi' },
        capacity: { cpu: '8', memory: '16Gi' },
      }),
      cluster('c', {
        allocatable: { cpu: '6000m', memory: '10Gi' },
        capacity: { cpu: '6', memory: '16Gi' },
      }),
      cluster('d', { allocatable: { cpu: '64' } }), // no capacity: no score
      cluster('e'),
    ];
    const none = context([], {});
    expect(Object.fromEntries(prioritizerScores('ResourceAllocatableCPU', sized, none))).toEqual({
      a: -100,
      b: 100,
      c: 0,
    });
    expect(Object.fromEntries(prioritizerScores('ResourceAllocatableMemory', sized, none))).toEqual(
      {
        a: -100,
        b: 100,
        c: -50,
      },
    );
    const same = [sized[0], sized[0]].map((c, i) => ({
      ...c,
      metadata: { name: `s${i}` },
    })) as ManagedCluster[];
    expect(Object.fromEntries(prioritizerScores('ResourceAllocatableCPU', same, none))).toEqual({
      s0: 100,
      s1: 100,
    });
  });

  it('add-on scores are 0 (no AddOnPlacementScore is served)', () => {
    expect(
      Object.fromEntries(prioritizerScores('AddOn/r/s', clusters.slice(0, 2), context([], {}))),
    ).toEqual({ a: 0, b: 0 });
  });

  it('totals are Σ weight × score', () => {
    const totals = totalScores(
      clusters,
      [
        { name: 'Steady', weight: 2 },
        { name: 'Balance', weight: -1 },
      ],
      context(['a'], { a: 1, b: 1 }),
    );
    // a: 2×100 − 1×(−100) = 300; b: 0 − (−100) = 100; c, d: 0 − 100 = −100.
    expect(Object.fromEntries(totals)).toEqual({ a: 300, b: 100, c: -100, d: -100 });
  });
});
