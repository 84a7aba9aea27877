// Public surface of hub/leader-election/: Lease-based leader election for the hub's controllers.
export { createLeaderElector, LeaderElector } from './leader-elector.ts';
export {
  DEFAULT_LEASE_DURATION_MS,
  DEFAULT_RENEW_DEADLINE_MS,
  DEFAULT_RETRY_PERIOD_MS,
  type LeaderElectorOptions,
} from './options.ts';
export {
  LEADER_ELECTION_ERROR_CODES,
  LeaderElectionError,
  isLeaderElectionError,
  type LeaderElectionErrorCode,
} from './errors.ts';
export type { LeaseStore } from './lease-store.ts';
export type { LeaseObject, LeaseRecord, LeaseSpec } from './lease-record.ts';
