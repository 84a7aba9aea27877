import { describe, expect, it } from 'vitest';

import {
  acquireDelayMs,
  decide,
  expiresInMs,
  initialRecord,
  isLeaseValid,
  observe,
  releasedRecord,
  type Decision,
  type Observation,
} from './election-decision.ts';
import type { LeaseRecord } from './lease-record.ts';

const WALL = new Date('2026-03-04T05:06:07.089Z');
const WALL_TEXT = '2026-03-04T05:06:07.089000Z';
const ME = 'hub-a';

const held = (holderIdentity: string, more: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity,
  leaseDurationSeconds: 15,
  acquireTime: '2026-03-04T05:00:00.000000Z',
  renewTime: '2026-03-04T05:06:00.000000Z',
  leaseTransitions: 2,
  ...more,
});

describe('observe', () => {
  it('keeps the first time a record was seen while it does not change', () => {
    const first = observe(undefined, held('hub-b'), 1_000);
    expect(first.observedAtMs).toBe(1_000);
    expect(observe(first, held('hub-b'), 9_000)).toBe(first);
  });

  it('restarts the countdown when the record changes (a renewal)', () => {
    const first = observe(undefined, held('hub-b'), 1_000);
    const renewed = held('hub-b', { renewTime: '2026-03-04T05:06:02.000000Z' });
    expect(observe(first, renewed, 9_000)).toEqual({ record: renewed, observedAtMs: 9_000 });
  });
});

describe('isLeaseValid', () => {
  it.each<{ name: string; observation: Observation; nowMs: number; valid: boolean }>([
    {
      name: 'held, seen less than leaseDuration ago',
      observation: { record: held('hub-b'), observedAtMs: 1_000 },
      nowMs: 15_999,
      valid: true,
    },
    {
      name: 'held, unchanged for exactly leaseDuration: expired',
      observation: { record: held('hub-b'), observedAtMs: 1_000 },
      nowMs: 16_000,
      valid: false,
    },
    {
      name: 'released (no holder), however recent',
      observation: { record: held('', { leaseDurationSeconds: 1 }), observedAtMs: 1_000 },
      nowMs: 1_000,
      valid: false,
    },
    {
      name: 'no duration in the record',
      observation: { record: held('hub-b', { leaseDurationSeconds: 0 }), observedAtMs: 1_000 },
      nowMs: 1_000,
      valid: false,
    },
  ])('$name → $valid', ({ observation, nowMs, valid }) => {
    expect(isLeaseValid(observation, nowMs)).toBe(valid);
  });

  it('counts down from the observation by the local clock, whatever renewTime says', () => {
    // renewTime is hours in the future (a skewed clock): it plays no part.
    const record = held('hub-b', { renewTime: '2026-03-04T09:00:00.000000Z' });
    expect(expiresInMs({ record, observedAtMs: 5_000 }, 12_000)).toBe(8_000);
  });
});

describe('decide', () => {
  it.each<{
    name: string;
    record: LeaseRecord;
    observedAtMs: number;
    nowMs: number;
    expected: Decision;
  }>([
    {
      name: 'another holder, not expired: wait',
      record: held('hub-b'),
      observedAtMs: 0,
      nowMs: 10_000,
      expected: { kind: 'wait', holder: 'hub-b', expiresInMs: 5_000 },
    },
    {
      name: 'another holder, expired: take over, one more transition',
      record: held('hub-b'),
      observedAtMs: 0,
      nowMs: 15_000,
      expected: {
        kind: 'write',
        isTransition: true,
        record: {
          holderIdentity: ME,
          leaseDurationSeconds: 10,
          acquireTime: WALL_TEXT,
          renewTime: WALL_TEXT,
          leaseTransitions: 3,
        },
      },
    },
    {
      name: 'released: take over at once, one more transition',
      record: held('', { leaseDurationSeconds: 1 }),
      observedAtMs: 0,
      nowMs: 0,
      expected: {
        kind: 'write',
        isTransition: true,
        record: {
          holderIdentity: ME,
          leaseDurationSeconds: 10,
          acquireTime: WALL_TEXT,
          renewTime: WALL_TEXT,
          leaseTransitions: 3,
        },
      },
    },
    {
      name: 'ours and valid: renew, keeping acquireTime and the count',
      record: held(ME),
      observedAtMs: 0,
      nowMs: 1_000,
      expected: {
        kind: 'write',
        isTransition: false,
        record: {
          holderIdentity: ME,
          leaseDurationSeconds: 10,
          acquireTime: '2026-03-04T05:00:00.000000Z',
          renewTime: WALL_TEXT,
          leaseTransitions: 2,
        },
      },
    },
    {
      name: 'ours but expired (e.g. after a restart with the same identity): still ours, no transition',
      record: held(ME),
      observedAtMs: 0,
      nowMs: 60_000,
      expected: {
        kind: 'write',
        isTransition: false,
        record: {
          holderIdentity: ME,
          leaseDurationSeconds: 10,
          acquireTime: '2026-03-04T05:00:00.000000Z',
          renewTime: WALL_TEXT,
          leaseTransitions: 2,
        },
      },
    },
    {
      name: 'written by hand without times or counts: taken over from 0',
      record: {
        holderIdentity: '',
        leaseDurationSeconds: 0,
        acquireTime: undefined,
        renewTime: undefined,
        leaseTransitions: 0,
      },
      observedAtMs: 0,
      nowMs: 0,
      expected: {
        kind: 'write',
        isTransition: true,
        record: {
          holderIdentity: ME,
          leaseDurationSeconds: 10,
          acquireTime: WALL_TEXT,
          renewTime: WALL_TEXT,
          leaseTransitions: 1,
        },
      },
    },
  ])('$name', ({ record, observedAtMs, nowMs, expected }) => {
    const decision = decide({
      identity: ME,
      observation: { record, observedAtMs },
      nowMs,
      wallNow: WALL,
      leaseDurationSeconds: 10,
    });
    expect(decision).toEqual(expected);
  });
});

describe('records written', () => {
  it('creating: held by us, no transitions, acquired now', () => {
    expect(initialRecord(ME, 15, WALL)).toEqual({
      holderIdentity: ME,
      leaseDurationSeconds: 15,
      acquireTime: WALL_TEXT,
      renewTime: WALL_TEXT,
      leaseTransitions: 0,
    });
  });

  it('releasing: no holder, 1 s, times of now, the count unchanged', () => {
    expect(releasedRecord(held(ME), WALL)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: WALL_TEXT,
      renewTime: WALL_TEXT,
      leaseTransitions: 2,
    });
  });
});

describe('acquireDelayMs', () => {
  it.each([
    [0, 2_000],
    [0.5, 3_200],
    [0.999_999, 4_399],
  ])('random %d → %d ms (retryPeriod × [1, 2.2))', (random, expected) => {
    expect(acquireDelayMs(2_000, random)).toBe(expected);
  });
});
