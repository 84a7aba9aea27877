/**
 * The options of `createLeaderElector`, the timing defaults (client-go's) and their validation.
 */
import type { KubeConfig } from '@kubernetes/client-node';

import type { Logger } from '../../proxy-server/index.ts';
import { ACQUIRE_JITTER_FACTOR } from './election-decision.ts';
import { LeaderElectionError } from './errors.ts';
import type { LeaseStore } from './lease-store.ts';

/** How long a lease is valid without renewal, as non-leaders judge it (client-go default). */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
/** How long the leader keeps trying to renew before it gives up leadership. */
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
/** The period of renewals, and the base period of candidates' tries. */
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

/** Options of `createLeaderElector`. */
export interface LeaderElectorOptions {
  /** The API server holding the Lease (the hub's). */
  readonly kubeConfig: KubeConfig;
  /** Namespace and name of the coordination.k8s.io/v1 Lease; created when missing. */
  readonly namespace: string;
  readonly name: string;
  /**
   * This replica's holderIdentity. Must be unique per process (e.g. hostname + '_' + a random
   * UUID): a replica that finds its own identity in the Lease takes it over at once.
   */
  readonly identity: string;
  /** How long others wait, from when they last saw the record change; whole seconds. Default 15 000. */
  readonly leaseDurationMs?: number;
  /** How long the leader tries to renew before it gives leadership up. Default 10 000. */
  readonly renewDeadlineMs?: number;
  /** Period of renewals; base period of candidates' tries (plus up to 1.2×). Default 2 000. */
  readonly retryPeriodMs?: number;
  /**
   * Called when this replica becomes leader, with a signal that aborts when the term ends (its
   * `reason` says why). The work must stop promptly on abort: another replica may start
   * leaseDuration − renewDeadline after a lost renewal. A throw or rejection before the abort
   * gives leadership up and releases the Lease.
   */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /**
   * Called once after each term, after its signal aborted. Resolve once the work has stopped:
   * the elector neither starts a new term nor releases the Lease before. Must not await `stop()`.
   */
  readonly onStoppedLeading: () => void | Promise<void>;
  /** Called when the observed holder changes (to ours once our term starts), after any step-down. */
  readonly onNewLeader?: (identity: string) => void;
  /** Default: JSON lines on stderr, component `leader-election`. */
  readonly logger?: Logger;
  /** Seam for unit tests: where the Lease is read and written. Default: `kubeConfig`'s API server. */
  readonly leaseStore?: LeaseStore;
}

/** The Lease's name and namespace and the timings, as given to `createLeaderElector`. */
export type ElectionSettingsInput = Pick<
  LeaderElectorOptions,
  'namespace' | 'name' | 'identity' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'
>;

/** Validated settings, defaults applied. */
export interface ElectionSettings {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function invalid(message: string): LeaderElectionError {
  return new LeaderElectionError('HUB_ERR_LEADER_ELECTION_INVALID_OPTIONS', message);
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw invalid(`${field} must be a positive integer number of ms, got ${value}`);
  }
  return value;
}

/**
 * Applies the defaults and checks the settings, throwing `HUB_ERR_LEADER_ELECTION_INVALID_OPTIONS`
 * with the field's name. The orderings are client-go's and are what makes a single leader hold:
 * - leaseDurationMs > renewDeadlineMs: a leader that cannot renew gives up before any other
 *   replica may take over;
 * - renewDeadlineMs > 1.2 × retryPeriodMs: a leader gets more than one try per deadline;
 * - leaseDurationMs is whole seconds, because the Lease stores `leaseDurationSeconds` and the
 *   other replicas judge expiry by what is stored.
 */
export function resolveSettings(input: ElectionSettingsInput): ElectionSettings {
  if (input.namespace.length > 63 || !DNS_LABEL.test(input.namespace)) {
    throw invalid(`namespace must be a DNS label, got ${JSON.stringify(input.namespace)}`);
  }
  if (input.name.length > 253 || !DNS_SUBDOMAIN.test(input.name)) {
    throw invalid(`name must be a DNS subdomain, got ${JSON.stringify(input.name)}`);
  }
  if (input.identity === '') throw invalid('identity must not be empty');
  const leaseDurationMs = positiveInteger(
    'leaseDurationMs',
    input.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS,
  );
  const renewDeadlineMs = positiveInteger(
    'renewDeadlineMs',
    input.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS,
  );
  const retryPeriodMs = positiveInteger(
    'retryPeriodMs',
    input.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS,
  );
  if (leaseDurationMs % 1000 !== 0) {
    throw invalid(
      `leaseDurationMs must be whole seconds (the Lease stores seconds), got ${leaseDurationMs}`,
    );
  }
  if (leaseDurationMs <= renewDeadlineMs) {
    throw invalid(
      `leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`,
    );
  }
  if (renewDeadlineMs <= ACQUIRE_JITTER_FACTOR * retryPeriodMs) {
    throw invalid(
      `renewDeadlineMs (${renewDeadlineMs}) must be greater than ${ACQUIRE_JITTER_FACTOR} × retryPeriodMs (${retryPeriodMs})`,
    );
  }
  return {
    namespace: input.namespace,
    name: input.name,
    identity: input.identity,
    leaseDurationMs,
    leaseDurationSeconds: leaseDurationMs / 1000,
    renewDeadlineMs,
    retryPeriodMs,
  };
}
