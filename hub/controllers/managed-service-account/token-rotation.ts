/**
 * When a managed service account's token is (re)issued: pure decisions over what the hub holds
 * (the Secret's token, the account's status) and the clock. The rotation point is computed from
 * the token's ACTUAL lifetime, its own `iat` and `exp` claims (the TokenRequest answer's
 * `expirationTimestamp` is that `exp`), never from the validity asked for: an API server that
 * shortens tokens (EKS caps them at 24 h, `--service-account-max-token-expiration`) must not make
 * the hub rotate in a loop (managed-serviceaccount#119).
 */
import { Buffer } from 'node:buffer';

import type { ManagedServiceAccount } from '../../api/index.ts';
import { MsaError } from './errors.ts';

/** The label on the spoke ServiceAccount and on the hub Secret (OCM's). */
export const MSA_LABEL = 'authentication.open-cluster-management.io/is-managed-serviceaccount';
/** The spoke namespace of every managed ServiceAccount: OCM's add-on install namespace. */
export const MSA_INSTALL_NAMESPACE = 'open-cluster-management-agent-addon';
/** `spec.rotation.validity` when unset: 360 days, the CRD default. */
export const DEFAULT_VALIDITY = '8640h0m0s';
/** A token is rotated once this fraction of its actual lifetime has passed (OCM: 80 %). */
export const ROTATION_FRACTION = 0.8;
/** The API server refuses a TokenRequest for less than this (10 min). */
export const MIN_EXPIRATION_SECONDS = 600;

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A Go `time.Duration` string (`8640h0m0s`, `1h30m`, `90s`, `1.5h`) in milliseconds. Throws
 * {@link MsaError} `HUB_ERR_MSA_INVALID_SPEC` for anything else, including a negative duration.
 */
export function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = text.startsWith('+') ? 1 : 0;
  if (at === text.length) at = -1;
  while (at >= 0 && at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (match === null) {
      at = -1;
      break;
    }
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    at = part.lastIndex;
  }
  if (at < 0 || !Number.isFinite(total))
    throw new MsaError(
      'HUB_ERR_MSA_INVALID_SPEC',
      `spec.rotation.validity "${text}" is not a duration (e.g. 8640h0m0s, 24h, 90m)`,
    );
  return total;
}

/** The `expirationSeconds` of the TokenRequest for `msa`: its validity, whole seconds. */
export function expirationSecondsOf(msa: ManagedServiceAccount): number {
  return Math.floor(parseGoDuration(msa.spec?.rotation.validity ?? DEFAULT_VALIDITY) / 1_000);
}

/** What the hub reads from a ServiceAccount token (a JWT); the signature is not checked. */
export interface TokenClaims {
  /** `sub`: `system:serviceaccount:<namespace>:<name>`. */
  readonly subject: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** The claims of `token`, or undefined when it is not a JWT with `sub`, `iat` and `exp`. */
export function tokenClaims(token: string): TokenClaims | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      sub?: unknown;
      iat?: unknown;
      exp?: unknown;
    };
    const { sub, iat, exp } = claims;
    if (typeof sub !== 'string' || typeof iat !== 'number' || typeof exp !== 'number')
      return undefined;
    return { subject: sub, issuedAt: new Date(iat * 1_000), expiresAt: new Date(exp * 1_000) };
  } catch {
    return undefined;
  }
}

/** When a token with these claims is due: `iat + fraction × (exp − iat)`. */
export function rotationDueAt(claims: TokenClaims, fraction = ROTATION_FRACTION): Date {
  const lifetimeMs = claims.expiresAt.getTime() - claims.issuedAt.getTime();
  return new Date(claims.issuedAt.getTime() + Math.max(0, lifetimeMs) * fraction);
}

/** What the controller holds about one account's token at a reconcile. */
export interface TokenObservation {
  /** The token in the hub Secret; undefined when the Secret or its `token` key is missing. */
  readonly token: string | undefined;
  /** The account's status as last written. */
  readonly status: ManagedServiceAccount['status'];
  /** `system:serviceaccount:<install namespace>:<name>`. */
  readonly expectedSubject: string;
  /** The ServiceAccount was (re)created on the spoke by this reconcile. */
  readonly isServiceAccountNew: boolean;
  readonly now: Date;
  /** Default {@link ROTATION_FRACTION}. */
  readonly rotationFraction?: number;
}

/**
 * Issue a new token now (`why` says why, for logs), or keep the stored one (`claims` are its
 * claims; `dueAt` is when it must be rotated, and a TokenReview on the spoke decides whether it
 * still authenticates).
 */
export type TokenDecision =
  | { readonly issue: true; readonly why: string }
  | { readonly issue: false; readonly claims: TokenClaims; readonly dueAt: Date };

/** OCM's rules (A5.3), with the rotation point from the token's own lifetime. */
export function decideToken(observation: TokenObservation): TokenDecision {
  const { token, status } = observation;
  if (token === undefined || token === '') return { issue: true, why: 'no token Secret' };
  if (status?.tokenSecretRef === undefined || status.expirationTimestamp === undefined)
    return { issue: true, why: 'the status reports no token' };
  if (observation.isServiceAccountNew)
    return { issue: true, why: 'the ServiceAccount was created on the cluster' };
  const claims = tokenClaims(token);
  if (claims === undefined) return { issue: true, why: 'the stored token is not a JWT' };
  if (claims.subject !== observation.expectedSubject)
    return { issue: true, why: 'the stored token is for another subject' };
  const dueAt = rotationDueAt(claims, observation.rotationFraction);
  if (observation.now.getTime() >= dueAt.getTime()) return { issue: true, why: 'rotation due' };
  return { issue: false, claims, dueAt };
}
