import { performance } from 'node:perf_hooks';

import type { Logger } from '../../proxy-server/index.ts';
import {
  decide,
  initialRecord,
  isLeaseValid,
  observe,
  releasedRecord,
  type Observation,
} from './election-decision.ts';
import { newLease, recordOf, withRecord, type LeaseObject } from './lease-record.ts';
import type { LeaseStore } from './lease-store.ts';
import type { ElectionSettings } from './options.ts';

/** What one try at the Lease found. */
export type Outcome =
  /** Our write succeeded: we hold the Lease. `sentAtMs`: when that write was sent. */
  | { readonly kind: 'held'; readonly sentAtMs: number }
  /** Someone else holds a lease that has not expired. */
  | { readonly kind: 'other'; readonly holder: string }
  /** Our write lost a race (conflict, or the Lease was created meanwhile). */
  | { readonly kind: 'conflict' };

const now = (): number => performance.now();

/**
 * This replica's view of the Lease: the object last read or written (its resourceVersion guards
 * the next write) and the observation the expiry is judged by. Performs client-go's
 * tryAcquireOrRenew and release on a {@link LeaseStore}. Not reentrant: the elector makes one
 * call at a time.
 */
export class LeaseKeeper {
  readonly #store: LeaseStore;
  readonly #settings: ElectionSettings;
  readonly #log: Logger;
  readonly #where: string;
  #lease: LeaseObject | undefined;
  #observation: Observation | undefined;

  constructor(store: LeaseStore, settings: ElectionSettings, log: Logger) {
    this.#store = store;
    this.#settings = settings;
    this.#log = log;
    this.#where = `${settings.namespace}/${settings.name}`;
  }

  /** The record as last seen, and since when; undefined before the first read. */
  get observation(): Observation | undefined {
    return this.#observation;
  }

  /** Whether the record as last seen names us. */
  isHeldByUs(): boolean {
    return this.#observation?.record.holderIdentity === this.#settings.identity;
  }

  /**
   * One try: the leader (`isLeading`) first replaces the Lease it last wrote without reading it
   * (the fast path); otherwise, or on a conflict, read, decide, write (or create). Rejects when a
   * request fails or `signal` aborts.
   */
  async tryAcquireOrRenew(isLeading: boolean, signal: AbortSignal): Promise<Outcome> {
    const { identity, leaseDurationSeconds, namespace, name } = this.#settings;
    const cached = this.#lease;
    const seen = this.#observation;
    if (isLeading && cached !== undefined && seen !== undefined && isLeaseValid(seen, now())) {
      const decision = decide({
        identity,
        observation: seen,
        nowMs: now(),
        wallNow: new Date(),
        leaseDurationSeconds,
      });
      if (decision.kind === 'write') {
        const sentAtMs = now();
        const written = await this.#store.replace(withRecord(cached, decision.record), signal);
        if (written !== undefined) return this.#wrote(written, sentAtMs);
        this.#log.debug('lease renew conflict, reading it again', { lease: this.#where });
      }
    }
    const current = await this.#store.get(signal);
    if (current === undefined) {
      const sentAtMs = now();
      const record = initialRecord(identity, leaseDurationSeconds, new Date());
      const created = await this.#store.create(newLease(namespace, name, record), signal);
      if (created === undefined) return { kind: 'conflict' };
      this.#log.info('lease created', { lease: this.#where, identity });
      return this.#wrote(created, sentAtMs);
    }
    this.#lease = current;
    this.#observation = observe(this.#observation, recordOf(current), now());
    const decision = decide({
      identity,
      observation: this.#observation,
      nowMs: now(),
      wallNow: new Date(),
      leaseDurationSeconds,
    });
    if (decision.kind === 'wait') return { kind: 'other', holder: decision.holder };
    const sentAtMs = now();
    const written = await this.#store.replace(withRecord(current, decision.record), signal);
    if (written === undefined) return { kind: 'conflict' };
    if (decision.isTransition) {
      this.#log.info('lease taken over', {
        lease: this.#where,
        identity,
        previousHolder: this.#observation.record.holderIdentity,
        leaseTransitions: decision.record.leaseTransitions,
      });
    }
    return this.#wrote(written, sentAtMs);
  }

  /**
   * Gives the Lease up if the record as last seen names us: no holder, 1 s. Resolves false when
   * there was nothing to release or another replica wrote meanwhile; rejects when the request
   * fails.
   */
  async release(signal: AbortSignal): Promise<boolean> {
    const lease = this.#lease;
    if (lease === undefined || !this.isHeldByUs()) return false;
    const record = releasedRecord(recordOf(lease), new Date());
    const written = await this.#store.replace(withRecord(lease, record), signal);
    if (written === undefined) return false;
    this.#wrote(written, now());
    return true;
  }

  #wrote(lease: LeaseObject, sentAtMs: number): Outcome {
    this.#lease = lease;
    this.#observation = observe(this.#observation, recordOf(lease), now());
    return { kind: 'held', sentAtMs };
  }
}
