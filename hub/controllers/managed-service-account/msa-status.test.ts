// The status the controller writes: OCM's condition types and reasons, the token's real
// expiry, and nothing false after a failure.
import { describe, expect, it } from 'vitest';

import type { ManagedServiceAccountStatus } from '../../api/index.ts';
import { failedStatus, syncedStatus } from './msa-status.ts';

const T0 = new Date('2026-03-01T10:00:00.250Z');
const LATER = new Date('2026-03-01T11:00:00Z');
const EXPIRES = new Date('2026-03-02T10:00:00Z');

describe('the ManagedServiceAccount status', () => {
  it('reports a fresh token: both conditions True, its real expiry, the Secret', () => {
    const status = syncedStatus(
      undefined,
      { secretName: 'robot', expiresAt: EXPIRES, refreshedAt: T0 },
      T0,
    );
    expect(status).toEqual({
      conditions: [
        {
          type: 'SecretCreated',
          status: 'True',
          reason: 'SecretCreated',
          message: 'The token Secret robot is created on the hub.',
          lastTransitionTime: '2026-03-01T10:00:00Z',
        },
        {
          type: 'TokenReported',
          status: 'True',
          reason: 'TokenReported',
          message: 'The token of the ServiceAccount on the cluster is reported in the Secret.',
          lastTransitionTime: '2026-03-01T10:00:00Z',
        },
      ],
      expirationTimestamp: '2026-03-02T10:00:00Z',
      tokenSecretRef: { name: 'robot', lastRefreshTimestamp: '2026-03-01T10:00:00Z' },
    });
  });

  it('keeps lastRefreshTimestamp and transition times when the same token is kept', () => {
    const first = syncedStatus(
      undefined,
      { secretName: 'robot', expiresAt: EXPIRES, refreshedAt: T0 },
      T0,
    );
    const again = syncedStatus(
      first,
      { secretName: 'robot', expiresAt: EXPIRES, refreshedAt: undefined },
      LATER,
    );
    expect(again).toEqual(first);
  });

  it('says TokenReportFailed with the message and keeps what is still true', () => {
    const good = syncedStatus(
      undefined,
      { secretName: 'robot', expiresAt: EXPIRES, refreshedAt: T0 },
      T0,
    );
    const failed: ManagedServiceAccountStatus = failedStatus(good, 'it broke', LATER);
    expect(failed.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['SecretCreated', 'True', 'SecretCreated', 'The token Secret robot is created on the hub.'],
      ['TokenReported', 'False', 'TokenReportFailed', 'it broke'],
    ]);
    expect(failed.conditions?.[1]?.lastTransitionTime).toBe('2026-03-01T11:00:00Z');
    // The Secret still holds the last token; its expiry is still its expiry.
    expect(failed.expirationTimestamp).toBe(good.expirationTimestamp);
    expect(failed.tokenSecretRef).toEqual(good.tokenSecretRef);
    // Failing before any Secret: only TokenReported.
    expect(failedStatus(undefined, 'no', T0).conditions?.map((c) => c.type)).toEqual([
      'TokenReported',
    ]);
  });
});
