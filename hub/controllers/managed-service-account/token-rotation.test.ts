// When a token is issued or kept: the pure rules (OCM's A5.3), the rotation point from the
// token's actual lifetime, and Go durations.
import { Buffer } from 'node:buffer';

import { describe, expect, it } from 'vitest';

import type { ManagedServiceAccount } from '../../api/index.ts';
import { MsaError } from './errors.ts';
import {
  decideToken,
  expirationSecondsOf,
  parseGoDuration,
  rotationDueAt,
  tokenClaims,
  type TokenObservation,
} from './token-rotation.ts';

const SUBJECT = 'system:serviceaccount:open-cluster-management-agent-addon:robot';
const T0 = Date.parse('2026-03-01T10:00:00Z');

/** An unsigned JWT-shaped token with these claims (only the payload is read). */
function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.signature`;
}
const token = (iatMs: number, expMs: number, sub = SUBJECT) =>
  jwt({ sub, iat: iatMs / 1_000, exp: expMs / 1_000 });
const reported = {
  expirationTimestamp: '2026-03-02T10:00:00Z',
  tokenSecretRef: { name: 'robot', lastRefreshTimestamp: '2026-03-01T10:00:00Z' },
};

describe('parseGoDuration', () => {
  it.each([
    ['8640h0m0s', 8640 * 3_600_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['10m', 600_000],
    ['1.5h', 5_400_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'h', '-1h', '1d', '1h 30m', 'forever'])('refuses "%s"', (text) => {
    expect(() => parseGoDuration(text)).toThrow(
      new MsaError(
        'HUB_ERR_MSA_INVALID_SPEC',
        `spec.rotation.validity "${text}" is not a duration (e.g. 8640h0m0s, 24h, 90m)`,
      ),
    );
  });

  it('gives expirationSeconds from spec.rotation.validity, 360 days by default', () => {
    const msa = (validity?: string): ManagedServiceAccount => ({
      apiVersion: 'authentication.open-cluster-management.io/v1beta1',
      kind: 'ManagedServiceAccount',
      spec: { rotation: validity === undefined ? {} : { validity } },
    });
    expect(expirationSecondsOf(msa())).toBe(8640 * 3600);
    expect(expirationSecondsOf(msa('1h'))).toBe(3600);
    expect(expirationSecondsOf(msa('10m30.5s'))).toBe(630);
  });
});

describe('the rotation point', () => {
  it('is 80 % of the actual lifetime, however long was asked for', () => {
    // Asked for 360 days, the API server gave 24 h (EKS): rotate after 19.2 h, not 288 days.
    const claims = tokenClaims(token(T0, T0 + 86_400_000));
    expect(claims).toEqual({
      subject: SUBJECT,
      issuedAt: new Date(T0),
      expiresAt: new Date(T0 + 86_400_000),
    });
    expect(rotationDueAt(claims!).getTime()).toBe(T0 + 0.8 * 86_400_000);
    expect(rotationDueAt(claims!, 0.5).getTime()).toBe(T0 + 43_200_000);
  });

  it('reads no claims from something that is not a JWT', () => {
    expect(tokenClaims('opaque')).toBeUndefined();
    expect(tokenClaims('a.!!!.c')).toBeUndefined();
    expect(tokenClaims(jwt({ sub: SUBJECT, iat: 1 }))).toBeUndefined();
  });
});

describe('decideToken', () => {
  const base: TokenObservation = {
    token: token(T0, T0 + 86_400_000),
    status: reported,
    expectedSubject: SUBJECT,
    isServiceAccountNew: false,
    now: new Date(T0 + 3_600_000),
  };

  it.each<{ name: string; change: Partial<TokenObservation>; why: string }>([
    { name: 'no Secret', change: { token: undefined }, why: 'no token Secret' },
    { name: 'empty token', change: { token: '' }, why: 'no token Secret' },
    { name: 'no status', change: { status: undefined }, why: 'the status reports no token' },
    {
      name: 'status without expiry',
      change: { status: { tokenSecretRef: reported.tokenSecretRef } },
      why: 'the status reports no token',
    },
    {
      name: 'ServiceAccount made again',
      change: { isServiceAccountNew: true },
      why: 'the ServiceAccount was created on the cluster',
    },
    { name: 'not a JWT', change: { token: 'opaque' }, why: 'the stored token is not a JWT' },
    {
      name: 'another subject',
      change: { token: token(T0, T0 + 86_400_000, 'system:serviceaccount:x:y') },
      why: 'the stored token is for another subject',
    },
    {
      name: 'at the rotation point',
      change: { now: new Date(T0 + 0.8 * 86_400_000) },
      why: 'rotation due',
    },
    {
      name: 'expired during an outage',
      change: { now: new Date(T0 + 2 * 86_400_000) },
      why: 'rotation due',
    },
    {
      name: 'a shorter fraction',
      change: { rotationFraction: 0.01 },
      why: 'rotation due',
    },
  ])('issues: $name', ({ change, why }) => {
    expect(decideToken({ ...base, ...change })).toEqual({ issue: true, why });
  });

  it('keeps a valid token until its rotation point', () => {
    const decision = decideToken({ ...base, now: new Date(T0 + 0.8 * 86_400_000 - 1) });
    expect(decision).toMatchObject({ issue: false, dueAt: new Date(T0 + 0.8 * 86_400_000) });
  });
});
