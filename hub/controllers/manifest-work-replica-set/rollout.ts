/**
 * Which clusters of one placement get the ManifestWorkReplicaSet's current template now, under
 * the placement ref's rollout strategy (OCM's RolloutStrategy: All, Progressive,
 * ProgressivePerGroup). Pure: the controller supplies what it observed and the time, and writes
 * what this returns.
 */
import type { RolloutStrategy } from '../../api/index.ts';

/** How far one cluster is with the current template (OCM's ClusterRolloutStatus). */
export const ClusterRolloutStates = {
  /** No work, or a work with an older template. */
  ToApply: 'ToApply',
  /** The current template is on the cluster but not yet Applied and Available. */
  Progressing: 'Progressing',
  /** Applied and Available with the current template. */
  Succeeded: 'Succeeded',
  /** Applied False or Degraded True with the current template. */
  Failed: 'Failed',
  /** Progressing for longer than `progressDeadline`. */
  TimeOut: 'TimeOut',
} as const;
export type ClusterRolloutState = (typeof ClusterRolloutStates)[keyof typeof ClusterRolloutStates];

/** One cluster of the placement, as observed. */
export interface RolloutCluster {
  readonly name: string;
  /** Decision group index (the PlacementDecision's `decision-group-index` label); default 0. */
  readonly groupIndex: number;
  /** Decision group name; may be empty. */
  readonly groupName: string;
  /** Its state, without deadlines applied (the rollout adds TimeOut). */
  readonly state: Exclude<ClusterRolloutState, 'TimeOut'>;
  /** When the state began (the condition's lastTransitionTime, or the work's creation), ms. */
  readonly sinceMs?: number;
}

/** What {@link decideRollout} decided for one placement. */
export interface RolloutDecision {
  /** Clusters to write the current template to now (in rollout order). */
  readonly toApply: readonly string[];
  /** Every cluster's state, TimeOut included. */
  readonly states: ReadonlyMap<string, ClusterRolloutState>;
  /** True once every cluster has succeeded (for at least `minSuccessTime`) or failed within budget. */
  readonly isComplete: boolean;
  /** Failures (Failed + TimeOut) exceed `maxFailures`: no new cluster is started. */
  readonly isStopped: boolean;
  readonly failures: number;
  /** Run again after this many ms: a minSuccessTime or progressDeadline runs out then. */
  readonly requeueAfterMs?: number;
}

/** A duration like `30s`, `5m`, `2h`, `1h30m`, `0` or `None` (undefined), in ms. */
export function parseRolloutDuration(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === 'None') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  let total = 0;
  let rest = value;
  while (rest !== '') {
    const match = /^(\d+(?:\.\d+)?)(ms|h|m|s)/.exec(rest);
    if (match === null) return undefined;
    total += Number(match[1]) * (units[match[2] ?? 's'] ?? 1_000);
    rest = rest.slice(match[0].length);
  }
  return total;
}

/**
 * `value` (a count or `N%` of `total`) as a count. Percentages round up for a concurrency
 * (`roundUp`: at least one cluster moves) and down for a failure budget.
 */
export function resolveCount(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  if (percent === null) return /^\d+$/.test(value) ? Number(value) : undefined;
  const exact = (total * Number(percent[1])) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

interface Timing {
  readonly minSuccessMs: number;
  readonly deadlineMs: number | undefined;
  readonly maxFailures: number;
}

function timingOf(strategy: RolloutStrategy | undefined, total: number): Timing {
  const type = strategy?.type ?? 'All';
  const part =
    type === 'Progressive'
      ? strategy?.progressive
      : type === 'ProgressivePerGroup'
        ? strategy?.progressivePerGroup
        : strategy?.all;
  return {
    minSuccessMs: parseRolloutDuration(part?.minSuccessTime) ?? 0,
    deadlineMs: parseRolloutDuration(part?.progressDeadline),
    maxFailures: resolveCount(part?.maxFailures, total, false) ?? 0,
  };
}

function isMandatory(cluster: RolloutCluster, strategy: RolloutStrategy | undefined): boolean {
  const groups =
    strategy?.type === 'Progressive'
      ? strategy.progressive?.mandatoryDecisionGroups
      : strategy?.type === 'ProgressivePerGroup'
        ? strategy.progressivePerGroup?.mandatoryDecisionGroups
        : undefined;
  return (groups ?? []).some(
    (g) =>
      (g.groupName !== undefined && g.groupName !== '' && g.groupName === cluster.groupName) ||
      (g.groupIndex !== undefined && g.groupIndex === cluster.groupIndex),
  );
}

/**
 * The rollout of one placement ref at `nowMs`:
 * - Clusters are taken in rollout order: mandatory decision groups first, then by decision group
 *   index, then by name.
 * - A Progressing cluster past `progressDeadline` is TimeOut; TimeOut and Failed are failures.
 *   When failures exceed `maxFailures` (a count or a percentage of the clusters, rounded down),
 *   the rollout stops: no new cluster starts, the ones started keep their work.
 * - A cluster occupies a slot while it is Progressing, Failed, or Succeeded for less than
 *   `minSuccessTime`; a TimeOut cluster frees its slot (its failure is counted instead).
 * - All: every cluster now. Progressive: at most `maxConcurrency` (a count, or a percentage of
 *   the clusters rounded up; default the largest decision group) clusters hold slots; the
 *   mandatory groups go first, all at once, and the rest waits until they are done.
 *   ProgressivePerGroup: a whole decision group at a time, the next once no slot is held.
 */
export function decideRollout(
  clusters: readonly RolloutCluster[],
  strategy: RolloutStrategy | undefined,
  nowMs: number,
): RolloutDecision {
  const type = strategy?.type ?? 'All';
  const timing = timingOf(strategy, clusters.length);
  const ordered = [...clusters].sort(
    (a, b) =>
      Number(isMandatory(b, strategy)) - Number(isMandatory(a, strategy)) ||
      a.groupIndex - b.groupIndex ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const states = new Map<string, ClusterRolloutState>();
  let failures = 0;
  let busy = 0;
  let isComplete = true;
  let wakeAtMs: number | undefined;
  const wakeAt = (atMs: number): void => {
    if (atMs > nowMs && (wakeAtMs === undefined || atMs < wakeAtMs)) wakeAtMs = atMs;
  };
  const busyGroups = new Set<number>();
  let mandatoryPending = false;
  for (const cluster of ordered) {
    let state: ClusterRolloutState = cluster.state;
    const since = cluster.sinceMs ?? nowMs;
    if (state === 'Progressing' && timing.deadlineMs !== undefined) {
      if (nowMs - since >= timing.deadlineMs) state = 'TimeOut';
      else wakeAt(since + timing.deadlineMs);
    }
    states.set(cluster.name, state);
    let holdsSlot = state === 'Progressing' || state === 'Failed';
    if (state === 'Succeeded' && nowMs - since < timing.minSuccessMs) {
      holdsSlot = true;
      wakeAt(since + timing.minSuccessMs);
    }
    if (state === 'Failed' || state === 'TimeOut') failures += 1;
    if (holdsSlot) {
      busy += 1;
      busyGroups.add(cluster.groupIndex);
    }
    if (state === 'ToApply' || holdsSlot) {
      isComplete = false;
      if (isMandatory(cluster, strategy)) mandatoryPending = true;
    }
  }
  const isStopped = failures > timing.maxFailures;
  const pending = ordered.filter((c) => states.get(c.name) === 'ToApply');
  let toApply: RolloutCluster[] = [];
  if (!isStopped && pending.length > 0) {
    if (type === 'All') toApply = pending;
    else {
      const mandatory = pending.filter((c) => isMandatory(c, strategy));
      if (mandatory.length > 0) toApply = mandatory;
      else if (mandatoryPending) toApply = [];
      else if (type === 'ProgressivePerGroup') {
        const first = pending[0];
        toApply =
          busy > 0 || first === undefined
            ? []
            : pending.filter((c) => c.groupIndex === first.groupIndex);
      } else {
        const groupSizes = new Map<number, number>();
        for (const c of clusters)
          groupSizes.set(c.groupIndex, (groupSizes.get(c.groupIndex) ?? 0) + 1);
        const max = Math.max(
          1,
          resolveCount(strategy?.progressive?.maxConcurrency, clusters.length, true) ??
            Math.max(0, ...groupSizes.values()),
        );
        toApply = pending.slice(0, Math.max(0, max - busy));
      }
    }
  }
  return {
    toApply: toApply.map((c) => c.name),
    states,
    isComplete: isComplete && !isStopped,
    isStopped,
    failures,
    ...(wakeAtMs === undefined ? {} : { requeueAfterMs: wakeAtMs - nowMs }),
  };
}
