import { describe, expect, it } from 'vitest';

import {
  formatMicroTime,
  newLease,
  recordOf,
  sameRecord,
  withRecord,
  type LeaseObject,
  type LeaseRecord,
} from './lease-record.ts';

const RECORD: LeaseRecord = {
  holderIdentity: 'hub-a',
  leaseDurationSeconds: 15,
  acquireTime: '2026-01-02T03:04:05.000000Z',
  renewTime: '2026-01-02T03:04:07.250000Z',
  leaseTransitions: 3,
};

describe('formatMicroTime', () => {
  it('writes six fractional digits, as metav1.MicroTime requires', () => {
    expect(formatMicroTime(new Date('2026-01-02T03:04:05.678Z'))).toBe(
      '2026-01-02T03:04:05.678000Z',
    );
    expect(formatMicroTime(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000000Z');
  });
});

describe('recordOf', () => {
  it.each<{ name: string; lease: LeaseObject; expected: LeaseRecord }>([
    {
      name: 'a Lease without spec holds the empty record',
      lease: { metadata: { name: 'l' } },
      expected: {
        holderIdentity: '',
        leaseDurationSeconds: 0,
        acquireTime: undefined,
        renewTime: undefined,
        leaseTransitions: 0,
      },
    },
    {
      name: 'all five fields are read as they are',
      lease: {
        spec: {
          holderIdentity: 'hub-a',
          leaseDurationSeconds: 15,
          acquireTime: RECORD.acquireTime as string,
          renewTime: RECORD.renewTime as string,
          leaseTransitions: 3,
        },
      },
      expected: RECORD,
    },
    {
      name: 'nonsense counts read as 0 and empty times as missing',
      lease: {
        spec: {
          holderIdentity: 'x',
          leaseDurationSeconds: -1,
          leaseTransitions: 1.5,
          renewTime: '',
        },
      },
      expected: {
        holderIdentity: 'x',
        leaseDurationSeconds: 0,
        acquireTime: undefined,
        renewTime: undefined,
        leaseTransitions: 0,
      },
    },
  ])('$name', ({ lease, expected }) => {
    expect(recordOf(lease)).toEqual(expected);
  });
});

describe('withRecord', () => {
  it('replaces the record and keeps metadata (the resourceVersion) and other spec fields', () => {
    const lease: LeaseObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', namespace: 'ns', resourceVersion: '42', labels: { a: 'b' } },
      spec: { holderIdentity: 'old', renewTime: 'x', strategy: 'OldestEmulationVersion' },
    };
    const released: LeaseRecord = {
      ...RECORD,
      holderIdentity: '',
      acquireTime: undefined,
      renewTime: undefined,
    };
    expect(withRecord(lease, released)).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', namespace: 'ns', resourceVersion: '42', labels: { a: 'b' } },
      spec: {
        holderIdentity: '',
        leaseDurationSeconds: 15,
        leaseTransitions: 3,
        strategy: 'OldestEmulationVersion',
      },
    });
    expect(recordOf(withRecord(lease, RECORD))).toEqual(RECORD);
  });

  it('newLease carries the record and no resourceVersion', () => {
    const lease = newLease('ns', 'l', RECORD);
    expect(lease.metadata).toEqual({ name: 'l', namespace: 'ns' });
    expect(recordOf(lease)).toEqual(RECORD);
  });
});

describe('sameRecord', () => {
  it.each<[keyof LeaseRecord, unknown]>([
    ['holderIdentity', 'hub-b'],
    ['leaseDurationSeconds', 16],
    ['acquireTime', undefined],
    ['renewTime', '2026-01-02T03:04:09.250000Z'],
    ['leaseTransitions', 4],
  ])('a different %s is a different record', (field, value) => {
    expect(sameRecord(RECORD, { ...RECORD })).toBe(true);
    expect(sameRecord(RECORD, { ...RECORD, [field]: value })).toBe(false);
  });
});
