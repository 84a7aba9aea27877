/**
 * One scheduling pass of a Placement, as OCM's placement controller makes it; pure (everything
 * it reads is passed in, the clock too):
 * 1. The eligible cluster sets: those bound to the placement's namespace by a
 *    ManagedClusterSetBinding whose set exists, intersected with `spec.clusterSets` when given.
 * 2. The candidates: members of those sets that are not being deleted.
 * 3. Filters: the predicates (ORed), then taints and tolerations.
 * 4. Scores (prioritizers.ts), then the order: higher total first, then cluster name.
 * 5. The first `numberOfClusters` (all when unset) are selected, and written as decision
 *    groups and pages (decision-groups.ts).
 * A misconfigured placement selects nothing (one empty PlacementDecision) and says why.
 */
import type {
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  Placement,
  PlacementDecision,
} from '../../api/index.ts';
import { clusterSetMembers } from '../cluster-set/index.ts';
import { compilePredicates } from './cluster-predicates.ts';
import { decisionGroups, decisionPages } from './decision-groups.ts';
import type { Misconfiguration, PlacementOutcome } from './placement-status.ts';
import { prioritizerWeights, totalScores } from './prioritizers.ts';
import { clusterTolerated, tolerationsProblem } from './taint-toleration.ts';

/** What one pass reads. */
export interface ScheduleInput {
  readonly placement: Placement;
  /** The ManagedClusterSetBindings in the placement's namespace. */
  readonly bindings: readonly ManagedClusterSetBinding[];
  /** A ManagedClusterSet by name, or undefined when it does not exist. */
  readonly clusterSet: (name: string) => ManagedClusterSet | undefined;
  /** Every ManagedCluster of the hub. */
  readonly clusters: readonly ManagedCluster[];
  /** Clusters this placement's PlacementDecisions hold now (Steady, NoSelectIfNew). */
  readonly decided: ReadonlySet<string>;
  /** Per cluster, how many decisions of other placements name it (Balance). */
  readonly otherDecisions: ReadonlyMap<string, number>;
  readonly now: Date;
}

/** What one pass decides. */
export interface ScheduleResult extends PlacementOutcome {
  /** The selected clusters, best first. */
  readonly selected: readonly string[];
  /** Total score of every feasible cluster. */
  readonly scores: ReadonlyMap<string, number>;
  /** The PlacementDecisions to write (at least one); any others of the placement go. */
  readonly decisions: readonly PlacementDecision[];
  /** When a toleration with tolerationSeconds runs out: schedule again after this, ms. */
  readonly requeueAfterMs?: number;
}

const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '';

/** The eligible set names (sorted) and how many bindings are valid. */
export function eligibleClusterSets(
  placement: Placement,
  bindings: readonly ManagedClusterSetBinding[],
  clusterSet: (name: string) => ManagedClusterSet | undefined,
): { readonly names: string[]; readonly validBindings: number } {
  // OCM takes a binding's set from its name (which must equal spec.clusterSet).
  const valid = bindings.filter((b) => clusterSet(nameOf(b)) !== undefined);
  let names = [...new Set(valid.map(nameOf))];
  const wanted = placement.spec.clusterSets ?? [];
  if (wanted.length > 0) names = names.filter((name) => wanted.includes(name));
  return { names: names.sort(), validBindings: valid.length };
}

/** The members of the eligible sets that are not being deleted, each once. */
export function candidateClusters(
  setNames: readonly string[],
  clusterSet: (name: string) => ManagedClusterSet | undefined,
  clusters: readonly ManagedCluster[],
): ManagedCluster[] {
  const candidates = new Map<string, ManagedCluster>();
  for (const name of setNames) {
    const set = clusterSet(name);
    if (set === undefined) continue;
    for (const cluster of clusterSetMembers(set, clusters)) {
      if (cluster.metadata?.deletionTimestamp == null) candidates.set(nameOf(cluster), cluster);
    }
  }
  return [...candidates.values()];
}

interface Filtered {
  readonly feasible: ManagedCluster[];
  readonly misconfiguration?: Misconfiguration;
  readonly expiresAtMs?: number;
}

function filter(input: ScheduleInput, candidates: ManagedCluster[]): Filtered {
  const { spec } = input.placement;
  // Like OCM, a filter checks its configuration only when it has clusters to filter.
  if (candidates.length === 0) return { feasible: candidates };
  const predicates = compilePredicates(spec.predicates);
  if (!predicates.ok)
    return { feasible: [], misconfiguration: { plugin: 'Predicate', message: predicates.message } };
  const matched = candidates.filter(predicates.matches);
  if (matched.length === 0) return { feasible: matched };
  const problem = tolerationsProblem(spec.tolerations);
  if (problem !== undefined)
    return { feasible: [], misconfiguration: { plugin: 'TaintToleration', message: problem } };
  let expiresAtMs: number | undefined;
  const feasible = matched.filter((cluster) => {
    const verdict = clusterTolerated(
      cluster,
      spec.tolerations,
      input.decided.has(nameOf(cluster)),
      input.now,
    );
    if (verdict.tolerated && verdict.expiresAtMs !== undefined)
      expiresAtMs = Math.min(expiresAtMs ?? Infinity, verdict.expiresAtMs);
    return verdict.tolerated;
  });
  return expiresAtMs === undefined ? { feasible } : { feasible, expiresAtMs };
}

/** Schedules `input.placement`; see the module comment. */
export function schedulePlacement(input: ScheduleInput): ScheduleResult {
  const { placement } = input;
  const eligible = eligibleClusterSets(placement, input.bindings, input.clusterSet);
  const candidates = candidateClusters(eligible.names, input.clusterSet, input.clusters);
  const baseCounts = {
    clusterSetsInSpec: placement.spec.clusterSets ?? [],
    eligibleClusterSets: eligible.names,
    validBindings: eligible.validBindings,
    availableClusters: candidates.length,
  };
  const nothing = (misconfiguration: Misconfiguration | undefined): ScheduleResult => {
    const pages = decisionPages(placement, [{ name: '', clusters: [] }]);
    return {
      counts: { ...baseCounts, selectedClusters: 0, unscheduled: 0 },
      ...(misconfiguration === undefined ? {} : { misconfiguration }),
      groups: pages.groups,
      selected: [],
      scores: new Map(),
      decisions: pages.decisions,
    };
  };

  const filtered = filter(input, candidates);
  if (filtered.misconfiguration !== undefined) return nothing(filtered.misconfiguration);
  const weights = prioritizerWeights(placement.spec.prioritizerPolicy);
  if (!weights.ok) return nothing({ plugin: 'Prioritizer', message: weights.message });

  const scores = totalScores(filtered.feasible, weights.weights, input);
  const ordered = [...filtered.feasible].sort((a, b) => {
    const diff = (scores.get(nameOf(b)) ?? 0) - (scores.get(nameOf(a)) ?? 0);
    if (diff !== 0) return diff;
    return nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0;
  });
  const wanted = placement.spec.numberOfClusters;
  const selected = wanted === undefined ? ordered : ordered.slice(0, Math.max(0, wanted));
  const groups = decisionGroups(placement, selected);
  if (!groups.ok) return nothing({ plugin: 'DecisionStrategy', message: groups.message });
  const pages = decisionPages(placement, groups.value);
  const requeue =
    filtered.expiresAtMs === undefined
      ? {}
      : { requeueAfterMs: Math.max(0, filtered.expiresAtMs - input.now.getTime()) };
  return {
    counts: {
      ...baseCounts,
      selectedClusters: selected.length,
      unscheduled: wanted === undefined ? 0 : wanted - selected.length,
    },
    groups: pages.groups,
    selected: selected.map(nameOf),
    scores,
    decisions: pages.decisions,
    ...requeue,
  };
}
