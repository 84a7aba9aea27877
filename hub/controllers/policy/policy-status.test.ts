import { describe, expect, it } from 'vitest';

import { eventName, isDue, MAX_HISTORY, parseInterval, replicaStatus } from './policy-status.ts';

const T0 = new Date('2026-01-02T03:04:05.678Z');

describe('replicaStatus', () => {
  it('adds a history entry named after the replica and the time, newest first', () => {
    const first = replicaStatus(
      'policies.p1',
      undefined,
      [{ name: 'cp', compliant: 'NonCompliant', message: 'NonCompliant; violation - x' }],
      T0,
    );
    expect(first).toEqual({
      compliant: 'NonCompliant',
      details: [
        {
          compliant: 'NonCompliant',
          templateMeta: { name: 'cp' },
          history: [
            {
              eventName: eventName('policies.p1', T0),
              lastTimestamp: '2026-01-02T03:04:05Z',
              message: 'NonCompliant; violation - x',
            },
          ],
        },
      ],
    });
    expect(eventName('policies.p1', T0)).toBe(
      `policies.p1.${(BigInt(T0.getTime()) * 1_000_000n).toString(16)}`,
    );
    const later = new Date(T0.getTime() + 1000);
    const second = replicaStatus(
      'policies.p1',
      first,
      [{ name: 'cp', compliant: 'Compliant', message: 'Compliant; notification - y' }],
      later,
    );
    expect(second.compliant).toBe('Compliant');
    expect(second.details?.[0]?.history?.map((h) => h.message)).toEqual([
      'Compliant; notification - y',
      'NonCompliant; violation - x',
    ]);
  });

  it('does not repeat the newest message and keeps at most ten entries', () => {
    let status = replicaStatus('r', undefined, [], T0);
    for (let i = 0; i < 15; i++) {
      const at = new Date(T0.getTime() + i * 1000);
      const message = `NonCompliant; violation - ${i}`;
      status = replicaStatus('r', status, [{ name: 'cp', compliant: 'NonCompliant', message }], at);
      status = replicaStatus('r', status, [{ name: 'cp', compliant: 'NonCompliant', message }], at);
    }
    const history = status.details?.[0]?.history ?? [];
    expect(history).toHaveLength(MAX_HISTORY);
    expect(history[0]?.message).toBe('NonCompliant; violation - 14');
    expect(history[9]?.message).toBe('NonCompliant; violation - 5');
  });

  it('aggregates over templates: NonCompliant wins over Pending over Compliant', () => {
    const status = replicaStatus(
      'r',
      { compliant: 'Compliant', placement: [] },
      [
        { name: 'a', compliant: 'Compliant', message: 'Compliant; notification - a' },
        { name: 'b', compliant: 'NonCompliant', message: 'NonCompliant; violation - b' },
      ],
      T0,
    );
    expect(status.compliant).toBe('NonCompliant');
    expect(status.placement).toEqual([]);
  });
});

describe('evaluationInterval', () => {
  it.each([
    [undefined, 'watch'],
    ['watch', 'watch'],
    ['never', 'never'],
    ['10s', 10_000],
    ['1h30m', 5_400_000],
    ['1.5m', 90_000],
    ['250ms', 250],
    ['10 s', undefined],
    ['soon', undefined],
  ] as const)('%s → %s', (text, expected) => {
    expect(parseInterval(text)).toBe(expected);
  });

  it('is due always for watch, never for never, after the interval otherwise', () => {
    expect(isDue('watch', 0, 1)).toEqual({ isDue: true });
    expect(isDue('never', 0, 1e9)).toEqual({ isDue: false });
    expect(isDue(10_000, 1_000, 5_000)).toEqual({ isDue: false, waitMs: 6_000 });
    expect(isDue(10_000, 1_000, 11_000)).toEqual({ isDue: true, waitMs: 10_000 });
  });
});
