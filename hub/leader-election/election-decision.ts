/**
 * The pure decisions of leader election, with client-go's leaderelection semantics: whether a
 * Lease may be taken, what to write, and when an observed lease has expired. Times in `…Ms` are
 * readings of the local monotonic clock; `wallNow` is only written into the record.
 */
import { formatMicroTime, sameRecord, type LeaseRecord } from './lease-record.ts';

/**
 * A record as this replica saw it, and when it first saw it in this form. The lease is judged
 * by the local clock from `observedAtMs`, never by the record's renewTime: replicas' clocks may
 * disagree, the time since our own observation does not depend on theirs.
 */
export interface Observation {
  readonly record: LeaseRecord;
  readonly observedAtMs: number;
}

/** What to do after reading the Lease. */
export type Decision =
  /** Someone else holds a lease that has not expired: do not write. */
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresInMs: number }
  /**
   * Write `record` (guarded by the read's resourceVersion). `isTransition` when it changes the
   * holder (the count in the record has already been incremented).
   */
  | { readonly kind: 'write'; readonly record: LeaseRecord; readonly isTransition: boolean };

/** client-go's JitterFactor: candidates wait retryPeriod × (1 + up to 1.2) between tries. */
export const ACQUIRE_JITTER_FACTOR = 1.2;

/**
 * The observation after reading `record` at `nowMs`: an unchanged record keeps the time it was
 * first seen, so a holder that stopped renewing expires leaseDuration after that.
 */
export function observe(
  previous: Observation | undefined,
  record: LeaseRecord,
  nowMs: number,
): Observation {
  if (previous !== undefined && sameRecord(previous.record, record)) return previous;
  return { record, observedAtMs: nowMs };
}

/** Ms until the observed lease expires (≤ 0: expired). */
export function expiresInMs(observation: Observation, nowMs: number): number {
  return observation.observedAtMs + observation.record.leaseDurationSeconds * 1000 - nowMs;
}

/** Whether the observed lease has a holder that has not expired by the local clock. */
export function isLeaseValid(observation: Observation, nowMs: number): boolean {
  return observation.record.holderIdentity !== '' && expiresInMs(observation, nowMs) > 0;
}

/** The record that creates the Lease: we hold it, no transitions yet. */
export function initialRecord(
  identity: string,
  leaseDurationSeconds: number,
  wallNow: Date,
): LeaseRecord {
  const now = formatMicroTime(wallNow);
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: 0,
  };
}

/**
 * The decision for `identity` given the observed record:
 * - held by us (valid or not): renew, keeping acquireTime and leaseTransitions;
 * - held by someone else and not expired: wait;
 * - expired or released: take over, acquireTime = renewTime = now, leaseTransitions + 1.
 */
export function decide(input: {
  readonly identity: string;
  readonly observation: Observation;
  readonly nowMs: number;
  readonly wallNow: Date;
  readonly leaseDurationSeconds: number;
}): Decision {
  const { identity, observation, nowMs, wallNow, leaseDurationSeconds } = input;
  const current = observation.record;
  const now = formatMicroTime(wallNow);
  if (current.holderIdentity === identity) {
    return {
      kind: 'write',
      isTransition: false,
      record: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: current.acquireTime ?? now,
        renewTime: now,
        leaseTransitions: current.leaseTransitions,
      },
    };
  }
  if (isLeaseValid(observation, nowMs)) {
    return {
      kind: 'wait',
      holder: current.holderIdentity,
      expiresInMs: expiresInMs(observation, nowMs),
    };
  }
  return {
    kind: 'write',
    isTransition: true,
    record: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: current.leaseTransitions + 1,
    },
  };
}

/**
 * The record that gives the lease up: no holder, a 1 s duration and times of now (as client-go
 * writes it), the transition count unchanged. Any candidate takes it at its next try.
 */
export function releasedRecord(current: LeaseRecord, wallNow: Date): LeaseRecord {
  const now = formatMicroTime(wallNow);
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions,
  };
}

/**
 * How long a candidate waits before its next try: retryPeriod plus up to
 * {@link ACQUIRE_JITTER_FACTOR} × retryPeriod, so that replicas started together spread out.
 * `random` is in [0, 1).
 */
export function acquireDelayMs(retryPeriodMs: number, random: number): number {
  return retryPeriodMs + Math.floor(random * ACQUIRE_JITTER_FACTOR * retryPeriodMs);
}
