import { describe, expect, it } from 'vitest';

import type { PlacementDecision } from '../../api/index.ts';
import { DecisionIndex } from './decision-index.ts';

function decision(
  namespace: string,
  name: string,
  placement: string | undefined,
  clusters: string[],
): PlacementDecision {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta1',
    kind: 'PlacementDecision',
    metadata: {
      name,
      namespace,
      ...(placement === undefined
        ? {}
        : { labels: { 'cluster.open-cluster-management.io/placement': placement } }),
    },
    status: { decisions: clusters.map((clusterName) => ({ clusterName, reason: '' })) },
  };
}

describe('DecisionIndex', () => {
  it('tracks each placement’s decisions and the counts of all others', () => {
    const index = new DecisionIndex();
    expect(index.update(decision('a', 'p-decision-1', 'p', ['c1', 'c2']), false)).toEqual(['a/p']);
    index.update(decision('a', 'p-decision-2', 'p', ['c3']), false);
    index.update(decision('a', 'q-decision-1', 'q', ['c1']), false);
    index.update(decision('b', 'p-decision-1', 'p', ['c1', 'c3']), false);
    expect(index.decisionNames('a/p').sort()).toEqual(['p-decision-1', 'p-decision-2']);
    expect([...index.decided('a/p')].sort()).toEqual(['c1', 'c2', 'c3']);
    expect(Object.fromEntries(index.countsExcluding('a/p'))).toEqual({ c1: 2, c3: 1 });
    expect(Object.fromEntries(index.countsExcluding('a/q'))).toEqual({ c1: 2, c2: 1, c3: 2 });
    expect(Object.fromEntries(index.countsExcluding('z/none'))).toEqual({ c1: 3, c2: 1, c3: 2 });
  });

  it('replaces a decision’s clusters on update and forgets it on delete', () => {
    const index = new DecisionIndex();
    index.update(decision('a', 'p-decision-1', 'p', ['c1', 'c2']), false);
    index.update(decision('a', 'p-decision-1', 'p', ['c2', 'c4']), false);
    expect([...index.decided('a/p')].sort()).toEqual(['c2', 'c4']);
    expect(Object.fromEntries(index.countsExcluding('x/y'))).toEqual({ c2: 1, c4: 1 });
    expect(index.update(decision('a', 'p-decision-1', 'p', []), true)).toEqual(['a/p']);
    expect(index.decided('a/p').size).toBe(0);
    expect(index.decisionNames('a/p')).toEqual([]);
    expect(index.countsExcluding('x/y').size).toBe(0);
  });

  it('reports both placements when a decision is relabelled, and ignores unlabelled ones', () => {
    const index = new DecisionIndex();
    index.update(decision('a', 'd1', 'p', ['c1']), false);
    expect(index.update(decision('a', 'd1', 'q', ['c1']), false)).toEqual(['a/p', 'a/q']);
    expect(index.decisionNames('a/p')).toEqual([]);
    expect(index.update(decision('a', 'd1', undefined, ['c1']), false)).toEqual(['a/q']);
    expect(index.countsExcluding('x/y').size).toBe(0);
    expect(index.update(decision('a', 'd9', undefined, ['c1']), false)).toEqual([]);
  });
});
