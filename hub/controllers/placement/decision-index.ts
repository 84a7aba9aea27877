/**
 * An index over the hub's PlacementDecisions, fed by their watch: which PlacementDecisions and
 * clusters each placement has now (Steady, NoSelectIfNew, and what to delete), and how many
 * decisions name each cluster across all placements (Balance). Placements are keyed
 * `<namespace>/<name>`; a PlacementDecision belongs to the placement its
 * `cluster.open-cluster-management.io/placement` label names. Not thread-shared state: call
 * from the event loop only (as everything in Node is).
 */
import { Labels, type PlacementDecision } from '../../api/index.ts';

interface Entry {
  readonly placement: string;
  readonly name: string;
  readonly clusters: readonly string[];
}

export class DecisionIndex {
  /** By `<namespace>/<decision name>`. */
  readonly #entries = new Map<string, Entry>();
  /** Placement key → its decision keys. */
  readonly #byPlacement = new Map<string, Set<string>>();
  /** Cluster → decisions naming it, over every placement. */
  readonly #counts = new Map<string, number>();

  /** The placement key of `decision`, or undefined when it has no placement label. */
  static placementOf(decision: PlacementDecision): string | undefined {
    const placement = decision.metadata?.labels?.[Labels.Placement];
    return placement === undefined
      ? undefined
      : `${decision.metadata?.namespace ?? ''}/${placement}`;
  }

  /**
   * Records a change of `decision` (`isDeleted`: it is gone); resolves to the placement keys
   * whose decisions changed (before and after, when its label moved).
   */
  update(decision: PlacementDecision, isDeleted: boolean): string[] {
    const key = `${decision.metadata?.namespace ?? ''}/${decision.metadata?.name ?? ''}`;
    const affected = new Set<string>();
    const before = this.#entries.get(key);
    if (before !== undefined) {
      affected.add(before.placement);
      this.#entries.delete(key);
      this.#byPlacement.get(before.placement)?.delete(key);
      if (this.#byPlacement.get(before.placement)?.size === 0)
        this.#byPlacement.delete(before.placement);
      for (const cluster of before.clusters) this.#count(cluster, -1);
    }
    const placement = DecisionIndex.placementOf(decision);
    if (!isDeleted && placement !== undefined) {
      affected.add(placement);
      const clusters = (decision.status?.decisions ?? [])
        .map((d) => d.clusterName)
        .filter((c) => c !== '');
      this.#entries.set(key, { placement, name: decision.metadata?.name ?? '', clusters });
      let names = this.#byPlacement.get(placement);
      if (names === undefined) this.#byPlacement.set(placement, (names = new Set()));
      names.add(key);
      for (const cluster of clusters) this.#count(cluster, 1);
    }
    return [...affected];
  }

  #count(cluster: string, delta: number): void {
    const next = (this.#counts.get(cluster) ?? 0) + delta;
    if (next <= 0) this.#counts.delete(cluster);
    else this.#counts.set(cluster, next);
  }

  /** The names of the PlacementDecisions of `placement` (`<namespace>/<name>`). */
  decisionNames(placement: string): string[] {
    return [...(this.#byPlacement.get(placement) ?? [])].map(
      (key) => this.#entries.get(key)?.name ?? '',
    );
  }

  /** The clusters the PlacementDecisions of `placement` hold now. */
  decided(placement: string): Set<string> {
    const clusters = new Set<string>();
    for (const key of this.#byPlacement.get(placement) ?? [])
      for (const cluster of this.#entries.get(key)?.clusters ?? []) clusters.add(cluster);
    return clusters;
  }

  /** Per cluster, the decisions of every placement but `placement` that name it (no zeros). */
  countsExcluding(placement: string): Map<string, number> {
    const counts = new Map(this.#counts);
    for (const key of this.#byPlacement.get(placement) ?? []) {
      for (const cluster of this.#entries.get(key)?.clusters ?? []) {
        const next = (counts.get(cluster) ?? 0) - 1;
        if (next <= 0) counts.delete(cluster);
        else counts.set(cluster, next);
      }
    }
    return counts;
  }
}
