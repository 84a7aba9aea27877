/**
 * Deleting a ManifestWork that carries our finalizer, by its `deleteOption`: orphaned objects
 * lose our ownerReference; the others are deleted (Background propagation) and waited for;
 * then the AppliedManifestWork is deleted and the finalizer removed. While objects remain the
 * work says `Deleting` True/WorkDeleting and is looked at again every second (and on their
 * watch events).
 */
import { Finalizers, type ManifestWork } from '../../api/index.ts';
import type { KeyResult } from '../../kube/index.ts';
import {
  APPLIED_WORK_GVR,
  appliedWorkName,
  refOfRecord,
  type AppliedResource,
} from './applied-work.ts';
import type { AppliedManifestWork } from '../../api/index.ts';
import { planDeletion } from './delete-plan.ts';
import { isWorkError } from './errors.ts';
import {
  deleteObject,
  releaseObject,
  workKeyOf,
  writeStatus,
  type ReconcileContext,
} from './reconcile-context.ts';
import { deletingStatus } from './work-status.ts';

/** While applied objects are still being deleted, the work is looked at again after this, ms. */
export const DELETE_POLL_MS = 1_000;

async function dropFinalizer(ctx: ReconcileContext, work: ManifestWork): Promise<KeyResult> {
  const left = (work.metadata?.finalizers ?? []).filter((f) => f !== Finalizers.ManifestWork);
  return (await ctx.works.setFinalizers(work, left)) === undefined ? { again: true } : {};
}

/** Runs one step of the deletion of `work` (deletionTimestamp set, our finalizer on it). */
export async function finalizeWork(ctx: ReconcileContext, work: ManifestWork): Promise<KeyResult> {
  const namespace = work.metadata?.namespace ?? '';
  const name = work.metadata?.name ?? '';
  const key = workKeyOf(namespace, name);
  if (!ctx.isConnected(namespace)) {
    const message = "Waiting for the cluster's agent to clean up the applied resources";
    return (await writeStatus(ctx, work, deletingStatus(work, message, ctx.now()))).result;
  }
  const { client, watches } = ctx.spoke(namespace);
  try {
    const amwRef = { ...APPLIED_WORK_GVR, name: appliedWorkName(ctx.hubHash, name) };
    const applied = (await client.get(amwRef)) as AppliedManifestWork | undefined;
    if (applied === undefined) {
      watches.untrack(key);
      return dropFinalizer(ctx, work);
    }
    const ownerUid = applied.metadata?.uid ?? '';
    const plan = planDeletion(work.spec?.deleteOption, applied.status?.appliedResources ?? []);
    for (const record of plan.orphan) await releaseObject(client, record, ownerUid);
    const remaining: AppliedResource[] = [];
    for (const record of plan.delete) {
      if (await deleteObject(client, record, ownerUid)) remaining.push(record);
    }
    if (remaining.length > 0) {
      watches.track(
        key,
        remaining.map((record) => {
          const ref = refOfRecord(record);
          return {
            gvr: ref,
            ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
            name: ref.name,
          };
        }),
      );
      const message = `${remaining.length} of ${plan.delete.length} applied resources are being deleted`;
      const { result } = await writeStatus(ctx, work, deletingStatus(work, message, ctx.now()));
      return result.again === true ? result : { requeueAfterMs: DELETE_POLL_MS };
    }
    // Everything is gone or released: the record goes, then the finalizer.
    await client.delete(amwRef, ownerUid);
    watches.untrack(key);
    return dropFinalizer(ctx, work);
  } catch (err: unknown) {
    if (!isWorkError(err, 'HUB_ERR_WORK_SPOKE_UNREACHABLE')) throw err;
    const message = 'The cluster could not be reached to clean up the applied resources';
    const { result } = await writeStatus(ctx, work, deletingStatus(work, message, ctx.now()));
    return result.again === true ? result : { requeueAfterMs: ctx.retryDelayMs(key, true) ?? 0 };
  }
}
