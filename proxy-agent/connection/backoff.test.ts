import { describe, expect, it } from 'vitest';

import { AgentError } from '../errors.ts';
import { Backoff, resolveBackoffOptions } from './backoff.ts';

/** random() values that give u = -1, 0 and ~+1 in the jitter formula. */
const LOW = () => 0;
const MID = () => 0.5;
const HIGH = () => 0.999_999;

function take(backoff: Backoff, n: number): number[] {
  return Array.from({ length: n }, () => backoff.next());
}

describe('Backoff', () => {
  it.each([
    {
      name: 'defaults without jitter (u = 0)',
      options: {},
      random: MID,
      expected: [1000, 1600, 2560, 4096, 6554, 10486, 16777, 26844, 30000, 30000],
    },
    {
      name: 'lowest jitter takes 20 % off',
      options: {},
      random: LOW,
      expected: [800, 1280, 2048, 3277, 5243, 8389, 13422, 21475, 24000, 24000],
    },
    {
      name: 'highest jitter adds up to 20 %',
      options: {},
      random: HIGH,
      expected: [1200, 1920, 3072, 4915, 7864, 12583, 20133, 32212, 36000, 36000],
    },
    {
      name: 'small test schedule',
      options: { initialMs: 10, maxMs: 40, multiplier: 2, jitter: 0 },
      random: HIGH,
      expected: [10, 20, 40, 40],
    },
    {
      name: 'multiplier 1 is a constant interval',
      options: { initialMs: 50, maxMs: 50, multiplier: 1, jitter: 0 },
      random: LOW,
      expected: [50, 50, 50],
    },
  ])('$name', ({ options, random, expected }) => {
    expect(take(new Backoff(options, random), expected.length)).toEqual(expected);
  });

  it('stays within ±jitter of the base delay for any random value', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const backoff = new Backoff({}, random);
    let base = 1000;
    for (let i = 0; i < 50; i++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
      base = Math.min(base * 1.6, 30_000);
    }
  });

  it('reset() starts over and clears the attempt count', () => {
    const backoff = new Backoff({ jitter: 0 });
    take(backoff, 4);
    expect(backoff.attempts).toBe(4);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(take(backoff, 2)).toEqual([1000, 1600]);
  });

  it.each([
    {
      name: 'lowest jitter: exactly what the server asked',
      random: LOW,
      serverMs: 5_000,
      expected: 5_000,
    },
    { name: 'highest jitter: up to 20 % later', random: HIGH, serverMs: 5_000, expected: 6_000 },
    { name: 'capped at MAX_PUSHBACK_MS', random: LOW, serverMs: 10_000_000, expected: 120_000 },
  ])('pushback(): $name', ({ random, serverMs, expected }) => {
    expect(new Backoff({}, random).pushback(serverMs)).toBe(expected);
  });

  it('pushback() leaves the schedule where it is', () => {
    const backoff = new Backoff({ jitter: 0 });
    backoff.next();
    backoff.pushback(7_000);
    backoff.pushback(9_000);
    expect([backoff.attempts, backoff.next()]).toEqual([1, 1600]);
  });

  it('atMax() jumps to the ceiling and stays there', () => {
    const backoff = new Backoff({ jitter: 0 });
    expect(backoff.atMax()).toBe(30_000);
    expect(backoff.next()).toBe(30_000);
    backoff.reset();
    expect(backoff.next()).toBe(1000);
  });
});

describe('resolveBackoffOptions', () => {
  it.each([
    { name: 'initialMs 0', options: { initialMs: 0 }, field: 'initialMs' },
    { name: 'initialMs NaN', options: { initialMs: Number.NaN }, field: 'initialMs' },
    { name: 'maxMs below initialMs', options: { initialMs: 100, maxMs: 50 }, field: 'maxMs' },
    { name: 'multiplier below 1', options: { multiplier: 0.5 }, field: 'multiplier' },
    { name: 'negative jitter', options: { jitter: -0.1 }, field: 'jitter' },
    { name: 'jitter above 1', options: { jitter: 1.5 }, field: 'jitter' },
  ])('rejects $name', ({ options, field }) => {
    expect(() => resolveBackoffOptions(options)).toThrow(AgentError);
    expect(() => resolveBackoffOptions(options)).toThrow(
      expect.objectContaining({
        code: 'AGENT_ERR_INVALID_OPTIONS',
        message: expect.stringContaining(`backoff.${field}`),
      }),
    );
  });

  it('applies the documented defaults', () => {
    expect(resolveBackoffOptions()).toEqual({
      initialMs: 1000,
      maxMs: 30_000,
      multiplier: 1.6,
      jitter: 0.2,
    });
  });
});
