/**
 * What a reconcile of one ManifestWork works with, and the spoke-side steps the apply and the
 * delete paths share: writing the work's status, releasing or deleting an applied object.
 */
import { isDeepStrictEqual } from 'node:util';

import type { ManifestWork, ManifestWorkStatus } from '../../api/index.ts';
import type { KeyResult } from '../../kube/index.ts';
import { hasOwner, isJsonObject, ownerRefsWithout, type JsonObject } from './apply-decision.ts';
import { refOfRecord, type AppliedResource } from './applied-work.ts';
import { isSpokeStatus } from './errors.ts';
import type { SpokeApi } from './spoke-client.ts';
import type { ClusterWatches } from './spoke-watches.ts';
import type { WorkStore } from './work-store.ts';

/** One cluster's spoke access: the JSON client (discovery cache) and the drift watches. */
export interface SpokeSession {
  readonly client: SpokeApi;
  readonly watches: ClusterWatches;
}

/** Everything a reconcile depends on (the controller provides it; tests may fake it). */
export interface ReconcileContext {
  readonly works: WorkStore;
  /** Hex SHA-256 of the hub API server URL. */
  readonly hubHash: string;
  /** Whether a ManagedCluster of this name exists. */
  readonly clusterExists: (cluster: string) => boolean;
  /** Whether an agent of the cluster is connected now. */
  readonly isConnected: (cluster: string) => boolean;
  /** The cluster's spoke session (made on first use); throws when the tunnel is closed. */
  readonly spoke: (cluster: string) => SpokeSession;
  /** The session if one exists (for cleanup without creating one). */
  readonly existingSpoke: (cluster: string) => SpokeSession | undefined;
  /** Total size limit of a work's manifests (compact JSON), bytes. */
  readonly manifestLimitBytes: number;
  /** Delay before a work with failed manifests is tried again (backoff per work), ms. */
  readonly retryDelayMs: (workKey: string, hasFailed: boolean) => number | undefined;
  readonly now: () => Date;
}

/** `namespace/name`. */
export function workKeyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * Writes `status` unless it equals the work's; resolves `{ again: true }` on a conflict (read
 * again), else `{}` with the written work in `written`.
 */
export async function writeStatus(
  ctx: ReconcileContext,
  work: ManifestWork,
  status: ManifestWorkStatus,
): Promise<{ result: KeyResult; written: ManifestWork }> {
  if (isDeepStrictEqual(status, work.status ?? {})) return { result: {}, written: work };
  const written = await ctx.works.replaceStatus({ ...work, status });
  return written === undefined
    ? { result: { again: true }, written: work }
    : { result: {}, written };
}

/** Removes the ownerReference `ownerUid` from the live object of `record` (if it has it). */
export async function releaseObject(
  client: SpokeApi,
  record: AppliedResource,
  ownerUid: string,
  live?: JsonObject,
): Promise<void> {
  const ref = refOfRecord(record);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = attempt === 0 && live !== undefined ? live : await client.get(ref);
    if (current === undefined) return;
    const refs = ownerRefsWithout(current, ownerUid);
    if (refs === undefined) return;
    const meta = isJsonObject(current.metadata) ? current.metadata : {};
    try {
      await client.mergePatch(ref, {
        metadata: {
          ownerReferences: refs.length > 0 ? refs : null,
          resourceVersion: meta.resourceVersion,
        },
      });
      return;
    } catch (err: unknown) {
      if (!isSpokeStatus(err, 409)) throw err;
    }
  }
}

/**
 * Deletes the applied object of `record` when it is still the object applied (same uid) and no
 * other AppliedManifestWork owns it too (then only our ownerReference is removed, as OCM does
 * when works share an object). Resolves whether the object is still there (being deleted).
 */
export async function deleteObject(
  client: SpokeApi,
  record: AppliedResource,
  ownerUid: string,
): Promise<boolean> {
  const ref = refOfRecord(record);
  const live = await client.get(ref);
  if (live === undefined) return false;
  const meta = isJsonObject(live.metadata) ? live.metadata : {};
  if (record.uid !== undefined && meta.uid !== record.uid) return false; // another object now
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
  const hasOtherWork = owners.some(
    (o) => isJsonObject(o) && o.kind === 'AppliedManifestWork' && o.uid !== ownerUid,
  );
  if (hasOtherWork) {
    if (hasOwner(live, ownerUid)) await releaseObject(client, record, ownerUid, live);
    return false;
  }
  if (meta.deletionTimestamp === undefined) {
    const uid = typeof meta.uid === 'string' ? meta.uid : undefined;
    await client.delete(ref, uid);
  }
  return (await client.get(ref)) !== undefined;
}
