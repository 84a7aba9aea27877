/**
 * What happens to applied objects when their work is deleted or a manifest leaves its spec
 * (pure), by `spec.deleteOption`: `Foreground` (the default) deletes them, `Orphan` leaves them
 * all (only our ownerReference is removed), `SelectivelyOrphan` leaves those its
 * `selectivelyOrphans.orphaningRules` name ({group, resource, name, namespace}, exact) and
 * deletes the rest.
 */
import type { ManifestWorkSpec } from '../../api/index.ts';
import { refOfRecord, type AppliedResource } from './applied-work.ts';
import { identifies } from './resource-ref.ts';

/** The records to delete and the records to orphan. */
export interface DeletePlan {
  readonly delete: AppliedResource[];
  readonly orphan: AppliedResource[];
}

/** Whether `deleteOption` orphans `record`. */
export function isOrphaned(
  deleteOption: ManifestWorkSpec['deleteOption'],
  record: AppliedResource,
): boolean {
  switch (deleteOption?.propagationPolicy ?? 'Foreground') {
    case 'Orphan':
      return true;
    case 'SelectivelyOrphan': {
      const ref = refOfRecord(record);
      const rules = deleteOption?.selectivelyOrphans?.orphaningRules ?? [];
      return rules.some((rule) => identifies(rule, ref));
    }
    default:
      return false;
  }
}

/** Splits `records` into those to delete and those to orphan. */
export function planDeletion(
  deleteOption: ManifestWorkSpec['deleteOption'],
  records: readonly AppliedResource[],
): DeletePlan {
  const plan: DeletePlan = { delete: [], orphan: [] };
  for (const record of records) {
    (isOrphaned(deleteOption, record) ? plan.orphan : plan.delete).push(record);
  }
  return plan;
}
