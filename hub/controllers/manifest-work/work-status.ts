/**
 * A ManifestWork's status from what one reconcile saw (pure): per manifest `resourceMeta`,
 * conditions Applied / Available / StatusFeedbackSynced (+ rule conditions) and feedback values;
 * work conditions Applied and Available (+ aggregated rule conditions) with OCM's reasons and
 * messages. `lastTransitionTime` is kept while a condition's status holds, so an unchanged world
 * gives a deep-equal status and no write.
 */
import {
  WorkConditionTypes,
  WorkReasons,
  type Condition,
  type ManifestCondition,
  type ManifestWork,
  type ManifestWorkStatus,
} from '../../api/index.ts';
import { setCondition } from '../../kube/index.ts';
import type { JsonObject } from './apply-decision.ts';
import { aggregateRuleConditions, type RuleCondition } from './condition-rules.ts';
import type { FeedbackResult } from './status-feedback.ts';

/** `resourceMeta` of a manifest: what it is and where it lives (empty strings left out). */
export interface ResourceMeta {
  readonly ordinal: number;
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly resource?: string;
  readonly name?: string;
  readonly namespace?: string;
}

/** What one reconcile found for one manifest. */
export interface ManifestOutcome {
  readonly meta: ResourceMeta;
  /**
   * Applied (or, ReadOnly, read) without error; else the message (the API server's own) and the
   * reason when it is not `AppliedManifestFailed`.
   */
  readonly applied:
    | { readonly ok: true }
    | { readonly ok: false; readonly message: string; readonly reason?: string };
  /**
   * The live object: `found` (in `live`), `missing` (404), `failed` (could not be read:
   * `message`), `incomplete` (its kind or name could not be resolved).
   */
  readonly fetch:
    | { readonly state: 'found'; readonly live: JsonObject }
    | { readonly state: 'missing' }
    | { readonly state: 'failed'; readonly message: string }
    | { readonly state: 'incomplete' };
  readonly feedback: FeedbackResult;
  readonly rules: readonly RuleCondition[];
}

type NewCondition = Omit<Condition, 'lastTransitionTime'>;

function availableOf(fetch: ManifestOutcome['fetch']): NewCondition {
  const type = WorkConditionTypes.Available;
  switch (fetch.state) {
    case 'found':
      return {
        type,
        status: 'True',
        reason: WorkReasons.ResourceAvailable,
        message: 'Resource is available',
      };
    case 'missing':
      return {
        type,
        status: 'False',
        reason: WorkReasons.ResourceNotAvailable,
        message: 'Resource is not available',
      };
    case 'failed':
      return {
        type,
        status: 'Unknown',
        reason: WorkReasons.FetchingResourceFailed,
        message: `Failed to fetch resource: ${fetch.message}`,
      };
    case 'incomplete':
      return {
        type,
        status: 'Unknown',
        reason: WorkReasons.IncompleteResourceMeta,
        message: 'Resource meta is incomplete',
      };
  }
}

function sameResource(a: ManifestCondition['resourceMeta'], b: ResourceMeta): boolean {
  return a.ordinal === b.ordinal && a.kind === b.kind && a.name === b.name;
}

/** One `resourceStatus.manifests[]` entry, keeping the times of `previous` conditions. */
export function manifestCondition(
  outcome: ManifestOutcome,
  previous: ManifestCondition | undefined,
  now: Date,
): ManifestCondition {
  const produced: NewCondition[] = [
    outcome.applied.ok
      ? {
          type: WorkConditionTypes.Applied,
          status: 'True',
          reason: WorkReasons.AppliedManifestComplete,
          message: 'Apply manifest complete',
        }
      : {
          type: WorkConditionTypes.Applied,
          status: 'False',
          reason: outcome.applied.reason ?? WorkReasons.AppliedManifestFailed,
          message: outcome.applied.message,
        },
    availableOf(outcome.fetch),
    { type: WorkConditionTypes.StatusFeedbackSynced, ...outcome.feedback.condition },
    ...outcome.rules,
  ];
  const isSame = previous !== undefined && sameResource(previous.resourceMeta, outcome.meta);
  let conditions: Condition[] = isSame ? previous.conditions : [];
  for (const next of produced) conditions = setCondition(conditions, next, now);
  // Only what this reconcile produced, in a fixed order.
  conditions = produced.flatMap((p) => conditions.filter((c) => c.type === p.type));
  return {
    resourceMeta: { ...outcome.meta },
    ...(outcome.feedback.values.length > 0
      ? { statusFeedback: { values: outcome.feedback.values } }
      : {}),
    conditions,
  };
}

/** The work's `Available` from its manifests' (OCM's precedence: False, then Unknown). */
function workAvailable(manifests: readonly ManifestCondition[], generation?: number): NewCondition {
  const statuses = manifests.map(
    (m) => m.conditions.find((c) => c.type === WorkConditionTypes.Available)?.status ?? 'Unknown',
  );
  const total = statuses.length;
  const notAvailable = statuses.filter((s) => s === 'False').length;
  const unknown = statuses.filter((s) => s === 'Unknown').length;
  const base = { type: WorkConditionTypes.Available, ...observed(generation) };
  if (notAvailable > 0) {
    return {
      ...base,
      status: 'False',
      reason: WorkReasons.ResourcesNotAvailable,
      message: `${notAvailable} of ${total} resources are not available`,
    };
  }
  if (unknown > 0) {
    return {
      ...base,
      status: 'Unknown',
      reason: WorkReasons.ResourcesStatusUnknown,
      message: `${unknown} of ${total} resources have unknown status`,
    };
  }
  return {
    ...base,
    status: 'True',
    reason: WorkReasons.ResourcesAvailable,
    message: 'All resources are available',
  };
}

function observed(generation: number | undefined): { observedGeneration?: number } {
  return generation === undefined ? {} : { observedGeneration: generation };
}

/** The whole status after a reconcile that reached the spoke; `outcomes` in spec order. */
export function decideWorkStatus(
  work: ManifestWork,
  outcomes: readonly ManifestOutcome[],
  now: Date,
): ManifestWorkStatus {
  const previous = work.status?.resourceStatus?.manifests ?? [];
  const manifests = outcomes.map((o) =>
    manifestCondition(
      o,
      previous.find((p) => p.resourceMeta.ordinal === o.meta.ordinal),
      now,
    ),
  );
  const generation = work.metadata?.generation;
  const failed = outcomes.filter((o) => !o.applied.ok).length;
  let conditions = setCondition(
    keepOnly(work.status?.conditions ?? [], manifests),
    failed === 0
      ? {
          type: WorkConditionTypes.Applied,
          status: 'True',
          reason: WorkReasons.AppliedManifestWorkComplete,
          message: 'Apply manifest work complete',
          ...observed(generation),
        }
      : {
          type: WorkConditionTypes.Applied,
          status: 'False',
          reason: WorkReasons.AppliedManifestWorkFailed,
          message: `Failed to apply manifest work: ${failed} of ${outcomes.length} manifests failed`,
          ...observed(generation),
        },
    now,
  );
  conditions = setCondition(conditions, workAvailable(manifests, generation), now);
  for (const rule of aggregateRuleConditions(manifests.map((m) => m.conditions))) {
    conditions = setCondition(conditions, { ...rule, ...observed(generation) }, now);
  }
  return { conditions, resourceStatus: { manifests } };
}

/**
 * Work conditions to carry over: Applied, Available and the rule types the manifests still
 * produce (a rule removed from the spec takes its aggregated condition with it); `Deleting` is
 * dropped (a reconcile that applies is not deleting).
 */
function keepOnly(conditions: readonly Condition[], manifests: readonly ManifestCondition[]) {
  const ruleTypes = new Set(
    aggregateRuleConditions(manifests.map((m) => m.conditions)).map((c) => c.type),
  );
  return conditions.filter(
    (c) =>
      c.type === WorkConditionTypes.Applied ||
      c.type === WorkConditionTypes.Available ||
      ruleTypes.has(c.type),
  );
}

/**
 * The status while the cluster cannot be reached: Available Unknown/ResourcesStatusUnknown with
 * `message`; Applied, the manifests and their feedback stay as last seen (nothing false).
 */
export function unreachableStatus(
  work: ManifestWork,
  message: string,
  now: Date,
): ManifestWorkStatus {
  const status = work.status ?? {};
  return {
    ...status,
    conditions: setCondition(
      status.conditions ?? [],
      {
        type: WorkConditionTypes.Available,
        status: 'Unknown',
        reason: WorkReasons.ResourcesStatusUnknown,
        message,
        ...observed(work.metadata?.generation),
      },
      now,
    ),
  };
}

/**
 * Applied False/AppliedManifestWorkFailed with `message` and nothing applied: a work that cannot
 * be applied at all (over the size limit, no AppliedManifestWork on the spoke).
 */
export function notAppliedStatus(
  work: ManifestWork,
  message: string,
  now: Date,
): ManifestWorkStatus {
  const status = work.status ?? {};
  return {
    ...status,
    conditions: setCondition(
      status.conditions ?? [],
      {
        type: WorkConditionTypes.Applied,
        status: 'False',
        reason: WorkReasons.AppliedManifestWorkFailed,
        message,
        ...observed(work.metadata?.generation),
      },
      now,
    ),
  };
}

/** The status while deleting: `Deleting` True/WorkDeleting with what is left. */
export function deletingStatus(work: ManifestWork, message: string, now: Date): ManifestWorkStatus {
  const status = work.status ?? {};
  return {
    ...status,
    conditions: setCondition(
      status.conditions ?? [],
      {
        type: WorkConditionTypes.Deleting,
        status: 'True',
        reason: WorkReasons.WorkDeleting,
        message,
      },
      now,
    ),
  };
}
