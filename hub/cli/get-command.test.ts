import { describe, expect, it } from 'vitest';

import type { ManagedCluster } from '../api/index.ts';
import { formatAge, renderClusterTable } from './get-command.ts';

const now = new Date('2026-01-01T12:00:00Z');

describe('spokelink get clusters', () => {
  it('renders a clusteradm-like table', () => {
    const clusters: ManagedCluster[] = [
      {
        apiVersion: 'cluster.open-cluster-management.io/v1',
        kind: 'ManagedCluster',
        metadata: {
          name: 'cluster2',
          creationTimestamp: '2026-01-01T11:59:30Z',
          labels: { 'cluster.open-cluster-management.io/clusterset': 'default' },
        },
        spec: { hubAcceptsClient: false },
      },
      {
        apiVersion: 'cluster.open-cluster-management.io/v1',
        kind: 'ManagedCluster',
        metadata: { name: 'cluster1', creationTimestamp: '2026-01-01T09:00:00Z' },
        spec: { hubAcceptsClient: true },
        status: {
          version: { kubernetes: 'v1.36.3' },
          conditions: [
            {
              type: 'ManagedClusterConditionAvailable',
              status: 'True',
              reason: 'ManagedClusterAvailable',
              message: '',
              lastTransitionTime: '2026-01-01T09:00:00Z',
            },
          ],
        },
      },
    ];
    expect(renderClusterTable(clusters, now)).toBe(
      [
        'NAME       ACCEPTED   AVAILABLE   CLUSTERSET   KUBERNETES VERSION   AGE',
        'cluster1   true       True                     v1.36.3              3h',
        'cluster2   false      Unknown     default                           30s',
        '',
      ].join('\n'),
    );
  });

  it('formats ages like kubectl', () => {
    expect(formatAge('2026-01-01T11:58:00Z', now)).toBe('2m');
    expect(formatAge('2025-12-29T12:00:00Z', now)).toBe('3d');
    expect(formatAge(undefined, now)).toBe('<unknown>');
  });
});
