// Quantity parsing, canonical printing and sums, against what the API server prints.
import { describe, expect, it } from 'vitest';

import { formatQuantity, parseQuantity, sumQuantities } from './quantity.ts';

describe('quantities', () => {
  it.each([
    ['4', 4_000_000_000n, 'DecimalSI'],
    ['500m', 500_000_000n, 'DecimalSI'],
    ['1.5', 1_500_000_000n, 'DecimalSI'],
    ['.5k', 500_000_000_000n, 'DecimalSI'],
    ['16Gi', 16n * 1024n ** 3n * 10n ** 9n, 'BinarySI'],
    ['1E', 10n ** 27n, 'DecimalSI'],
    ['1e3', 1000n * 10n ** 9n, 'DecimalExponent'],
    ['1E-3', 1_000_000n, 'DecimalExponent'],
    ['-2', -2_000_000_000n, 'DecimalSI'],
    ['0.1n', 1n, 'DecimalSI'], // below a nano-unit: rounded up
  ])('parses %s', (text, nanos, format) => {
    expect(parseQuantity(text)).toEqual({ nanos, format });
  });

  it.each(['', 'abc', '1Ki2', '1 Gi', '1.2.3', '1Xi', '1e999'])('refuses %j', (text) => {
    expect(() => parseQuantity(text)).toThrow(TypeError);
  });

  it.each([
    ['4', '4'],
    ['2000', '2k'],
    ['1500', '1500'],
    ['0.5', '500m'],
    ['16384Ki', '16Mi'],
    ['1536Mi', '1536Mi'],
    ['0.5Ki', '512'], // BinarySI under 1024 prints as DecimalSI
    ['1.5Ki', '1536'],
    ['1e3', '1e3'],
    ['0', '0'],
  ])('prints %s canonically as %s', (text, printed) => {
    expect(formatQuantity(parseQuantity(text))).toBe(printed);
  });

  it.each([
    { terms: ['4', '8'], sum: '12' },
    { terms: ['500m', '1500m'], sum: '2' },
    { terms: ['1', '500m'], sum: '1500m' },
    { terms: ['16318736Ki', '16318736Ki'], sum: '32637472Ki' },
    { terms: ['1Gi', '512Mi'], sum: '1536Mi' },
    { terms: ['0', '1Gi'], sum: '1Gi' }, // the format of the first non-zero term
    { terms: ['1k', '1Ki'], sum: '2024' },
    { terms: ['110', '110', '110'], sum: '330' },
  ])('sums $terms to $sum', ({ terms, sum }) => {
    expect(sumQuantities(terms)).toBe(sum);
  });
});
