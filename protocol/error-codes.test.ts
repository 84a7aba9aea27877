import { describe, expect, it } from 'vitest';

import {
  DIAL_FAILURE_MESSAGES,
  DIAL_FAILURE_REASONS,
  DIAL_FAILURE_WIRE,
  STREAM_RESET_CODES,
  STREAM_RESET_WIRE,
  classifyDialError,
  dialFailureFromWire,
  streamResetFromWire,
  type DialFailureReason,
} from './error-codes.ts';

describe('wire numbers', () => {
  it.each([
    ['dial failures', DIAL_FAILURE_REASONS, DIAL_FAILURE_WIRE, dialFailureFromWire],
    ['stream resets', STREAM_RESET_CODES, STREAM_RESET_WIRE, streamResetFromWire],
  ] as const)(
    '%s: every code has a distinct non-zero number that maps back',
    (_name, codes, wire, fromWire) => {
      const numbers = codes.map((code) => (wire as Record<string, number>)[code]);
      expect(new Set(numbers).size).toBe(codes.length);
      expect(numbers.every((n) => n !== undefined && n > 0)).toBe(true);
      expect(Object.keys(wire).sort()).toEqual([...codes].sort());
      for (const code of codes)
        expect(
          (fromWire as (n: number) => string | undefined)((wire as Record<string, number>)[code]!),
        ).toBe(code);
    },
  );

  it('0 means no code; unknown numbers from newer peers map to internal', () => {
    expect([dialFailureFromWire(0), streamResetFromWire(0)]).toEqual([undefined, undefined]);
    expect([dialFailureFromWire(99), streamResetFromWire(-3)]).toEqual(['internal', 'internal']);
  });
});

describe('classifyDialError (peers without error-codes)', () => {
  it.each<[string, DialFailureReason]>([
    ['No agent available', 'no-agent'],
    ['dial tcp 10.0.0.1:443: connect: connection refused', 'refused'],
    ['dial tcp 10.0.0.1:443: i/o timeout', 'timeout'],
    ['context deadline exceeded', 'timeout'],
    ['dial timeout, backstop', 'timeout'],
    ['dial tcp: lookup nope.svc on 10.96.0.10:53: no such host', 'dns'],
    ['dial tcp: lookup x on 1.1.1.1:53: i/o timeout', 'dns'],
    ['dial tcp 10.0.0.1:443: connect: no route to host', 'unreachable'],
    ['dial tcp 10.0.0.1:443: connect: network is unreachable', 'unreachable'],
    ['dial closed', 'canceled'],
    ['socket: too many open files', 'overloaded'],
    ['something nobody expected', 'internal'],
  ])('%j → %s', (message, reason) => {
    expect(classifyDialError(message)).toBe(reason);
  });

  it.each(DIAL_FAILURE_REASONS.map((r) => [r]))(
    'our own message for %s classifies back to it',
    (reason) => {
      expect(DIAL_FAILURE_MESSAGES[reason].length).toBeGreaterThan(0);
      expect(classifyDialError(DIAL_FAILURE_MESSAGES[reason])).toBe(reason);
    },
  );
});
