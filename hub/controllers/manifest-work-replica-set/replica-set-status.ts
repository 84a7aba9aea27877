/**
 * The status of a ManifestWorkReplicaSet from its placements and its works: `summary`,
 * `placementSummary` and OCM's three conditions with OCM's reasons. Pure.
 */
import {
  ManifestWorkReplicaSetConditions as C,
  type Condition,
  type ManifestWork,
  type ManifestWorkReplicaSet,
  type ManifestWorkReplicaSetStatus,
} from '../../api/index.ts';
import { setCondition } from '../../kube/index.ts';
import type { RolloutDecision } from './rollout.ts';

/** What the controller found for one placement ref. */
export interface PlacementObservation {
  readonly name: string;
  /** At least one PlacementDecision of the placement exists. */
  readonly isFound: boolean;
  /** Decided clusters (each counted once across refs: the first ref that chose it). */
  readonly clusters: readonly string[];
  /** Number of decision groups among its decisions. */
  readonly groups: number;
  readonly rollout: RolloutDecision;
}

type Summary = NonNullable<ManifestWorkReplicaSetStatus['summary']>;

function isTrue(work: ManifestWork, type: string): boolean {
  return work.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** Counts over `works` (OCM's summary: one per work, by its conditions). */
export function summarize(
  works: readonly ManifestWork[],
  desiredTotal: number,
  updated: number,
): Summary {
  return {
    total: works.length,
    applied: works.filter((w) => isTrue(w, 'Applied')).length,
    available: works.filter((w) => isTrue(w, 'Available')).length,
    progressing: works.filter((w) => isTrue(w, 'Progressing')).length,
    degraded: works.filter((w) => isTrue(w, 'Degraded')).length,
    desiredTotal,
    updated,
  };
}

function placementVerified(
  placements: readonly PlacementObservation[],
): Omit<Condition, 'lastTransitionTime'> {
  const missing = placements.filter((p) => !p.isFound).map((p) => p.name);
  if (missing.length > 0)
    return {
      type: C.PlacementVerified,
      status: 'False',
      reason: C.ReasonPlacementDecisionNotFound,
      message: `No PlacementDecision found for placement ${missing.join(', ')}.`,
    };
  if (placements.every((p) => p.clusters.length === 0))
    return {
      type: C.PlacementVerified,
      status: 'False',
      reason: C.ReasonPlacementDecisionEmpty,
      message: 'The placements selected no cluster.',
    };
  return { type: C.PlacementVerified, status: 'True', reason: C.ReasonAsExpected, message: '' };
}

function placementRolledOut(
  placements: readonly PlacementObservation[],
): Omit<Condition, 'lastTransitionTime'> {
  const stopped = placements.filter((p) => p.rollout.isStopped);
  if (stopped.length > 0)
    return {
      type: C.PlacementRolledOut,
      status: 'False',
      reason: C.ReasonProgressing,
      message: `Rollout stopped: failures exceed maxFailures for placement ${stopped
        .map((p) => `${p.name} (${p.rollout.failures})`)
        .join(', ')}.`,
    };
  if (placements.every((p) => p.rollout.isComplete))
    return { type: C.PlacementRolledOut, status: 'True', reason: C.ReasonComplete, message: '' };
  return {
    type: C.PlacementRolledOut,
    status: 'False',
    reason: C.ReasonProgressing,
    message: 'The rollout of the ManifestWorks is in progress.',
  };
}

function isFalse(work: ManifestWork, type: string): boolean {
  return work.status?.conditions?.some((c) => c.type === type && c.status === 'False') ?? false;
}

function manifestworkApplied(
  summary: Summary,
  works: readonly ManifestWork[],
): Omit<Condition, 'lastTransitionTime'> {
  const total = summary.total ?? 0;
  const applied = summary.applied ?? 0;
  if (total > 0 && applied === total && total === summary.desiredTotal)
    return { type: C.ManifestworkApplied, status: 'True', reason: C.ReasonAsExpected, message: '' };
  const failed = works.filter((w) => isFalse(w, 'Applied') || isTrue(w, 'Degraded')).length;
  if (failed > 0)
    return {
      type: C.ManifestworkApplied,
      status: 'False',
      reason: C.ReasonNotAsExpected,
      message: `${failed} of ${total} ManifestWorks failed to apply or are degraded.`,
    };
  return {
    type: C.ManifestworkApplied,
    status: 'False',
    reason: C.ReasonProcessing,
    message: `${applied} of ${summary.desiredTotal ?? 0} ManifestWorks are applied.`,
  };
}

/**
 * The replica set's status: `summary` over `works` (those labelled for it), `placementSummary`
 * per ref (`availableDecisionGroups` as OCM writes it: "<groups> (<n> / <m> clusters applied)",
 * n the clusters holding the current template), and the conditions PlacementVerified
 * (AsExpected / PlacementDecisionNotFound / PlacementDecisionEmpty), PlacementRolledOut
 * (Complete / Progressing) and ManifestworkApplied (AsExpected once every desired work is
 * Applied; NotAsExpected when some are not applied (Applied False) or degraded; Processing
 * otherwise), with the replica set's
 * generation and `lastTransitionTime` kept while a status holds.
 */
export function decideReplicaSetStatus(
  mwrs: ManifestWorkReplicaSet,
  placements: readonly PlacementObservation[],
  works: readonly ManifestWork[],
  updated: ReadonlySet<string>,
  now: Date,
): ManifestWorkReplicaSetStatus {
  const desiredTotal = placements.reduce((n, p) => n + p.clusters.length, 0);
  const summary = summarize(works, desiredTotal, updated.size);
  const worksByCluster = new Map(works.map((w) => [w.metadata?.namespace ?? '', w]));
  const placementSummary = placements.map((p) => {
    const mine = p.clusters.flatMap((c) => worksByCluster.get(c) ?? []);
    const current = p.clusters.filter((c) => updated.has(c)).length;
    return {
      name: p.name,
      availableDecisionGroups: `${p.groups} (${current} / ${p.clusters.length} clusters applied)`,
      summary: summarize(mine, p.clusters.length, current),
    };
  });
  const generation = mwrs.metadata?.generation;
  const withGeneration = (c: Omit<Condition, 'lastTransitionTime'>) =>
    generation === undefined ? c : { ...c, observedGeneration: generation };
  let conditions = mwrs.status?.conditions ?? [];
  for (const next of [
    placementVerified(placements),
    placementRolledOut(placements),
    manifestworkApplied(summary, works),
  ])
    conditions = setCondition(conditions, withGeneration(next), now);
  return { conditions, summary, placementSummary };
}
