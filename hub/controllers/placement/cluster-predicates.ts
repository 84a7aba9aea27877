/**
 * A Placement's cluster predicates (`spec.predicates`, ORed; each `requiredClusterSelector`
 * ANDs a `labelSelector` on cluster labels and a `claimSelector` on `status.clusterClaims`), and
 * the decision-group selectors, which take the same two. Pure.
 */
import type {
  ClaimSelector,
  ClusterPredicate,
  LabelSelector,
  ManagedCluster,
} from '../../api/index.ts';
import { compileLabelSelector, type CompiledSelector } from '../cluster-set/index.ts';

/** A check of clusters, or why the selector is refused (the text goes into Misconfigured). */
export type ClusterMatcher =
  | { readonly ok: true; readonly matches: (cluster: ManagedCluster) => boolean }
  | { readonly ok: false; readonly message: string };

/** The claims of a cluster as a label set: `status.clusterClaims` name → value. */
export function clusterClaims(cluster: ManagedCluster): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const claim of cluster.status?.clusterClaims ?? []) {
    if (claim.name !== undefined) claims[claim.name] = claim.value ?? '';
  }
  return claims;
}

/** A label selector and a claim selector, both required (absent ones match every cluster). */
export function compileClusterSelector(
  labelSelector: LabelSelector | undefined,
  claimSelector: ClaimSelector | undefined,
): ClusterMatcher {
  const labels = compileLabelSelector(labelSelector ?? {});
  if (!labels.ok) return { ok: false, message: `labelSelector: ${labels.message}` };
  const claims = compileLabelSelector({ matchExpressions: claimSelector?.matchExpressions ?? [] });
  if (!claims.ok) return { ok: false, message: `claimSelector: ${claims.message}` };
  const byLabels: CompiledSelector = labels.selector;
  const byClaims: CompiledSelector = claims.selector;
  return {
    ok: true,
    matches: (cluster) =>
      byLabels.matches(cluster.metadata?.labels ?? {}) && byClaims.matches(clusterClaims(cluster)),
  };
}

/**
 * The placement's predicates as one check: a cluster passes when any predicate matches it, and
 * every cluster passes when there are none. CEL selectors (`celSelector.celExpressions`) are not
 * evaluated by this hub: a predicate using them is refused, so that such a placement is marked
 * Misconfigured rather than placed on clusters the expressions would have excluded.
 */
export function compilePredicates(
  predicates: readonly ClusterPredicate[] | undefined,
): ClusterMatcher {
  if (predicates === undefined || predicates.length === 0) return { ok: true, matches: () => true };
  const matchers: ((cluster: ManagedCluster) => boolean)[] = [];
  for (const [index, predicate] of predicates.entries()) {
    const selector = predicate.requiredClusterSelector;
    if ((selector?.celSelector?.celExpressions ?? []).length > 0) {
      return {
        ok: false,
        message: `predicates[${index}]: celSelector is not supported by this hub; use labelSelector or claimSelector`,
      };
    }
    const matcher = compileClusterSelector(selector?.labelSelector, selector?.claimSelector);
    if (!matcher.ok) return { ok: false, message: `predicates[${index}]: ${matcher.message}` };
    matchers.push(matcher.matches);
  }
  return { ok: true, matches: (cluster) => matchers.some((matches) => matches(cluster)) };
}
