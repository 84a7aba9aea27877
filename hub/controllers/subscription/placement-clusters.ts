/**
 * The clusters a Subscription is placed on (pure), in OCM's order of resolution:
 * `placement.placementRef` first (a Placement's or a PlacementRule's PlacementDecisions in the
 * subscription's namespace, found by their label), else `placement.clusters`. A local placement
 * (the hub itself), a local placement together with a remote one, `clusterSelector`, and no
 * placement at all are refused with `HUB_ERR_SUB_PLACEMENT`.
 */
import { Labels, type PlacementDecision, type Subscription } from '../../api/index.ts';
import { SubscriptionError } from './errors.ts';

/** On PlacementDecisions of a PlacementRule: its name (OCM's placementrule controller). */
export const PLACEMENT_RULE_LABEL = 'cluster.open-cluster-management.io/placementrule';

const refuse = (message: string) => new SubscriptionError('HUB_ERR_SUB_PLACEMENT', message);

/** The placed clusters, sorted and without duplicates; see the module comment. */
export function placedClusters(
  sub: Subscription,
  decisions: readonly PlacementDecision[],
): string[] {
  const namespace = sub.metadata?.namespace ?? '';
  const placement = sub.spec.placement;
  const ref = placement?.placementRef;
  const listed = placement?.clusters ?? [];
  const isRemote =
    ref !== undefined || listed.length > 0 || placement?.clusterSelector !== undefined;
  if (placement?.local === true) {
    throw refuse(
      isRemote
        ? 'local placement cannot be combined with remote placement'
        : 'local placement (deploying on the hub itself) is not supported by this hub',
    );
  }
  if (ref !== undefined) {
    const kind = ref.kind ?? '';
    // An empty kind means PlacementRule, as in OCM.
    const label =
      kind === 'Placement'
        ? Labels.Placement
        : kind === 'PlacementRule' || kind === ''
          ? PLACEMENT_RULE_LABEL
          : undefined;
    if (label === undefined) {
      throw refuse(`placementRef kind "${kind}" is not Placement or PlacementRule`);
    }
    const clusters = new Set<string>();
    for (const d of decisions)
      if (d.metadata?.namespace === namespace && d.metadata.labels?.[label] === ref.name)
        for (const decision of d.status?.decisions ?? [])
          if (decision.clusterName !== '') clusters.add(decision.clusterName);
    return [...clusters].sort();
  }
  if (listed.length > 0) return [...new Set(listed.map((c) => c.name))].sort();
  if (placement?.clusterSelector !== undefined) {
    throw refuse('placement.clusterSelector is not supported; use a placementRef to a Placement');
  }
  throw refuse('Placement must be specified');
}
