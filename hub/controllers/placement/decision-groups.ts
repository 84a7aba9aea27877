/**
 * How a placement's chosen clusters are written, as OCM writes them
 * (pkg/placement/controllers/scheduling): split into decision groups
 * (`spec.decisionStrategy.groupStrategy`: each `decisionGroups[i]` takes the not yet grouped
 * clusters its selector matches, the rest form unnamed groups; every group is cut to at most
 * `clustersPerDecisionGroup`), each group paged into PlacementDecisions of at most 100
 * decisions named `<placement>-decision-<n>` (n from 1 across all groups), labelled with the
 * placement and the group's name and index, owned by the placement. Clusters within a group are
 * in name order. No cluster at all still yields one empty PlacementDecision. Pure.
 */
import {
  CLUSTER_GROUP,
  Labels,
  type ManagedCluster,
  type Placement,
  type PlacementDecision,
  type PlacementStatus,
} from '../../api/index.ts';
import { compileClusterSelector } from './cluster-predicates.ts';

/** At most this many decisions per PlacementDecision (OCM's limit, from >1000-cluster hubs). */
export const MAX_DECISIONS_PER_PLACEMENT_DECISION = 100;

const API_VERSION = `${CLUSTER_GROUP}/v1beta1`;

/** One decision group: its name (empty for the rest) and its clusters in name order. */
export interface ClusterGroup {
  readonly name: string;
  readonly clusters: readonly string[];
}

export type DecisionGroupStatus = NonNullable<PlacementStatus['decisionGroups']>[number];

/** The PlacementDecisions to write and the placement's `status.decisionGroups`. */
export interface DecisionPages {
  readonly decisions: PlacementDecision[];
  readonly groups: DecisionGroupStatus[];
}

type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * Clusters per group: an integer, or a percentage of `total` rounded up; anything at or below 0
 * or above `total` (and an unset value) means `total`. A string that is not a percentage is
 * refused, as OCM refuses it.
 */
export function groupLength(
  clustersPerDecisionGroup: number | string | undefined,
  total: number,
): Outcome<number> {
  let length = total;
  if (typeof clustersPerDecisionGroup === 'number') length = clustersPerDecisionGroup;
  else if (typeof clustersPerDecisionGroup === 'string') {
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(clustersPerDecisionGroup);
    if (percent === null)
      return {
        ok: false,
        message: `${clustersPerDecisionGroup} invalid type: string is not a percentage`,
      };
    length = Math.ceil((Number(percent[1]) / 100) * total);
  }
  return { ok: true, value: length <= 0 || length > total ? total : length };
}

function chunks(name: string, clusters: string[], length: number): ClusterGroup[] {
  const sorted = [...clusters].sort();
  const groups: ClusterGroup[] = [];
  for (let i = 0; i < sorted.length; i += length)
    groups.push({ name, clusters: sorted.slice(i, i + length) });
  return groups;
}

/** The decision groups of `selected` (the chosen clusters) under the placement's group strategy. */
export function decisionGroups(
  placement: Placement,
  selected: readonly ManagedCluster[],
): Outcome<ClusterGroup[]> {
  const strategy = placement.spec.decisionStrategy?.groupStrategy;
  const length = groupLength(strategy?.clustersPerDecisionGroup, selected.length);
  if (!length.ok) return length;
  const remaining = new Set(selected.map((c) => c.metadata?.name ?? ''));
  const groups: ClusterGroup[] = [];
  for (const [index, group] of (strategy?.decisionGroups ?? []).entries()) {
    const selector = group.groupClusterSelector;
    const matcher = compileClusterSelector(selector.labelSelector, selector.claimSelector);
    if (!matcher.ok) return { ok: false, message: `decisionGroups[${index}]: ${matcher.message}` };
    const matched: string[] = [];
    for (const cluster of selected) {
      const name = cluster.metadata?.name ?? '';
      if (remaining.has(name) && matcher.matches(cluster)) {
        matched.push(name);
        remaining.delete(name);
      }
    }
    groups.push(...chunks(group.groupName, matched, length.value));
  }
  groups.push(...chunks('', [...remaining], length.value));
  return { ok: true, value: groups.length === 0 ? [{ name: '', clusters: [] }] : groups };
}

/** The name of a placement's `index`-th PlacementDecision (from 1). */
export function placementDecisionName(placement: string, index: number): string {
  return `${placement}-decision-${index}`;
}

/** The PlacementDecisions (pages of at most 100) and group summaries of `groups`. */
export function decisionPages(
  placement: Placement,
  groups: readonly ClusterGroup[],
): DecisionPages {
  const name = placement.metadata?.name ?? '';
  const namespace = placement.metadata?.namespace ?? '';
  const owner = {
    apiVersion: API_VERSION,
    kind: 'Placement',
    name,
    uid: placement.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
  const decisions: PlacementDecision[] = [];
  const summaries: DecisionGroupStatus[] = [];
  for (const [groupIndex, group] of groups.entries()) {
    const names: string[] = [];
    const pages: string[][] = [];
    for (let i = 0; i < group.clusters.length; i += MAX_DECISIONS_PER_PLACEMENT_DECISION)
      pages.push(group.clusters.slice(i, i + MAX_DECISIONS_PER_PLACEMENT_DECISION));
    if (pages.length === 0) pages.push([]);
    for (const page of pages) {
      const pageName = placementDecisionName(name, decisions.length + 1);
      names.push(pageName);
      decisions.push({
        apiVersion: API_VERSION,
        kind: 'PlacementDecision',
        metadata: {
          name: pageName,
          namespace,
          labels: {
            [Labels.Placement]: name,
            [Labels.DecisionGroupName]: group.name,
            [Labels.DecisionGroupIndex]: String(groupIndex),
          },
          ownerReferences: [owner],
        },
        status: { decisions: page.map((clusterName) => ({ clusterName, reason: '' })) },
      });
    }
    summaries.push({
      decisionGroupIndex: groupIndex,
      decisionGroupName: group.name,
      decisions: names,
      clusterCount: group.clusters.length,
    });
  }
  return { decisions, groups: summaries };
}
