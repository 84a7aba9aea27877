import { describe, expect, it } from 'vitest';

import type { RolloutStrategy } from '../../api/index.ts';
import {
  decideRollout,
  parseRolloutDuration,
  resolveCount,
  type RolloutCluster,
  type RolloutDecision,
} from './rollout.ts';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const SECOND = 1_000;

function c(
  name: string,
  state: RolloutCluster['state'],
  options: { group?: number; groupName?: string; agoMs?: number } = {},
): RolloutCluster {
  return {
    name,
    groupIndex: options.group ?? 0,
    groupName: options.groupName ?? '',
    state,
    ...(options.agoMs === undefined ? {} : { sinceMs: NOW - options.agoMs }),
  };
}

const fresh = (...names: string[]) => names.map((n) => c(n, 'ToApply'));

describe('decideRollout', () => {
  it.each<{
    name: string;
    clusters: RolloutCluster[];
    strategy?: RolloutStrategy;
    expect: (d: RolloutDecision) => void;
  }>([
    {
      name: 'no strategy is All: every cluster at once',
      clusters: fresh('c', 'a', 'b'),
      expect: (d) => {
        expect(d.toApply).toEqual(['a', 'b', 'c']);
        expect(d.isComplete).toBe(false);
      },
    },
    {
      name: 'All with every cluster succeeded is complete',
      clusters: [c('a', 'Succeeded'), c('b', 'Succeeded')],
      strategy: { type: 'All' },
      expect: (d) => {
        expect(d.toApply).toEqual([]);
        expect(d.isComplete).toBe(true);
        expect(d.requeueAfterMs).toBeUndefined();
      },
    },
    {
      name: 'Progressive maxConcurrency 1 starts one cluster, in name order',
      clusters: fresh('b', 'a', 'c'),
      strategy: { type: 'Progressive', progressive: { maxConcurrency: 1 } },
      expect: (d) => expect(d.toApply).toEqual(['a']),
    },
    {
      name: 'Progressive waits while the started cluster is progressing',
      clusters: [c('a', 'Progressing', { agoMs: SECOND }), ...fresh('b', 'c')],
      strategy: { type: 'Progressive', progressive: { maxConcurrency: 1 } },
      expect: (d) => {
        expect(d.toApply).toEqual([]);
        expect(d.isComplete).toBe(false);
      },
    },
    {
      name: 'Progressive moves on once the cluster succeeded',
      clusters: [c('a', 'Succeeded', { agoMs: SECOND }), ...fresh('b', 'c')],
      strategy: { type: 'Progressive', progressive: { maxConcurrency: 1 } },
      expect: (d) => expect(d.toApply).toEqual(['b']),
    },
    {
      name: 'Progressive maxConcurrency as a percentage rounds up',
      clusters: fresh('a', 'b', 'c', 'd', 'e'),
      strategy: { type: 'Progressive', progressive: { maxConcurrency: '30%' } },
      expect: (d) => expect(d.toApply).toEqual(['a', 'b']),
    },
    {
      name: 'Progressive without maxConcurrency takes the largest decision group',
      clusters: [
        ...fresh('a', 'b'),
        c('c', 'ToApply', { group: 1 }),
        c('d', 'ToApply', { group: 1 }),
        c('e', 'ToApply', { group: 1 }),
      ],
      strategy: { type: 'Progressive', progressive: {} },
      expect: (d) => expect(d.toApply).toEqual(['a', 'b', 'c']),
    },
    {
      name: 'minSuccessTime keeps a succeeded cluster in its slot, with a requeue',
      clusters: [c('a', 'Succeeded', { agoMs: 10 * SECOND }), ...fresh('b')],
      strategy: {
        type: 'Progressive',
        progressive: { maxConcurrency: 1, minSuccessTime: '1m' },
      },
      expect: (d) => {
        expect(d.toApply).toEqual([]);
        expect(d.requeueAfterMs).toBe(50 * SECOND);
      },
    },
    {
      name: 'minSuccessTime passed frees the slot',
      clusters: [c('a', 'Succeeded', { agoMs: 61 * SECOND }), ...fresh('b')],
      strategy: {
        type: 'Progressive',
        progressive: { maxConcurrency: 1, minSuccessTime: '1m' },
      },
      expect: (d) => expect(d.toApply).toEqual(['b']),
    },
    {
      name: 'progressDeadline not reached: requeued for it',
      clusters: [c('a', 'Progressing', { agoMs: 20 * SECOND }), ...fresh('b')],
      strategy: {
        type: 'Progressive',
        progressive: { maxConcurrency: 1, progressDeadline: '30s', maxFailures: 1 },
      },
      expect: (d) => {
        expect(d.states.get('a')).toBe('Progressing');
        expect(d.toApply).toEqual([]);
        expect(d.requeueAfterMs).toBe(10 * SECOND);
      },
    },
    {
      name: 'past progressDeadline a cluster times out and, within maxFailures, frees its slot',
      clusters: [c('a', 'Progressing', { agoMs: 31 * SECOND }), ...fresh('b')],
      strategy: {
        type: 'Progressive',
        progressive: { maxConcurrency: 1, progressDeadline: '30s', maxFailures: 1 },
      },
      expect: (d) => {
        expect(d.states.get('a')).toBe('TimeOut');
        expect(d.failures).toBe(1);
        expect(d.isStopped).toBe(false);
        expect(d.toApply).toEqual(['b']);
      },
    },
    {
      name: 'failures beyond maxFailures stop the rollout',
      clusters: [c('a', 'Progressing', { agoMs: 31 * SECOND }), ...fresh('b')],
      strategy: {
        type: 'Progressive',
        progressive: { maxConcurrency: 1, progressDeadline: '30s' },
      },
      expect: (d) => {
        expect(d.isStopped).toBe(true);
        expect(d.isComplete).toBe(false);
        expect(d.toApply).toEqual([]);
      },
    },
    {
      name: 'a Failed cluster holds its slot even within maxFailures',
      clusters: [c('a', 'Failed'), ...fresh('b')],
      strategy: { type: 'Progressive', progressive: { maxConcurrency: 1, maxFailures: '50%' } },
      expect: (d) => {
        expect(d.isStopped).toBe(false);
        expect(d.toApply).toEqual([]);
      },
    },
    {
      name: 'mandatory decision groups go first, all at once, and the rest waits for them',
      clusters: [
        ...fresh('a', 'b'),
        c('x', 'ToApply', { group: 1, groupName: 'canary' }),
        c('y', 'ToApply', { group: 1, groupName: 'canary' }),
      ],
      strategy: {
        type: 'Progressive',
        progressive: { maxConcurrency: 1, mandatoryDecisionGroups: [{ groupName: 'canary' }] },
      },
      expect: (d) => expect(d.toApply).toEqual(['x', 'y']),
    },
    {
      name: 'the rest waits while a mandatory group is progressing',
      clusters: [
        ...fresh('a', 'b'),
        c('x', 'Succeeded', { group: 1 }),
        c('y', 'Progressing', { group: 1 }),
      ],
      strategy: {
        type: 'Progressive',
        progressive: { maxConcurrency: 3, mandatoryDecisionGroups: [{ groupIndex: 1 }] },
      },
      expect: (d) => expect(d.toApply).toEqual([]),
    },
    {
      name: 'ProgressivePerGroup starts the first group whole',
      clusters: [...fresh('a', 'b'), c('c', 'ToApply', { group: 1 })],
      strategy: { type: 'ProgressivePerGroup' },
      expect: (d) => expect(d.toApply).toEqual(['a', 'b']),
    },
    {
      name: 'ProgressivePerGroup starts the next group once the previous one is done',
      clusters: [c('a', 'Succeeded'), c('b', 'Progressing'), c('c', 'ToApply', { group: 1 })],
      strategy: { type: 'ProgressivePerGroup' },
      expect: (d) => expect(d.toApply).toEqual([]),
    },
    {
      name: 'ProgressivePerGroup: next group',
      clusters: [c('a', 'Succeeded'), c('b', 'Succeeded'), c('c', 'ToApply', { group: 1 })],
      strategy: { type: 'ProgressivePerGroup' },
      expect: (d) => expect(d.toApply).toEqual(['c']),
    },
    {
      name: 'no clusters: complete, nothing to do',
      clusters: [],
      strategy: { type: 'Progressive', progressive: { maxConcurrency: 1 } },
      expect: (d) => {
        expect(d.toApply).toEqual([]);
        expect(d.isComplete).toBe(true);
      },
    },
  ])('$name', ({ clusters, strategy, expect: check }) => {
    check(decideRollout(clusters, strategy, NOW));
  });
});

describe('parseRolloutDuration', () => {
  it.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['None', undefined],
    ['0', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['soon', undefined],
  ])('%s', (value, ms) => expect(parseRolloutDuration(value)).toBe(ms));
});

describe('resolveCount', () => {
  it.each<[number | string | undefined, number, boolean, number | undefined]>([
    [2, 10, true, 2],
    ['3', 10, true, 3],
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    ['100%', 7, true, 7],
    [undefined, 10, true, undefined],
  ])('%s of %d (round up %s)', (value, total, roundUp, count) =>
    expect(resolveCount(value, total, roundUp)).toBe(count),
  );
});
