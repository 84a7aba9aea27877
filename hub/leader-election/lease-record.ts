/**
 * The leader election record kept in a coordination.k8s.io/v1 Lease's spec, and its conversion
 * to and from the Lease as the API server sends it (plain JSON: times are strings). Pure.
 */

/** A Lease's spec on the wire. Fields this folder does not use are kept as they are. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** RFC 3339 with microseconds (metav1.MicroTime), e.g. `2026-01-02T03:04:05.678000Z`. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

/** A coordination.k8s.io/v1 Lease as JSON. `metadata.resourceVersion` guards every replace. */
export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    [field: string]: unknown;
  };
  spec?: LeaseSpec;
}

/**
 * The five fields leader election reads and writes, with the same meaning as client-go's
 * LeaderElectionRecord. `holderIdentity` is '' when nobody holds the lease (never created by
 * an elector, or released); a missing duration or count reads as 0.
 */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

const API_VERSION = 'coordination.k8s.io/v1';

/**
 * `date` as metav1.MicroTime's wire form, RFC 3339 with exactly six fractional digits: the API
 * server rejects the three that `Date.toISOString()` gives.
 */
export function formatMicroTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** The record in `lease`'s spec (a Lease without spec holds the empty record). */
export function recordOf(lease: LeaseObject): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: typeof spec.holderIdentity === 'string' ? spec.holderIdentity : '',
    leaseDurationSeconds: count(spec.leaseDurationSeconds),
    acquireTime: text(spec.acquireTime),
    renewTime: text(spec.renewTime),
    leaseTransitions: count(spec.leaseTransitions),
  };
}

function specOf(record: LeaseRecord): LeaseSpec {
  const spec: LeaseSpec = {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
  };
  if (record.acquireTime !== undefined) spec.acquireTime = record.acquireTime;
  if (record.renewTime !== undefined) spec.renewTime = record.renewTime;
  return spec;
}

/**
 * `lease` with its record replaced by `record`: metadata (and so the resourceVersion the replace
 * is guarded by) and any other spec fields stay as they were.
 */
export function withRecord(lease: LeaseObject, record: LeaseRecord): LeaseObject {
  const spec: LeaseSpec = { ...lease.spec, ...specOf(record) };
  if (record.acquireTime === undefined) delete spec.acquireTime;
  if (record.renewTime === undefined) delete spec.renewTime;
  return { ...lease, apiVersion: API_VERSION, kind: 'Lease', spec };
}

/** A new Lease `namespace/name` holding `record`, for create. */
export function newLease(namespace: string, name: string, record: LeaseRecord): LeaseObject {
  return {
    apiVersion: API_VERSION,
    kind: 'Lease',
    metadata: { name, namespace },
    spec: specOf(record),
  };
}

/**
 * Whether two records are the same. Any difference (a renewal moves renewTime) means the holder
 * is alive, and so restarts the observer's leaseDuration countdown.
 */
export function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
