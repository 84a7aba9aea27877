import { describe, expect, it } from 'vitest';

import { chartUrl, parseChartIndex, satisfiesConstraint, selectCharts } from './chart-index.ts';

const INDEX = `apiVersion: v1
entries:
  web:
    - name: web
      version: 1.0.0
      digest: aaa
      urls: [web-1.0.0.tgz]
    - name: web
      version: 1.2.3
      digest: bbb
      urls: [https://charts.example.com/web-1.2.3.tgz]
    - name: web
      version: 2.0.0-rc.1
      urls: [web-2.0.0-rc.1.tgz]
    - name: web
      version: 2.1.0
      urls: [web-2.1.0.tgz]
  db:
    - name: db
      version: v0.3.0
      urls: [db-0.3.0.tgz]
    - name: db
      version: not-a-version
      urls: [db-x.tgz]
generated: "2026-01-02T03:04:05Z"
`;
const index = parseChartIndex(INDEX, 'index.yaml');

describe('satisfiesConstraint (Masterminds-style)', () => {
  it.each([
    { version: '1.2.3', constraint: '', expected: true },
    { version: '1.2.3', constraint: '>=1.0.0, <2.0.0', expected: true },
    { version: '2.1.0', constraint: '>= 1.0.0, < 2.0.0', expected: false },
    { version: '1.2.3', constraint: '~1.2', expected: true },
    { version: '1.3.0', constraint: '~1.2', expected: false },
    { version: '1.9.0', constraint: '^1.2.0', expected: true },
    { version: '1.2.3', constraint: '1.2.x', expected: true },
    { version: '1.2.3', constraint: '<1.0.0 || >=1.2.0', expected: true },
    { version: '1.2.3', constraint: '>=1.0.0, !=1.2.3', expected: false },
    { version: '2.0.0-rc.1', constraint: '>=1.0.0', expected: false },
    { version: 'v0.3.0', constraint: '0.3.0', expected: true },
    { version: 'not-a-version', constraint: '', expected: false },
  ])('$version in "$constraint" → $expected', ({ version, constraint, expected }) => {
    expect(satisfiesConstraint(version, constraint)).toBe(expected);
  });

  it('refuses a constraint it cannot read', () => {
    expect(() => satisfiesConstraint('1.0.0', '>>banana')).toThrow(
      'packageFilter.version ">>banana" is not a version constraint',
    );
  });
});

describe('selectCharts', () => {
  const pick = (query: Parameters<typeof selectCharts>[1]) =>
    selectCharts(index, query).map((c) => `${c.name}-${c.version}`);
  it.each([
    { name: 'the highest release', query: { name: 'web' }, expected: ['web-2.1.0'] },
    {
      name: 'the highest in range',
      query: { name: 'web', version: '<2.0.0' },
      expected: ['web-1.2.3'],
    },
    { name: 'by digest', query: { name: 'web', digest: 'aaa' }, expected: ['web-1.0.0'] },
    { name: 'every chart when unnamed (OCM)', query: {}, expected: ['db-v0.3.0', 'web-2.1.0'] },
  ])('$name', ({ query, expected }) => {
    expect(pick(query)).toEqual(expected);
  });

  it.each([
    { query: { name: 'cache' }, message: 'chart "cache" is not in the repository index' },
    {
      query: { name: 'web', version: '>=3.0.0' },
      message: 'no version of chart "web" matches version ">=3.0.0"',
    },
    {
      query: { name: 'web', version: '>=1.0.0', digest: 'zzz' },
      message: 'no version of chart "web" matches version ">=1.0.0" and digest zzz',
    },
  ])('refuses $query', ({ query, message }) => {
    expect(() => selectCharts(index, query)).toThrow(message);
  });
});

describe('parseChartIndex and chartUrl', () => {
  it('refuses a document without entries', () => {
    expect(() => parseChartIndex('apiVersion: v1\n', 'http://x/index.yaml')).toThrow(
      'http://x/index.yaml is not a Helm repository index (no entries)',
    );
  });

  it('resolves relative URLs against the repository and keeps absolute ones', () => {
    const [web] = selectCharts(index, { name: 'web', version: '1.0.0' });
    expect(chartUrl('http://127.0.0.1:8080/charts', web!).href).toBe(
      'http://127.0.0.1:8080/charts/web-1.0.0.tgz',
    );
    const [abs] = selectCharts(index, { name: 'web', version: '1.2.3' });
    expect(chartUrl('http://127.0.0.1:8080/charts', abs!).href).toBe(
      'https://charts.example.com/web-1.2.3.tgz',
    );
  });

  it('refuses non-http chart URLs', () => {
    expect(() =>
      chartUrl('http://h/', { name: 'x', version: '1.0.0', urls: ['file:///etc/passwd'] }),
    ).toThrow('chart "x" is at a file: URL; only http and https are fetched');
  });
});
