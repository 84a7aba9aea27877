/**
 * A Placement's status from a schedule: `numberOfSelectedClusters`, `decisionGroups`, and the
 * conditions OCM's scheduling controller writes, with its reasons and messages:
 * - `PlacementMisconfigured`: True/`Misconfigured` "`<plugin>:<message>`" when a selector,
 *   toleration, prioritizer or group strategy is unusable; else False/`Succeedconfigured`.
 * - `PlacementSatisfied`, first match wins: no valid binding in the namespace →
 *   `NoManagedClusterSetBindings`; none of `spec.clusterSets` bound → `NoIntersection`; the
 *   eligible sets hold no cluster → `AllManagedClusterSetsEmpty`; nothing chosen →
 *   `NoManagedClusterMatched`; fewer than `numberOfClusters` → `NotAllDecisionsScheduled`;
 *   otherwise True/`AllDecisionsScheduled`.
 * Pure; other conditions and `lastScoreUpdateTime` are kept.
 */
import {
  PlacementConditions,
  type Condition,
  type Placement,
  type PlacementStatus,
} from '../../api/index.ts';
import { setCondition } from '../../kube/index.ts';
import type { DecisionGroupStatus } from './decision-groups.ts';

type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** A refusal of the placement's configuration: which part refused it and why. */
export interface Misconfiguration {
  /** OCM's plugin name: `Predicate`, `TaintToleration`, `Prioritizer`, `DecisionStrategy`. */
  readonly plugin: string;
  readonly message: string;
}

/** The counts `PlacementSatisfied` is decided from. */
export interface SatisfactionCounts {
  /** `spec.clusterSets` as written. */
  readonly clusterSetsInSpec: readonly string[];
  /** Bound sets the placement may use (after intersecting with `spec.clusterSets`). */
  readonly eligibleClusterSets: readonly string[];
  /** Bindings in the namespace whose set exists. */
  readonly validBindings: number;
  /** Clusters in the eligible sets (not being deleted). */
  readonly availableClusters: number;
  readonly selectedClusters: number;
  /** `numberOfClusters` minus the selected, when set. */
  readonly unscheduled: number;
}

export function misconfiguredCondition(
  misconfiguration: Misconfiguration | undefined,
): ConditionInput {
  return misconfiguration === undefined
    ? {
        type: PlacementConditions.Misconfigured,
        status: 'False',
        reason: PlacementConditions.ReasonSucceedconfigured,
        message: 'Placement configurations check pass',
      }
    : {
        type: PlacementConditions.Misconfigured,
        status: 'True',
        reason: PlacementConditions.ReasonMisconfigured,
        message: `${misconfiguration.plugin}:${misconfiguration.message}`,
      };
}

export function satisfiedCondition(counts: SatisfactionCounts): ConditionInput {
  const type = PlacementConditions.Satisfied;
  if (counts.validBindings === 0)
    return {
      type,
      status: 'False',
      reason: PlacementConditions.ReasonNoManagedClusterSetBindings,
      message: 'No valid ManagedClusterSetBindings found in placement namespace',
    };
  if (counts.eligibleClusterSets.length === 0)
    return {
      type,
      status: 'False',
      reason: PlacementConditions.ReasonNoIntersection,
      message: `None of ManagedClusterSets [${counts.clusterSetsInSpec.join(',')}] is bound to placement namespace`,
    };
  if (counts.availableClusters === 0)
    return {
      type,
      status: 'False',
      reason: PlacementConditions.ReasonAllManagedClusterSetsEmpty,
      message: `All ManagedClusterSets [${counts.eligibleClusterSets.join(',')}] have no member ManagedCluster`,
    };
  if (counts.selectedClusters === 0)
    return {
      type,
      status: 'False',
      reason: PlacementConditions.ReasonNoManagedClusterMatched,
      message: 'No ManagedCluster matches any of the cluster predicate',
    };
  if (counts.unscheduled > 0)
    return {
      type,
      status: 'False',
      reason: PlacementConditions.ReasonNotAllDecisionsScheduled,
      message: `${counts.unscheduled} cluster decisions unscheduled`,
    };
  return {
    type,
    status: 'True',
    reason: PlacementConditions.ReasonAllDecisionsScheduled,
    message: 'All cluster decisions scheduled',
  };
}

/** What a schedule says about the placement. */
export interface PlacementOutcome {
  readonly counts: SatisfactionCounts;
  readonly misconfiguration?: Misconfiguration;
  readonly groups: readonly DecisionGroupStatus[];
}

/** The placement's next status. */
export function decidePlacementStatus(
  placement: Placement,
  outcome: PlacementOutcome,
  now: Date,
): PlacementStatus {
  let conditions = setCondition(
    placement.status?.conditions ?? [],
    misconfiguredCondition(outcome.misconfiguration),
    now,
  );
  conditions = setCondition(conditions, satisfiedCondition(outcome.counts), now);
  return {
    ...placement.status,
    numberOfSelectedClusters: outcome.counts.selectedClusters,
    decisionGroups: [...outcome.groups],
    conditions,
  };
}
