import { describe, expect, it } from 'vitest';

import type { LabelSelector } from '../../api/index.ts';
import { compileLabelSelector } from './label-selector.ts';

const labels = { env: 'prod', tier: 'web', 'example.com/zone': 'a' };

describe('compileLabelSelector', () => {
  it.each<{ name: string; selector: LabelSelector; matches: boolean }>([
    { name: 'empty selects everything', selector: {}, matches: true },
    { name: 'matchLabels equal', selector: { matchLabels: { env: 'prod' } }, matches: true },
    { name: 'matchLabels differ', selector: { matchLabels: { env: 'dev' } }, matches: false },
    { name: 'matchLabels missing key', selector: { matchLabels: { gpu: 'true' } }, matches: false },
    {
      name: 'matchLabels and expressions are ANDed',
      selector: {
        matchLabels: { env: 'prod' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }],
      },
      matches: false,
    },
    {
      name: 'In',
      selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db', 'web'] }] },
      matches: true,
    },
    {
      name: 'In without the label',
      selector: { matchExpressions: [{ key: 'gpu', operator: 'In', values: ['true'] }] },
      matches: false,
    },
    {
      name: 'NotIn with another value',
      selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] },
      matches: true,
    },
    {
      name: 'NotIn with the value',
      selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      matches: false,
    },
    {
      name: 'NotIn without the label',
      selector: { matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['true'] }] },
      matches: true,
    },
    {
      name: 'Exists with a prefixed key',
      selector: { matchExpressions: [{ key: 'example.com/zone', operator: 'Exists' }] },
      matches: true,
    },
    {
      name: 'Exists without the label',
      selector: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] },
      matches: false,
    },
    {
      name: 'DoesNotExist',
      selector: { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] },
      matches: true,
    },
    {
      name: 'DoesNotExist with the label',
      selector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist', values: [] }] },
      matches: false,
    },
  ])('$name', ({ selector, matches }) => {
    const result = compileLabelSelector(selector);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.selector.matches(labels)).toBe(matches);
  });

  it('does not read labels inherited from Object.prototype', () => {
    const result = compileLabelSelector({
      matchExpressions: [{ key: 'constructor', operator: 'Exists' }],
    });
    expect(result.ok && result.selector.matches({})).toBe(false);
  });

  it.each<{ name: string; selector: LabelSelector; message: string }>([
    {
      name: 'an unknown operator',
      selector: { matchExpressions: [{ key: 'env', operator: 'in', values: ['prod'] }] },
      message:
        'matchExpressions: env: "in" is not a label selector operator (In, NotIn, Exists, DoesNotExist)',
    },
    {
      name: 'In without values',
      selector: { matchExpressions: [{ key: 'env', operator: 'In' }] },
      message: 'matchExpressions: env: operator In needs at least one value',
    },
    {
      name: 'NotIn with an empty list',
      selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: [] }] },
      message: 'matchExpressions: env: operator NotIn needs at least one value',
    },
    {
      name: 'Exists with values',
      selector: { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] },
      message: 'matchExpressions: env: operator Exists takes no values',
    },
    {
      name: 'a key with a space',
      selector: { matchLabels: { 'bad key': 'x' } },
      message: `matchLabels: key "bad key": the name must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`,
    },
    {
      name: 'a prefix that is not a DNS subdomain',
      selector: { matchExpressions: [{ key: 'Example.com/zone', operator: 'Exists' }] },
      message:
        'matchExpressions: key "Example.com/zone": the prefix must be a DNS subdomain of at most 253 characters',
    },
    {
      name: 'a value that is not a label value',
      selector: { matchExpressions: [{ key: 'url', operator: 'In', values: ['https://x'] }] },
      message: `matchExpressions: url: value "https://x": must be empty or at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`,
    },
    {
      name: 'a matchLabels value longer than 63 characters',
      selector: { matchLabels: { env: 'x'.repeat(64) } },
      message: `matchLabels: value "${'x'.repeat(64)}": must be empty or at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`,
    },
  ])('refuses $name', ({ selector, message }) => {
    expect(compileLabelSelector(selector)).toEqual({ ok: false, message });
  });
});
