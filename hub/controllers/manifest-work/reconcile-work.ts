/**
 * One reconcile of one ManifestWork (the controller's only logic entry point): finalizer, the
 * AppliedManifestWork, every manifest in kind order with its strategy, removed manifests deleted
 * or orphaned, records, drift watches, status. Deletion is in finalize-work.ts.
 */
import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';

import { Finalizers, type AppliedManifestWork, type ManifestWork } from '../../api/index.ts';
import type { KeyResult } from '../../kube/index.ts';
import { type JsonObject } from './apply-decision.ts';
import { applyManifest, type ManifestResult } from './apply-manifest.ts';
import { applyOrder } from './apply-order.ts';
import {
  APPLIED_WORK_GVR,
  appliedWorkFor,
  appliedWorkName,
  nextRecords,
  ownerReferenceTo,
  type AppliedResource,
} from './applied-work.ts';
import { planDeletion } from './delete-plan.ts';
import { isSpokeStatus, isWorkError } from './errors.ts';
import { finalizeWork } from './finalize-work.ts';
import {
  deleteObject,
  releaseObject,
  workKeyOf,
  writeStatus,
  type ReconcileContext,
} from './reconcile-context.ts';
import { identityKey, splitApiVersion } from './resource-ref.ts';
import type { SpokeApi } from './spoke-client.ts';
import { finishedDeadlineMs } from './ttl-after-finished.ts';
import { decideWorkStatus, notAppliedStatus, unreachableStatus } from './work-status.ts';

/** The message of Available=Unknown while no agent of the cluster is connected. */
export const NOT_CONNECTED_MESSAGE =
  "The cluster's agent is not connected: the status of its resources is unknown";

/** The message of Available=Unknown when the cluster stopped answering during a reconcile. */
export const UNREACHABLE_MESSAGE =
  'The cluster could not be reached: the status of its resources is unknown';

/** Reconciles work `namespace/name`; see the file comment. Rejects on hub API failures. */
export async function reconcileWork(
  ctx: ReconcileContext,
  namespace: string,
  name: string,
): Promise<KeyResult> {
  const key = workKeyOf(namespace, name);
  let work = await ctx.works.get(namespace, name);
  const finalizers = work?.metadata?.finalizers ?? [];
  if (work === undefined || !ctx.clusterExists(namespace)) {
    ctx.existingSpoke(namespace)?.watches.untrack(key);
    // A work outside a cluster namespace (or whose cluster is gone) is nobody's to clean up.
    if (work?.metadata?.deletionTimestamp != null && finalizers.includes(Finalizers.ManifestWork)) {
      const left = finalizers.filter((f) => f !== Finalizers.ManifestWork);
      return (await ctx.works.setFinalizers(work, left)) === undefined ? { again: true } : {};
    }
    return {};
  }
  if (work.metadata?.deletionTimestamp != null) {
    return finalizers.includes(Finalizers.ManifestWork) ? finalizeWork(ctx, work) : {};
  }
  if (!finalizers.includes(Finalizers.ManifestWork)) {
    const updated = await ctx.works.setFinalizers(work, [...finalizers, Finalizers.ManifestWork]);
    if (updated === undefined) return { again: true };
    work = updated;
  }
  // A finished work past its ttlSecondsAfterFinished is deleted without touching the spoke.
  if (await deleteIfExpired(ctx, work, work.status)) return {};
  if (!ctx.isConnected(namespace)) {
    return (await writeStatus(ctx, work, unreachableStatus(work, NOT_CONNECTED_MESSAGE, ctx.now())))
      .result;
  }
  try {
    return await applyWork(ctx, work);
  } catch (err: unknown) {
    if (!isWorkError(err, 'HUB_ERR_WORK_SPOKE_UNREACHABLE')) throw err;
    // A stable message (the error's text names streams): no status write per retry.
    const { result } = await writeStatus(
      ctx,
      work,
      unreachableStatus(work, UNREACHABLE_MESSAGE, ctx.now()),
    );
    return result.again === true ? result : { requeueAfterMs: ctx.retryDelayMs(key, true) ?? 0 };
  }
}

/** Deletes `work` when its ttlSecondsAfterFinished has run out; resolves whether it did. */
async function deleteIfExpired(
  ctx: ReconcileContext,
  work: ManifestWork,
  status: ManifestWork['status'],
): Promise<boolean> {
  const deadline = finishedDeadlineMs(work, status);
  if (deadline === undefined || deadline > ctx.now().getTime()) return false;
  await ctx.works.delete(work);
  return true;
}

/**
 * The AppliedManifestWork of `work`, created when missing. A work that has no status yet (never
 * reconciled) most likely has none: it is created at once and read only if it exists (409).
 */
async function ensureAppliedWork(
  client: SpokeApi,
  ctx: ReconcileContext,
  work: ManifestWork,
  cluster: string,
): Promise<AppliedManifestWork> {
  const workName = work.metadata?.name ?? '';
  const ref = { ...APPLIED_WORK_GVR, name: appliedWorkName(ctx.hubHash, workName) };
  const isNew = (work.status?.conditions ?? []).length === 0;
  if (!isNew) {
    const existing = await client.get(ref);
    if (existing !== undefined) return existing as AppliedManifestWork;
  }
  try {
    return (await client.create(
      ref,
      appliedWorkFor(ctx.hubHash, workName, cluster) as JsonObject,
    )) as AppliedManifestWork;
  } catch (err: unknown) {
    if (!isSpokeStatus(err, 409)) throw err;
    return ((await client.get(ref)) ?? {}) as AppliedManifestWork;
  }
}

/** Whether `record` is still named by a manifest (resolved, or by group/namespace/name if not). */
function namedBy(results: readonly ManifestResult[], manifests: readonly JsonObject[]) {
  const identities = new Set(
    results.flatMap((r) => (r.ref === undefined ? [] : [identityKey(r.ref)])),
  );
  const unresolved = results.flatMap((r, i) => {
    if (r.ref !== undefined) return [];
    const m = manifests[r.outcome.meta.ordinal ?? i] ?? {};
    const meta = (m.metadata ?? {}) as { name?: string; namespace?: string };
    const group = splitApiVersion(typeof m.apiVersion === 'string' ? m.apiVersion : '').group;
    return [{ group, name: meta.name, namespace: meta.namespace ?? '' }];
  });
  return (record: AppliedResource): boolean =>
    identities.has(identityKey(record)) ||
    unresolved.some(
      (u) =>
        u.group === (record.group ?? '') &&
        u.name === record.name &&
        (u.namespace === '' || u.namespace === (record.namespace ?? '')),
    );
}

async function applyWork(ctx: ReconcileContext, work: ManifestWork): Promise<KeyResult> {
  const namespace = work.metadata?.namespace ?? '';
  const key = workKeyOf(namespace, work.metadata?.name ?? '');
  const manifests = (work.spec?.workload?.manifests ?? []) as JsonObject[];
  const size = Buffer.byteLength(JSON.stringify(manifests));
  if (size > ctx.manifestLimitBytes) {
    const message =
      `The size of manifests is ${size} bytes which exceeds the ${ctx.manifestLimitBytes} byte ` +
      'limit; nothing was applied';
    return (await writeStatus(ctx, work, notAppliedStatus(work, message, ctx.now()))).result;
  }
  const { client, watches } = ctx.spoke(namespace);
  let applied: AppliedManifestWork;
  try {
    applied = await ensureAppliedWork(client, ctx, work, namespace);
  } catch (err: unknown) {
    if (!isWorkError(err, 'HUB_ERR_WORK_SPOKE_API')) throw err;
    const message = `The AppliedManifestWork could not be created on the cluster: ${err.message}`;
    const { result } = await writeStatus(ctx, work, notAppliedStatus(work, message, ctx.now()));
    return result.again === true ? result : { requeueAfterMs: ctx.retryDelayMs(key, true) ?? 0 };
  }
  const owner = ownerReferenceTo(applied);
  const crdGroups = new Set<string>();
  const results: ManifestResult[] = new Array<ManifestResult>(manifests.length);
  const previous = work.status?.resourceStatus?.manifests ?? [];
  const recorded = new Set((applied.status?.appliedResources ?? []).map((r) => identityKey(r)));
  for (const ordinal of applyOrder(manifests)) {
    const result = await applyManifest(
      {
        client,
        owner,
        configs: work.spec?.manifestConfigs,
        crdGroups,
        executor: work.spec?.executor,
        deleteOption: work.spec?.deleteOption,
        recorded,
      },
      manifests[ordinal] ?? {},
      ordinal,
      previous.find((p) => p.resourceMeta.ordinal === ordinal),
    );
    if (result.crdGroup !== undefined) crdGroups.add(result.crdGroup);
    results[ordinal] = result;
  }

  // Objects the spec no longer names: deleted, or orphaned by the delete option.
  const stillNamed = namedBy(results, manifests);
  const appliedNow = results.flatMap((r) => (r.record === undefined ? [] : [r.record]));
  const before = applied.status?.appliedResources ?? [];
  const removed = before.filter((r) => !stillNamed(r));
  const plan = planDeletion(work.spec?.deleteOption, removed);
  const ownerUid = owner.uid;
  for (const record of plan.orphan) await releaseObject(client, record, ownerUid);
  for (const record of plan.delete) await deleteObject(client, record, ownerUid);
  const records = nextRecords(before, appliedNow, stillNamed);
  if (!isDeepStrictEqual(records, before)) {
    await client.replaceStatus({ ...APPLIED_WORK_GVR, name: applied.metadata?.name ?? '' }, {
      ...applied,
      status: { ...applied.status, appliedResources: records },
    } as JsonObject);
  }

  watches.track(
    key,
    results.flatMap((r) =>
      r.ref === undefined
        ? []
        : [
            {
              gvr: r.ref,
              ...(r.ref.namespace === undefined ? {} : { namespace: r.ref.namespace }),
              name: r.ref.name,
              ...(r.resourceVersion === undefined ? {} : { resourceVersion: r.resourceVersion }),
            },
          ],
    ),
  );
  const status = decideWorkStatus(
    work,
    results.map((r) => r.outcome),
    ctx.now(),
  );
  const { result, written } = await writeStatus(ctx, work, status);
  if (result.again === true) return result;
  if (await deleteIfExpired(ctx, written, status)) return {};
  const hasFailed = results.some((r) => !r.outcome.applied.ok);
  const delay = ctx.retryDelayMs(key, hasFailed);
  // A finished work comes back when its ttlSecondsAfterFinished runs out.
  const deadline = finishedDeadlineMs(written, status);
  const untilExpiry = deadline === undefined ? undefined : deadline - ctx.now().getTime();
  const next = [delay, untilExpiry].filter((ms) => ms !== undefined);
  return next.length === 0 ? {} : { requeueAfterMs: Math.min(...next) };
}
