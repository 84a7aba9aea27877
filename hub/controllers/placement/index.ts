// Public surface of hub/controllers/placement/: the Placement scheduler and its pure parts.
export {
  clusterClaims,
  compileClusterSelector,
  compilePredicates,
  type ClusterMatcher,
} from './cluster-predicates.ts';
export {
  decisionGroups,
  decisionPages,
  groupLength,
  MAX_DECISIONS_PER_PLACEMENT_DECISION,
  placementDecisionName,
  type ClusterGroup,
  type DecisionGroupStatus,
  type DecisionPages,
} from './decision-groups.ts';
export { DecisionIndex } from './decision-index.ts';
export {
  createPlacementController,
  REQUEUE_SLACK_MS,
  type PlacementController,
  type PlacementControllerOptions,
} from './placement-controller.ts';
export {
  decidePlacementStatus,
  misconfiguredCondition,
  satisfiedCondition,
  type Misconfiguration,
  type PlacementOutcome,
  type SatisfactionCounts,
} from './placement-status.ts';
export { kubePlacementStore, type PlacementStore } from './placement-store.ts';
export {
  MAX_CLUSTER_SCORE,
  prioritizerScores,
  prioritizerWeights,
  totalScores,
  type ScoreContext,
  type WeightedPrioritizer,
} from './prioritizers.ts';
export {
  candidateClusters,
  eligibleClusterSets,
  schedulePlacement,
  type ScheduleInput,
  type ScheduleResult,
} from './schedule.ts';
export {
  clusterTolerated,
  tolerationsProblem,
  type TolerationVerdict,
} from './taint-toleration.ts';
