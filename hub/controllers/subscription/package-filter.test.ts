import { describe, expect, it } from 'vitest';

import type { LabelSelector } from '../../api/index.ts';
import {
  applyPackageOverrides,
  filterResources,
  matchesLabelSelector,
  setPath,
  type SourceObject,
} from './package-filter.ts';

const cm = (
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): SourceObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels, annotations },
  data: { a: '1' },
});

describe('matchesLabelSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each<{ name: string; selector: LabelSelector | undefined; expected: boolean }>([
    { name: 'no selector', selector: undefined, expected: true },
    { name: 'matching labels', selector: { matchLabels: { app: 'web' } }, expected: true },
    { name: 'a different value', selector: { matchLabels: { app: 'db' } }, expected: false },
    {
      name: 'In',
      selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] },
      expected: true,
    },
    {
      name: 'NotIn',
      selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] },
      expected: false,
    },
    {
      name: 'Exists',
      selector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
      expected: true,
    },
    {
      name: 'DoesNotExist',
      selector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] },
      expected: false,
    },
  ])('$name → $expected', ({ selector, expected }) => {
    expect(matchesLabelSelector(labels, selector)).toBe(expected);
  });

  it('refuses an unknown operator', () => {
    expect(() =>
      matchesLabelSelector(labels, { matchExpressions: [{ key: 'a', operator: 'Gt' }] }),
    ).toThrow('packageFilter.labelSelector has the unknown operator "Gt"');
  });
});

describe('filterResources', () => {
  const objects = [
    cm('a', { app: 'web' }, { team: 'x' }),
    cm('b', { app: 'db' }),
    cm('c', { app: 'web' }),
  ];
  const names = (list: SourceObject[]) => list.map((o) => o.metadata?.name);
  it.each([
    {
      name: 'no filter keeps all, even with spec.name (OCM quirk)',
      spec: { name: 'a' },
      expected: ['a', 'b', 'c'],
    },
    { name: 'spec.name with a filter', spec: { name: 'a', packageFilter: {} }, expected: ['a'] },
    {
      name: 'labels',
      spec: { packageFilter: { labelSelector: { matchLabels: { app: 'web' } } } },
      expected: ['a', 'c'],
    },
    {
      name: 'annotations',
      spec: { packageFilter: { annotations: { team: 'x' } } },
      expected: ['a'],
    },
  ])('$name', ({ spec, expected }) => {
    expect(names(filterResources(objects, spec))).toEqual(expected);
  });
});

describe('applyPackageOverrides', () => {
  it('sets dotted paths on the named resources only, leaving the inputs unchanged', () => {
    const objects = [cm('a'), cm('b')];
    const out = applyPackageOverrides(objects, [
      {
        packageName: 'a',
        packageOverrides: [
          { path: 'data.a', value: '2' },
          { path: 'metadata.labels.x', value: 'y' },
        ],
      },
    ]);
    expect(out[0]).toMatchObject({ data: { a: '2' }, metadata: { labels: { x: 'y' } } });
    expect(out[1]).toBe(objects[1]);
    expect(objects[0]?.['data']).toEqual({ a: '1' });
  });

  it.each(['', '__proto__.polluted', 'a.constructor'])('refuses the path "%s"', (path) => {
    expect(() => setPath({}, path, 1)).toThrow(`packageOverrides path "${path}" is not valid`);
  });

  it('refuses an override without a path', () => {
    expect(() =>
      applyPackageOverrides([cm('a')], [{ packageName: 'a', packageOverrides: [{ value: 1 }] }]),
    ).toThrow('packageOverrides of "a" has an entry without a path');
  });
});
