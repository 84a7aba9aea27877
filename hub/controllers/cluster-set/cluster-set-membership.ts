/**
 * Which ManagedClusters a ManagedClusterSet holds, as OCM reads `spec.clusterSelector`:
 * `ExclusiveClusterSetLabel` (the default) = the clusters labelled
 * `cluster.open-cluster-management.io/clusterset=<set>`; `LabelSelector` = the clusters its
 * `labelSelector` matches, where an empty selector matches every cluster (the `global` set) and
 * an absent one none. Pure.
 */
import {
  Labels,
  type ManagedCluster,
  type ManagedClusterSet,
  type ManagedClusterSetSpec,
} from '../../api/index.ts';
import {
  compileLabelSelector,
  NOTHING,
  type CompiledSelector,
  type SelectorResult,
} from './label-selector.ts';

/** The set OCM creates for clusters that name no set; they get its label. */
export const DEFAULT_CLUSTER_SET = 'default';
/** The set OCM creates that holds every cluster. */
export const GLOBAL_CLUSTER_SET = 'global';
/** On the `default` or `global` set, `"false"` stops the hub from resetting its selector. */
export const AUTO_UPDATE_ANNOTATION = 'cluster.open-cluster-management.io/autoupdate';

type ClusterSelectorSpec = NonNullable<ManagedClusterSetSpec['clusterSelector']>;

/** The selector of the built-in sets, which the hub puts back when it was changed. */
export function builtInClusterSelector(setName: string): ClusterSelectorSpec | undefined {
  if (setName === DEFAULT_CLUSTER_SET) return { selectorType: 'ExclusiveClusterSetLabel' };
  if (setName === GLOBAL_CLUSTER_SET) return { selectorType: 'LabelSelector', labelSelector: {} };
  return undefined;
}

/** The built-in set `name` (`default` or `global`) as the hub creates it. */
export function builtInClusterSet(name: string): ManagedClusterSet {
  const clusterSelector = builtInClusterSelector(name);
  if (clusterSelector === undefined) throw new TypeError(`${name} is not a built-in cluster set`);
  return {
    apiVersion: 'cluster.open-cluster-management.io/v1beta2',
    kind: 'ManagedClusterSet',
    metadata: { name },
    spec: { clusterSelector },
  };
}

/** The labels a cluster selector reads. */
export function clusterLabels(cluster: ManagedCluster): Readonly<Record<string, string>> {
  return cluster.metadata?.labels ?? {};
}

/**
 * The selector of `set` over cluster labels. Not ok only for a `labelSelector` the API
 * machinery would refuse (the message says why).
 */
export function clusterSetSelector(set: ManagedClusterSet): SelectorResult {
  const spec = set.spec?.clusterSelector;
  const name = set.metadata?.name ?? '';
  if (spec?.selectorType === 'LabelSelector') {
    return spec.labelSelector === undefined
      ? { ok: true, selector: NOTHING }
      : compileLabelSelector(spec.labelSelector);
  }
  const selector: CompiledSelector = {
    matches: (labels) => labels[Labels.ClusterSet] === name,
  };
  return { ok: true, selector };
}

/** The members of `set` among `clusters` (none when its selector is invalid), in input order. */
export function clusterSetMembers(
  set: ManagedClusterSet,
  clusters: readonly ManagedCluster[],
): ManagedCluster[] {
  const result = clusterSetSelector(set);
  if (!result.ok) return [];
  return clusters.filter((cluster) => result.selector.matches(clusterLabels(cluster)));
}

/** The names of the sets in `sets` that hold `cluster`. */
export function clusterSetsOf(
  cluster: ManagedCluster,
  sets: readonly ManagedClusterSet[],
): string[] {
  const labels = clusterLabels(cluster);
  return sets.flatMap((set) => {
    const result = clusterSetSelector(set);
    return result.ok && result.selector.matches(labels) ? [set.metadata?.name ?? ''] : [];
  });
}
