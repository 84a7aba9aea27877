import { describe, expect, it } from 'vitest';

import type { Condition, ManifestWork, ManifestWorkReplicaSet } from '../../api/index.ts';
import { decideReplicaSetStatus, type PlacementObservation } from './replica-set-status.ts';
import { clusterRollout, desiredWork, templateHash } from './replica-works.ts';
import { decideRollout } from './rollout.ts';

const NOW = new Date('2026-03-01T10:00:00Z');
const EARLIER = '2026-03-01T09:00:00Z';

const MWRS: ManifestWorkReplicaSet = {
  apiVersion: 'work.open-cluster-management.io/v1alpha1',
  kind: 'ManifestWorkReplicaSet',
  metadata: { name: 'app', namespace: 'ops', generation: 3 },
  spec: {
    manifestWorkTemplate: {
      workload: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }] },
    },
    placementRefs: [{ name: 'three' }],
    cascadeDeletionPolicy: 'Background',
  },
};

function work(cluster: string, conditions: Record<string, Condition['status']>): ManifestWork {
  const w = desiredWork(MWRS, cluster, 'three', new Date(EARLIER));
  w.metadata = { ...w.metadata, generation: 1 };
  w.status = {
    conditions: Object.entries(conditions).map(([type, status]) => ({
      type,
      status,
      reason: 'R',
      message: '',
      lastTransitionTime: EARLIER,
      observedGeneration: 1,
    })),
  };
  return w;
}

function observe(name: string, clusters: string[], works: ManifestWork[], found = true) {
  const byCluster = new Map(works.map((w) => [w.metadata?.namespace ?? '', w]));
  const hash = templateHash(MWRS);
  const rollout = decideRollout(
    clusters.map((c) => clusterRollout(c, 0, '', byCluster.get(c), hash, name)),
    undefined,
    NOW.getTime(),
  );
  return { name, isFound: found, clusters, groups: clusters.length > 0 ? 1 : 0, rollout };
}

const conditionOf = (status: { conditions?: Condition[] }, type: string) =>
  status.conditions?.find((c) => c.type === type);

describe('decideReplicaSetStatus', () => {
  it('all works applied and available: AsExpected, Complete, summary counts', () => {
    const works = ['a', 'b', 'c'].map((c) => work(c, { Applied: 'True', Available: 'True' }));
    const p: PlacementObservation = observe('three', ['a', 'b', 'c'], works);
    const status = decideReplicaSetStatus(MWRS, [p], works, new Set(['a', 'b', 'c']), NOW);
    expect(status.summary).toEqual({
      total: 3,
      applied: 3,
      available: 3,
      progressing: 0,
      degraded: 0,
      desiredTotal: 3,
      updated: 3,
    });
    expect(status.placementSummary).toEqual([
      {
        name: 'three',
        availableDecisionGroups: '1 (3 / 3 clusters applied)',
        summary: status.summary,
      },
    ]);
    expect(conditionOf(status, 'PlacementVerified')).toMatchObject({
      status: 'True',
      reason: 'AsExpected',
      observedGeneration: 3,
    });
    expect(conditionOf(status, 'PlacementRolledOut')).toMatchObject({
      status: 'True',
      reason: 'Complete',
    });
    expect(conditionOf(status, 'ManifestworkApplied')).toMatchObject({
      status: 'True',
      reason: 'AsExpected',
    });
  });

  it('works still coming: Progressing and Processing', () => {
    const works = [work('a', { Applied: 'True', Available: 'True' })];
    const p = observe('three', ['a', 'b'], works);
    const status = decideReplicaSetStatus(MWRS, [p], works, new Set(['a']), NOW);
    expect(conditionOf(status, 'PlacementRolledOut')).toMatchObject({
      status: 'False',
      reason: 'Progressing',
    });
    expect(conditionOf(status, 'ManifestworkApplied')).toMatchObject({
      status: 'False',
      reason: 'Processing',
      message: '1 of 2 ManifestWorks are applied.',
    });
  });

  it('a work that failed to apply: NotAsExpected', () => {
    const works = [
      work('a', { Applied: 'True', Available: 'True' }),
      work('b', { Applied: 'False' }),
    ];
    const p = observe('three', ['a', 'b'], works);
    const status = decideReplicaSetStatus(MWRS, [p], works, new Set(['a', 'b']), NOW);
    expect(conditionOf(status, 'ManifestworkApplied')).toMatchObject({
      status: 'False',
      reason: 'NotAsExpected',
      message: '1 of 2 ManifestWorks failed to apply or are degraded.',
    });
  });

  it.each([
    { found: false, reason: 'PlacementDecisionNotFound' },
    { found: true, reason: 'PlacementDecisionEmpty' },
  ])('no decisions (found $found): $reason', ({ found, reason }) => {
    const status = decideReplicaSetStatus(
      MWRS,
      [observe('three', [], [], found)],
      [],
      new Set(),
      NOW,
    );
    expect(conditionOf(status, 'PlacementVerified')).toMatchObject({ status: 'False', reason });
    expect(status.summary?.total).toBe(0);
  });

  it('keeps lastTransitionTime while a condition holds', () => {
    const works = [work('a', { Applied: 'True', Available: 'True' })];
    const p = observe('three', ['a'], works);
    const first = decideReplicaSetStatus(MWRS, [p], works, new Set(['a']), new Date(EARLIER));
    const again = decideReplicaSetStatus(
      { ...MWRS, status: first },
      [p],
      works,
      new Set(['a']),
      NOW,
    );
    expect(again).toEqual(first);
  });
});

describe('clusterRollout', () => {
  const hash = templateHash(MWRS);
  it.each<{ name: string; work: ManifestWork | undefined; state: string }>([
    { name: 'no work', work: undefined, state: 'ToApply' },
    {
      name: 'older template',
      work: {
        ...work('a', {}),
        metadata: {
          ...work('a', {}).metadata,
          annotations: { 'spokelink.io/manifestworkreplicaset-template-hash': 'old' },
        },
      },
      state: 'ToApply',
    },
    { name: 'not yet processed', work: work('a', {}), state: 'Progressing' },
    {
      name: 'applied, not available',
      work: work('a', { Applied: 'True', Available: 'Unknown' }),
      state: 'Progressing',
    },
    {
      name: 'applied and available',
      work: work('a', { Applied: 'True', Available: 'True' }),
      state: 'Succeeded',
    },
    { name: 'apply failed', work: work('a', { Applied: 'False' }), state: 'Failed' },
    {
      name: 'degraded',
      work: work('a', { Applied: 'True', Available: 'True', Degraded: 'True' }),
      state: 'Failed',
    },
    {
      name: 'conditions of an older generation',
      work: {
        ...work('a', { Applied: 'True', Available: 'True' }),
        metadata: { ...work('a', {}).metadata, generation: 2 },
      },
      state: 'Progressing',
    },
  ])('$name → $state', ({ work: w, state }) => {
    expect(clusterRollout('a', 0, '', w, hash, 'three').state).toBe(state);
  });
});
