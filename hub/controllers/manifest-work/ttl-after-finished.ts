/**
 * `spec.deleteOption.ttlSecondsAfterFinished` (pure): a work whose `Complete` condition (the
 * aggregate of its manifests' `Complete` rule conditions) is True is deleted that many seconds
 * after the condition became True (its `lastTransitionTime`); 0 deletes it at once. Without the
 * field, or without `Complete` rules, a work is never deleted this way (OCM's workload
 * completion). The deletion is an ordinary one: the finalizer cleans the spoke up by the delete
 * option.
 */
import { WorkConditionTypes, type ManifestWork, type ManifestWorkStatus } from '../../api/index.ts';

/** When (epoch ms) `work` with `status` is due for deletion, or undefined when it is not finished. */
export function finishedDeadlineMs(
  work: ManifestWork,
  status: ManifestWorkStatus | undefined,
): number | undefined {
  const ttlSeconds = work.spec?.deleteOption?.ttlSecondsAfterFinished;
  if (ttlSeconds === undefined || ttlSeconds < 0) return undefined;
  const complete = status?.conditions?.find((c) => c.type === WorkConditionTypes.Complete);
  if (complete?.status !== 'True') return undefined;
  const since = Date.parse(complete.lastTransitionTime);
  return Number.isNaN(since) ? undefined : since + ttlSeconds * 1_000;
}
