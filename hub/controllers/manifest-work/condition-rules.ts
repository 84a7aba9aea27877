/**
 * `manifestConfigs[].conditionRules` (pure): the conditions a manifest's rules produce from its
 * live object, and their aggregation into work-level conditions (OCM's `ConditionRulesAggregated`).
 *
 * Supported: `WellKnownConditions` (`Complete` for Job and Pod) and `CEL` (cel-rules.ts). A rule
 * of another type gives its condition as Unknown/`ConditionRuleInvalid`, as in OCM.
 */
import { WorkConditionTypes, WorkReasons, type Condition } from '../../api/index.ts';
import { evaluateCelRule, ruleMessage, toCelValue } from './cel-rules.ts';

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
  readonly celExpressions?: readonly string[];
  readonly message?: string;
  readonly messageExpression?: string;
}

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
 * A rule's own `messageExpression` or `message` replaces the computed one, as in OCM.
 */
export function evaluateConditionRules(
  object: Live | undefined,
  resource: { readonly group: string; readonly kind: string },
  rules: readonly ConditionRule[] | undefined,
): RuleCondition[] {
  if (object === undefined || rules === undefined) return [];
  const out: RuleCondition[] = [];
  const add = (condition: RuleCondition): void => {
    if (!out.some((c) => c.type === condition.type)) out.push(condition);
  };
  for (const rule of rules) {
    switch (rule.type) {
      case 'CEL':
        add(evaluateCelRule(object, rule));
        break;
      case 'WellKnownConditions': {
        const complete = wellKnownComplete(object, resource.group, resource.kind);
        if (complete === undefined) break;
        if (rule.condition !== '' && rule.condition !== complete.type) break;
        const isTrue = complete.status === 'True';
        const message = ruleMessage(toCelValue(object), rule, isTrue, complete.message);
        add({ ...complete, message });
        break;
      }
      default:
        add({
          type: (rule as ConditionRule).condition,
          status: 'Unknown',
          reason: WorkReasons.ConditionRuleInvalid,
          message: `unrecognized condition rule type ${String((rule as ConditionRule).type)}`,
        });
    }
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
