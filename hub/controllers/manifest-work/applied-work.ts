/**
 * The AppliedManifestWork on the spoke (pure helpers): its name `<hubHash>-<workName>` with
 * hubHash the hex SHA-256 of the hub API server URL (OCM's naming), its spec, the
 * ownerReference every applied object gets, and its `appliedResources` records.
 */
import { createHash } from 'node:crypto';

import {
  WORK_GROUP,
  type AppliedManifestWork,
  type AppliedManifestWorkStatus,
} from '../../api/index.ts';
import type { OwnerReference } from './apply-decision.ts';
import { identityKey, type ResourceRef } from './resource-ref.ts';

/** One `status.appliedResources[]` entry. */
export type AppliedResource = NonNullable<AppliedManifestWorkStatus['appliedResources']>[number];

/** The AppliedManifestWork kind on the spoke, as a collection. */
export const APPLIED_WORK_GVR = {
  group: WORK_GROUP,
  version: 'v1',
  resource: 'appliedmanifestworks',
} as const;

/** Hex SHA-256 of the hub API server URL, as OCM computes `hubHash`. */
export function hubHashOf(hubServerUrl: string): string {
  return createHash('sha256').update(hubServerUrl).digest('hex');
}

/** `<hubHash>-<workName>`. */
export function appliedWorkName(hubHash: string, workName: string): string {
  return `${hubHash}-${workName}`;
}

/** A new AppliedManifestWork for `workName`. */
export function appliedWorkFor(
  hubHash: string,
  workName: string,
  agentID: string,
): AppliedManifestWork {
  return {
    apiVersion: `${WORK_GROUP}/v1`,
    kind: 'AppliedManifestWork',
    metadata: { name: appliedWorkName(hubHash, workName) },
    spec: { hubHash, agentID, manifestWorkName: workName },
  };
}

/** The non-controller ownerReference to `applied` every applied object carries. */
export function ownerReferenceTo(applied: AppliedManifestWork): OwnerReference {
  return {
    apiVersion: `${WORK_GROUP}/v1`,
    kind: 'AppliedManifestWork',
    name: applied.metadata?.name ?? '',
    uid: applied.metadata?.uid ?? '',
  };
}

/** The record of an applied object (group left out for the core group, as OCM's omitempty). */
export function appliedResource(ref: ResourceRef, uid: string | undefined): AppliedResource {
  return {
    ...(ref.group === '' ? {} : { group: ref.group }),
    version: ref.version,
    resource: ref.resource,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
    name: ref.name,
    ...(uid === undefined ? {} : { uid }),
  };
}

/** A record as a {@link ResourceRef}. */
export function refOfRecord(record: AppliedResource): ResourceRef {
  return {
    group: record.group ?? '',
    version: record.version,
    resource: record.resource,
    ...(record.namespace === undefined || record.namespace === ''
      ? {}
      : { namespace: record.namespace }),
    name: record.name,
  };
}

/**
 * The records after a reconcile: every object applied now, then earlier records of objects the
 * spec still names but that failed this time (so they are neither forgotten nor deleted).
 * `stillNamed` is the identity check (see {@link identityKey}).
 */
export function nextRecords(
  previous: readonly AppliedResource[],
  appliedNow: readonly AppliedResource[],
  stillNamed: (record: AppliedResource) => boolean,
): AppliedResource[] {
  const now = new Set(appliedNow.map((r) => identityKey(r)));
  return [...appliedNow, ...previous.filter((r) => !now.has(identityKey(r)) && stillNamed(r))];
}
