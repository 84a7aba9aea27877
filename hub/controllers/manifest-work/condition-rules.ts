/**
 * `manifestConfigs[].conditionRules` (pure): the conditions a manifest's rules produce from its
 * live object, and their aggregation into work-level conditions (OCM's `ConditionRulesAggregated`).
 *
 * Supported: `WellKnownConditions` (`Complete` for Job and Pod). CEL rules are not evaluated yet:
 * each yields its condition as False/`ConditionRuleInvalid` with a message saying so.
 */
import { WorkConditionTypes, WorkReasons, type Condition } from '../../api/index.ts';

/** A condition a rule produced (its lastTransitionTime is set when it is written). */
export interface RuleCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** A condition rule as the ManifestWork schema declares it. */
export interface ConditionRule {
  readonly condition: string;
  readonly type: 'WellKnownConditions' | 'CEL';
  readonly message?: string;
}

/** The message of a CEL rule's condition. */
export const CEL_NOT_SUPPORTED_MESSAGE =
  'CEL condition rules are not supported by this hub yet; the rule was not evaluated';

type Live = Record<string, unknown>;

function conditionsOf(object: Live): Array<Record<string, unknown>> {
  const status = object.status as { conditions?: unknown } | undefined;
  return Array.isArray(status?.conditions)
    ? (status.conditions as Array<Record<string, unknown>>)
    : [];
}

/** The well-known `Complete` condition of a Job or Pod, or undefined for other kinds. */
function wellKnownComplete(object: Live, group: string, kind: string): RuleCondition | undefined {
  const evaluated = (status: 'True' | 'False', message: string): RuleCondition => ({
    type: WorkConditionTypes.Complete,
    status,
    reason: WorkReasons.ConditionRuleEvaluated,
    message,
  });
  if (group === 'batch' && kind === 'Job') {
    const complete = conditionsOf(object).find((c) => c.type === 'Complete');
    return complete?.status === 'True'
      ? evaluated('True', 'Job is complete')
      : evaluated('False', 'Job is not complete');
  }
  if (group === '' && kind === 'Pod') {
    const phase = (object.status as { phase?: unknown } | undefined)?.phase;
    return phase === 'Succeeded' || phase === 'Failed'
      ? evaluated('True', `Pod has completed with phase ${phase}`)
      : evaluated('False', `Pod has not completed (phase ${String(phase ?? 'unknown')})`);
  }
  return undefined;
}

/**
 * The conditions `rules` produce for the live `object` (undefined: not read, no conditions).
 * A rule's own `message` replaces the computed one, as in OCM.
 */
export function evaluateConditionRules(
  object: Live | undefined,
  resource: { readonly group: string; readonly kind: string },
  rules: readonly ConditionRule[] | undefined,
): RuleCondition[] {
  if (object === undefined || rules === undefined) return [];
  const out: RuleCondition[] = [];
  const add = (condition: RuleCondition, message: string | undefined): void => {
    if (out.some((c) => c.type === condition.type)) return;
    out.push(message === undefined || message === '' ? condition : { ...condition, message });
  };
  for (const rule of rules) {
    if (rule.type === 'CEL') {
      add(
        {
          type: rule.condition,
          status: 'False',
          reason: WorkReasons.ConditionRuleInvalid,
          message: CEL_NOT_SUPPORTED_MESSAGE,
        },
        undefined,
      );
      continue;
    }
    const complete = wellKnownComplete(object, resource.group, resource.kind);
    if (complete === undefined) continue;
    if (rule.condition === '' || rule.condition === complete.type) add(complete, rule.message);
  }
  return out;
}

/** Condition types every manifest has; everything else came from rules. */
const BUILT_IN_TYPES: ReadonlySet<string> = new Set([
  WorkConditionTypes.Applied,
  WorkConditionTypes.Available,
  WorkConditionTypes.StatusFeedbackSynced,
]);

/**
 * Work-level conditions aggregated from the rule conditions of every manifest, in order of first
 * appearance: `Progressing` is True when any manifest's is, else Unknown when any is, else False;
 * every other type is False when any is, else Unknown when any is, else True. Reason
 * `ConditionRulesAggregated`.
 */
export function aggregateRuleConditions(
  manifests: ReadonlyArray<readonly Pick<Condition, 'type' | 'status'>[]>,
): RuleCondition[] {
  const byType = new Map<string, string[]>();
  for (const conditions of manifests) {
    for (const c of conditions) {
      if (BUILT_IN_TYPES.has(c.type)) continue;
      byType.set(c.type, [...(byType.get(c.type) ?? []), c.status]);
    }
  }
  return [...byType].map(([type, statuses]) => {
    const count = (s: string) => statuses.filter((x) => x === s).length;
    const status: RuleCondition['status'] =
      type === WorkConditionTypes.Progressing
        ? count('True') > 0
          ? 'True'
          : count('Unknown') > 0
            ? 'Unknown'
            : 'False'
        : count('False') > 0
          ? 'False'
          : count('Unknown') > 0
            ? 'Unknown'
            : 'True';
    return {
      type,
      status,
      reason: WorkReasons.ConditionRulesAggregated,
      message: `${count(status)} of ${statuses.length} manifests with this condition report ${status}`,
    };
  });
}
