import { describe, expect, it } from 'vitest';

import type { ManifestWork, Subscription, SubscriptionReport } from '../../api/index.ts';
import {
  applicationReport,
  clusterReport,
  clusterResult,
  decideStatus,
  type Outcome,
} from './subscription-status.ts';

const T0 = new Date('2026-01-02T03:04:05Z');
const T1 = new Date('2026-01-02T04:00:00Z');
const sub = (status?: Subscription['status']): Subscription => ({
  apiVersion: 'apps.open-cluster-management.io/v1',
  kind: 'Subscription',
  metadata: { name: 'web', namespace: 'apps', uid: 'u-1' },
  spec: { channel: 'ch/git' },
  ...(status === undefined ? {} : { status }),
});
const condition = (type: string, status: string, observedGeneration = 2, message = '') => ({
  type,
  status: status as 'True' | 'False',
  reason: 'R',
  message,
  lastTransitionTime: T0.toISOString(),
  observedGeneration,
});
const work = (...conditions: ReturnType<typeof condition>[]): ManifestWork => ({
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'ManifestWork',
  metadata: { name: 'apps-web', namespace: 'c1', generation: 2 },
  spec: {},
  status: { conditions },
});

describe('clusterResult', () => {
  it.each([
    { name: 'no work yet', work: undefined, expected: { cluster: 'c1', result: 'inProgress' } },
    {
      name: 'applied and available',
      work: work(condition('Applied', 'True'), condition('Available', 'True')),
      expected: { cluster: 'c1', result: 'deployed' },
    },
    {
      name: 'conditions of an older generation',
      work: work(condition('Applied', 'True', 1), condition('Available', 'True', 1)),
      expected: { cluster: 'c1', result: 'inProgress' },
    },
    {
      name: 'not applied',
      work: work(condition('Applied', 'False', 2, 'boom')),
      expected: { cluster: 'c1', result: 'failed', message: 'boom' },
    },
    {
      name: 'degraded',
      work: work(condition('Applied', 'True'), condition('Degraded', 'True', 2, 'bad')),
      expected: { cluster: 'c1', result: 'failed', message: 'bad' },
    },
  ])('$name', ({ work: w, expected }) => {
    expect(clusterResult('c1', w)).toEqual(expected);
  });
});

const ok: Outcome = {
  ok: true,
  revision: 'commit 0123456789ab',
  resources: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: 'apps' }],
  results: [
    { cluster: 'c1', result: 'deployed' },
    { cluster: 'c2', result: 'failed', message: 'denied' },
    { cluster: 'c3', result: 'inProgress' },
  ],
};
const failed: Outcome = {
  ok: false,
  reason: 'SourceUnreachable',
  message: 'could not fetch',
  clusters: ['c1'],
};

describe('decideStatus', () => {
  it('shows Propagated with each cluster’s phase', () => {
    expect(decideStatus(sub(), ok, T0)).toEqual({
      phase: 'Propagated',
      message:
        'commit 0123456789ab propagated to 3 cluster(s): 1 subscribed, 1 in progress, 1 failed',
      statuses: {
        c1: { packages: { web: { phase: 'Subscribed' } } },
        c2: { packages: { web: { phase: 'Failed', message: 'denied' } } },
        c3: { packages: { web: { phase: '' } } },
      },
      lastUpdateTime: '2026-01-02T03:04:05Z',
    });
  });

  it('shows PropagationFailed with the reason, and keeps the time when nothing changed', () => {
    const first = decideStatus(sub(), failed, T0);
    expect(first).toEqual({
      phase: 'PropagationFailed',
      reason: 'SourceUnreachable',
      message: 'could not fetch',
      lastUpdateTime: '2026-01-02T03:04:05Z',
    });
    expect(decideStatus(sub(first), failed, T1)).toEqual(first);
    expect(decideStatus(sub(first), ok, T1).lastUpdateTime).toBe('2026-01-02T04:00:00Z');
  });
});

describe('reports', () => {
  it('the Application report counts clusters and is owned by the subscription', () => {
    const report = applicationReport(sub(), ok, undefined, T0);
    expect(report).toMatchObject({
      metadata: {
        name: 'web',
        namespace: 'apps',
        labels: { 'apps.open-cluster-management.io/hosting-subscription': 'apps.web' },
        ownerReferences: [{ kind: 'Subscription', name: 'web', uid: 'u-1', controller: true }],
      },
      reportType: 'Application',
      summary: {
        deployed: '1',
        inProgress: '1',
        failed: '1',
        propagationFailed: '0',
        clusters: '3',
      },
      results: [
        { source: 'c1', result: 'deployed', timestamp: { seconds: 1767323045, nanos: 0 } },
        { source: 'c2', result: 'failed', timestamp: { seconds: 1767323045, nanos: 0 } },
      ],
      resources: ok.ok ? ok.resources : [],
    });
    const again = applicationReport(sub(), failed, report, T1);
    expect(again.summary).toEqual({
      deployed: '0',
      inProgress: '0',
      failed: '0',
      propagationFailed: '1',
      clusters: '1',
    });
    expect(again.resources).toEqual(report.resources);
  });

  it('a cluster report keeps other subscriptions’ entries and unchanged timestamps', () => {
    const existing: SubscriptionReport = {
      apiVersion: 'apps.open-cluster-management.io/v1alpha1',
      kind: 'SubscriptionReport',
      metadata: { name: 'c1', namespace: 'c1', resourceVersion: '7' },
      reportType: 'Cluster',
      results: [
        { source: 'other/x', result: 'failed', timestamp: { seconds: 1, nanos: 0 } },
        { source: 'apps/web', result: 'deployed', timestamp: { seconds: 2, nanos: 0 } },
      ],
    };
    const same = clusterReport('c1', existing, 'apps/web', 'deployed', T1);
    expect(same.metadata?.resourceVersion).toBe('7');
    // Sorted by source.
    expect(same.results).toEqual([existing.results?.[1], existing.results?.[0]]);
    expect(clusterReport('c1', existing, 'apps/web', undefined, T1).results).toEqual([
      existing.results?.[0],
    ]);
    expect(clusterReport('c1', undefined, 'apps/web', 'failed', T1)).toMatchObject({
      metadata: {
        name: 'c1',
        namespace: 'c1',
        labels: { 'apps.open-cluster-management.io/cluster': 'true' },
      },
      summary: { deployed: 'n/a', clusters: 'n/a' },
      results: [
        { source: 'apps/web', result: 'failed', timestamp: { seconds: 1767326400, nanos: 0 } },
      ],
    });
  });
});
