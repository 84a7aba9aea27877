/**
 * Placement prioritizers, scored as OCM's placement scores them (pkg/placement/plugins and
 * scheduling/schedule.go). Each prioritizer gives every feasible cluster a score in −100…100;
 * a cluster's total is the sum of weight × score. Mode `Additive` (the default) starts from
 * Steady and Balance at weight 1 and lets `configurations` change or add weights; `Exact` uses
 * only `configurations`. A weight of 0 turns a prioritizer off. Pure.
 *
 * - Steady: 100 for clusters the placement has chosen already, else 0 (keeps decisions stable).
 * - Balance: 100 for clusters no other placement chose; otherwise `2 × trunc(100 × (0.5 −
 *   count / max))`, where count is how many decisions of other placements name the cluster and
 *   max the highest such count over all clusters.
 * - ResourceAllocatableCPU / ResourceAllocatableMemory: `status.allocatable` of `cpu` / `memory`
 *   scaled from −100 (least) to 100 (most) among the feasible clusters that report both it and
 *   its capacity (100 for all when they are equal; others get no score).
 * - AddOn scores (`type: AddOn`): 0 for every cluster, which is what OCM gives a cluster without
 *   an AddOnPlacementScore; this hub does not serve that kind yet.
 */
import type { ManagedCluster, PlacementSpec } from '../../api/index.ts';
import { parseQuantity } from '../../kube/index.ts';

/** Highest and lowest score of one prioritizer. */
export const MAX_CLUSTER_SCORE = 100;

type PrioritizerPolicy = NonNullable<PlacementSpec['prioritizerPolicy']>;
type PrioritizerConfig = NonNullable<PrioritizerPolicy['configurations']>[number];

/** A prioritizer and its weight. */
export interface WeightedPrioritizer {
  /** `Steady`, `Balance`, `ResourceAllocatableCPU`, … or `AddOn/<resourceName>/<scoreName>`. */
  readonly name: string;
  readonly weight: number;
}

/** What the prioritizers read besides the clusters. */
export interface ScoreContext {
  /** Clusters the placement's PlacementDecisions hold now. */
  readonly decided: ReadonlySet<string>;
  /** Decisions of all other placements, per cluster name. */
  readonly otherDecisions: ReadonlyMap<string, number>;
}

const DEFAULT_WEIGHTS: readonly WeightedPrioritizer[] = [
  { name: 'Balance', weight: 1 },
  { name: 'Steady', weight: 1 },
];
const BUILT_IN = new Set([
  'Balance',
  'Steady',
  'ResourceAllocatableCPU',
  'ResourceAllocatableMemory',
]);

function coordinateName(config: PrioritizerConfig): string | { readonly problem: string } {
  const coordinate = config.scoreCoordinate;
  if (coordinate.type === 'AddOn') {
    if (coordinate.addOn === undefined) return { problem: 'addOn should not be empty' };
    return `AddOn/${coordinate.addOn.resourceName}/${coordinate.addOn.scoreName}`;
  }
  const name = coordinate.builtIn ?? '';
  return BUILT_IN.has(name) ? name : { problem: `incorrect builtin prioritizer: ${name}` };
}

/**
 * The prioritizers of `policy` with their weights (weight 0 left out), or why the policy is
 * unusable (an unknown mode or built-in prioritizer, an AddOn coordinate without `addOn`).
 */
export function prioritizerWeights(
  policy: PlacementSpec['prioritizerPolicy'],
):
  | { readonly ok: true; readonly weights: WeightedPrioritizer[] }
  | { readonly ok: false; readonly message: string } {
  const mode = policy?.mode ?? '';
  if (mode !== 'Exact' && mode !== 'Additive' && mode !== '')
    return { ok: false, message: `incorrect prioritizer policy mode: ${mode}` };
  const weights = new Map<string, number>(
    mode === 'Exact' ? [] : DEFAULT_WEIGHTS.map((p) => [p.name, p.weight]),
  );
  for (const config of policy?.configurations ?? []) {
    const name = coordinateName(config);
    if (typeof name !== 'string') return { ok: false, message: name.problem };
    weights.set(name, config.weight ?? 1);
  }
  return {
    ok: true,
    weights: [...weights]
      .filter(([, weight]) => weight !== 0)
      .map(([name, weight]) => ({ name, weight })),
  };
}

const nameOf = (cluster: ManagedCluster) => cluster.metadata?.name ?? '';

function steady(clusters: readonly ManagedCluster[], context: ScoreContext): Map<string, number> {
  return new Map(
    clusters.map((c) => [nameOf(c), context.decided.has(nameOf(c)) ? MAX_CLUSTER_SCORE : 0]),
  );
}

function balance(clusters: readonly ManagedCluster[], context: ScoreContext): Map<string, number> {
  let max = 0;
  for (const count of context.otherDecisions.values()) max = Math.max(max, count);
  return new Map(
    clusters.map((c) => {
      const count = context.otherDecisions.get(nameOf(c)) ?? 0;
      if (count === 0) return [nameOf(c), MAX_CLUSTER_SCORE];
      return [nameOf(c), 2 * Math.trunc(MAX_CLUSTER_SCORE * (0.5 - count / max))];
    }),
  );
}

/** A quantity as an approximate float, or undefined when absent or unreadable. */
function approximate(text: number | string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return Number(parseQuantity(String(text)).nanos) / 1e9;
  } catch {
    return undefined;
  }
}

function allocatable(clusters: readonly ManagedCluster[], resource: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const cluster of clusters) {
    const value = approximate(cluster.status?.allocatable?.[resource]);
    const capacity = approximate(cluster.status?.capacity?.[resource]);
    if (value !== undefined && capacity !== undefined) values.set(nameOf(cluster), value);
  }
  if (values.size === 0) return values;
  const min = Math.min(...values.values());
  const max = Math.max(...values.values());
  return new Map(
    [...values].map(([name, value]) => [
      name,
      max === min
        ? MAX_CLUSTER_SCORE
        : Math.trunc(((value - min) / (max - min) - 0.5) * 2 * MAX_CLUSTER_SCORE),
    ]),
  );
}

/** The scores of one prioritizer; clusters without a score count as 0. */
export function prioritizerScores(
  name: string,
  clusters: readonly ManagedCluster[],
  context: ScoreContext,
): Map<string, number> {
  switch (name) {
    case 'Steady':
      return steady(clusters, context);
    case 'Balance':
      return balance(clusters, context);
    case 'ResourceAllocatableCPU':
      return allocatable(clusters, 'cpu');
    case 'ResourceAllocatableMemory':
      return allocatable(clusters, 'memory');
    default:
      return new Map(clusters.map((c) => [nameOf(c), 0]));
  }
}

/** Every cluster's total: Σ weight × score over `weights`. */
export function totalScores(
  clusters: readonly ManagedCluster[],
  weights: readonly WeightedPrioritizer[],
  context: ScoreContext,
): Map<string, number> {
  const totals = new Map(clusters.map((c) => [nameOf(c), 0]));
  for (const { name, weight } of weights) {
    for (const [cluster, score] of prioritizerScores(name, clusters, context))
      totals.set(cluster, (totals.get(cluster) ?? 0) + weight * score);
  }
  return totals;
}
