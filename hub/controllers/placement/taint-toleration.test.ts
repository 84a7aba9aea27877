import { describe, expect, it } from 'vitest';

import type { ManagedCluster, Taint, Toleration } from '../../api/index.ts';
import { clusterTolerated, tolerationsProblem } from './taint-toleration.ts';

const NOW = new Date('2026-03-01T10:00:00Z');
const ADDED = '2026-03-01T09:59:00Z'; // 60 s before NOW
const UNREACHABLE = 'cluster.open-cluster-management.io/unreachable';
const UNAVAILABLE = 'cluster.open-cluster-management.io/unavailable';

function tainted(...taints: Taint[]): ManagedCluster {
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1',
    kind: 'ManagedCluster',
    metadata: { name: 'c1' },
    spec: { taints },
  };
}

const unreachable: Taint = { key: UNREACHABLE, effect: 'NoSelect', timeAdded: ADDED };
const gpu: Taint = { key: 'gpu', value: 'true', effect: 'NoSelect', timeAdded: ADDED };

describe('clusterTolerated', () => {
  it.each<{
    name: string;
    taints: Taint[];
    tolerations: Toleration[];
    isDecided?: boolean;
    expected: { tolerated: boolean; expiresAtMs?: number };
  }>([
    { name: 'no taint', taints: [], tolerations: [], expected: { tolerated: true } },
    {
      name: 'NoSelect without toleration',
      taints: [unreachable],
      tolerations: [],
      expected: { tolerated: false },
    },
    {
      name: 'Exists on the key',
      taints: [unreachable],
      tolerations: [{ key: UNREACHABLE, operator: 'Exists' }],
      expected: { tolerated: true },
    },
    {
      name: 'Exists without key tolerates everything',
      taints: [unreachable, gpu],
      tolerations: [{ operator: 'Exists' }],
      expected: { tolerated: true },
    },
    {
      name: 'Equal with the value',
      taints: [gpu],
      tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true' }],
      expected: { tolerated: true },
    },
    {
      name: 'the operator defaults to Equal',
      taints: [gpu],
      tolerations: [{ key: 'gpu', value: 'true' }],
      expected: { tolerated: true },
    },
    {
      name: 'Equal with another value',
      taints: [gpu],
      tolerations: [{ key: 'gpu', operator: 'Equal', value: 'false' }],
      expected: { tolerated: false },
    },
    {
      name: 'Equal with an empty value matches a taint without value',
      taints: [unreachable],
      tolerations: [{ key: UNREACHABLE, operator: 'Equal' }],
      expected: { tolerated: true },
    },
    {
      name: 'an effect that differs',
      taints: [gpu],
      tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSelectIfNew' }],
      expected: { tolerated: false },
    },
    {
      name: 'an unknown operator tolerates nothing',
      taints: [gpu],
      tolerations: [{ key: 'gpu', operator: 'Lt', value: 'true' }],
      expected: { tolerated: false },
    },
    {
      name: 'one taint of two tolerated is not enough',
      taints: [unreachable, gpu],
      tolerations: [{ key: UNREACHABLE, operator: 'Exists' }],
      expected: { tolerated: false },
    },
    {
      name: 'PreferNoSelect never excludes',
      taints: [{ key: 'maint', effect: 'PreferNoSelect', timeAdded: ADDED }],
      tolerations: [],
      expected: { tolerated: true },
    },
    {
      name: 'NoSelectIfNew excludes a new cluster',
      taints: [{ key: 'maint', effect: 'NoSelectIfNew', timeAdded: ADDED }],
      tolerations: [],
      expected: { tolerated: false },
    },
    {
      name: 'NoSelectIfNew keeps a decided cluster',
      taints: [{ key: 'maint', effect: 'NoSelectIfNew', timeAdded: ADDED }],
      tolerations: [],
      isDecided: true,
      expected: { tolerated: true },
    },
    {
      name: 'NoSelect excludes a decided cluster too',
      taints: [unreachable],
      tolerations: [],
      isDecided: true,
      expected: { tolerated: false },
    },
    {
      name: 'tolerationSeconds not yet run out: tolerated until then',
      taints: [unreachable],
      tolerations: [{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 300 }],
      expected: { tolerated: true, expiresAtMs: Date.parse(ADDED) + 300_000 },
    },
    {
      name: 'tolerationSeconds run out',
      taints: [unreachable],
      tolerations: [{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 30 }],
      expected: { tolerated: false },
    },
    {
      name: 'tolerationSeconds run out exactly now',
      taints: [unreachable],
      tolerations: [{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 60 }],
      expected: { tolerated: false },
    },
    {
      name: 'tolerationSeconds with a taint without timeAdded: run out',
      taints: [{ key: UNREACHABLE, effect: 'NoSelect' }],
      tolerations: [{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 3600 }],
      expected: { tolerated: false },
    },
    {
      name: 'an expired toleration falls through to a later one',
      taints: [unreachable],
      tolerations: [
        { key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 10 },
        { key: UNREACHABLE, operator: 'Exists' },
      ],
      expected: { tolerated: true },
    },
    {
      name: 'the first tolerating toleration decides the expiry',
      taints: [unreachable],
      tolerations: [
        { key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 120 },
        { key: UNREACHABLE, operator: 'Exists' },
      ],
      expected: { tolerated: true, expiresAtMs: Date.parse(ADDED) + 120_000 },
    },
    {
      name: 'the earliest expiry over taints',
      taints: [unreachable, { key: UNAVAILABLE, effect: 'NoSelect', timeAdded: ADDED }],
      tolerations: [
        { key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 600 },
        { key: UNAVAILABLE, operator: 'Exists', tolerationSeconds: 90 },
      ],
      expected: { tolerated: true, expiresAtMs: Date.parse(ADDED) + 90_000 },
    },
  ])('$name', ({ taints, tolerations, isDecided, expected }) => {
    expect(clusterTolerated(tainted(...taints), tolerations, isDecided ?? false, NOW)).toEqual(
      expected,
    );
  });

  it('turns a tolerated cluster away once the time has passed', () => {
    const cluster = tainted(unreachable);
    const tolerations = [{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 120 }];
    expect(clusterTolerated(cluster, tolerations, true, NOW).tolerated).toBe(true);
    expect(
      clusterTolerated(cluster, tolerations, true, new Date(Date.parse(ADDED) + 120_000)).tolerated,
    ).toBe(false);
  });
});

describe('tolerationsProblem', () => {
  it.each<{ name: string; tolerations: Toleration[] | undefined; problem: string | undefined }>([
    { name: 'none', tolerations: undefined, problem: undefined },
    { name: 'Exists without key', tolerations: [{ operator: 'Exists' }], problem: undefined },
    {
      name: 'Equal without key',
      tolerations: [
        { key: 'a', operator: 'Exists' },
        { operator: 'Equal', value: 'x' },
      ],
      problem: 'tolerations[1]: a toleration without a key must use operator Exists',
    },
    {
      name: 'no key and the default operator',
      tolerations: [{ value: 'x' }],
      problem: 'tolerations[0]: a toleration without a key must use operator Exists',
    },
    {
      name: 'Exists with a value',
      tolerations: [{ key: 'gpu', operator: 'Exists', value: 'true' }],
      problem: 'tolerations[0]: operator Exists takes no value',
    },
  ])('$name', ({ tolerations, problem }) => {
    expect(tolerationsProblem(tolerations)).toBe(problem);
  });
});
