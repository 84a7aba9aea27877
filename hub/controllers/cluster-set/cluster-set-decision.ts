/**
 * What the cluster-set controller writes, decided from what it read; pure (the time is passed
 * in). Conditions, reasons and messages are OCM's (pkg/registration/hub/managedclusterset and
 * managedclustersetbinding); the cluster bookkeeping is what OCM's hub taint controller and its
 * ManagedCluster defaulting webhook do, done here by a controller because we run no webhooks.
 */
import { isDeepStrictEqual } from 'node:util';

import {
  ClusterSetConditions,
  Labels,
  ManagedClusterConditionTypes,
  Taints,
  type Condition,
  type ManagedCluster,
  type ManagedClusterSet,
  type ManagedClusterSetBinding,
  type ManagedClusterSetBindingStatus,
  type ManagedClusterSetStatus,
  type Taint,
} from '../../api/index.ts';
import { conditionTime, setCondition } from '../../kube/index.ts';
import {
  AUTO_UPDATE_ANNOTATION,
  builtInClusterSelector,
  DEFAULT_CLUSTER_SET,
} from './cluster-set-membership.ts';

type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** `ClusterSetEmpty` for a set with `members` clusters. */
export function clusterSetEmptyCondition(members: number): ConditionInput {
  return members === 0
    ? {
        type: ClusterSetConditions.Empty,
        status: 'True',
        reason: ClusterSetConditions.ReasonNoClusterMatched,
        message: 'No ManagedCluster selected',
      }
    : {
        type: ClusterSetConditions.Empty,
        status: 'False',
        reason: ClusterSetConditions.ReasonClustersSelected,
        message: `${members} ManagedClusters selected`,
      };
}

/** The status of `set` holding `members` clusters; other conditions are kept. */
export function decideClusterSetStatus(
  set: ManagedClusterSet,
  members: number,
  now: Date,
): ManagedClusterSetStatus {
  const conditions = setCondition(
    set.status?.conditions ?? [],
    clusterSetEmptyCondition(members),
    now,
  );
  return { ...set.status, conditions };
}

/** `Bound` of a binding whose set (`spec.clusterSet`) exists or not. */
export function boundCondition(setName: string, setExists: boolean): ConditionInput {
  return setExists
    ? {
        type: ClusterSetConditions.Bound,
        status: 'True',
        reason: ClusterSetConditions.ReasonClusterSetBound,
        message: `ManagedClusterSet ${setName} is bound to this namespace`,
      }
    : {
        type: ClusterSetConditions.Bound,
        status: 'False',
        reason: ClusterSetConditions.ReasonClusterSetNotFound,
        message: `ManagedClusterSet ${JSON.stringify(setName)} not found`,
      };
}

/** The status of `binding`, given whether its set exists; other conditions are kept. */
export function decideBindingStatus(
  binding: ManagedClusterSetBinding,
  setExists: boolean,
  now: Date,
): ManagedClusterSetBindingStatus {
  const setName = binding.spec?.clusterSet ?? '';
  const conditions = setCondition(
    binding.status?.conditions ?? [],
    boundCondition(setName, setExists),
    now,
  );
  return { ...binding.status, conditions };
}

/**
 * The `spec.clusterSelector` to put back on the built-in set `set` when someone changed it
 * (OCM allows editing every other field), or undefined: not a built-in set, unchanged, or its
 * annotation `cluster.open-cluster-management.io/autoupdate: "false"` turns this off.
 */
export function builtInSelectorReset(
  set: ManagedClusterSet,
): ReturnType<typeof builtInClusterSelector> {
  const wanted = builtInClusterSelector(set.metadata?.name ?? '');
  if (wanted === undefined) return undefined;
  if (set.metadata?.annotations?.[AUTO_UPDATE_ANNOTATION] === 'false') return undefined;
  return isDeepStrictEqual(set.spec?.clusterSelector, wanted) ? undefined : wanted;
}

/** The label changes a cluster needs: the `default` set when it names none (or an empty one). */
export function decideClusterLabels(cluster: ManagedCluster): Record<string, string> | undefined {
  const current = cluster.metadata?.labels?.[Labels.ClusterSet];
  return current === undefined || current === ''
    ? { [Labels.ClusterSet]: DEFAULT_CLUSTER_SET }
    : undefined;
}

const UNREACHABLE: Taint = { key: Taints.Unreachable, effect: 'NoSelect' };
const UNAVAILABLE: Taint = { key: Taints.Unavailable, effect: 'NoSelect' };

/** Same key, value and effect (OCM ignores the time when it compares taints). */
function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && (a.value ?? '') === (b.value ?? '') && a.effect === b.effect;
}

/**
 * The taints `cluster` should carry, or undefined when they are right already. From its
 * `ManagedClusterConditionAvailable`: missing or Unknown → `…/unreachable:NoSelect`, False →
 * `…/unavailable:NoSelect`, True → neither; the other taints are kept. Every taint without a
 * `timeAdded` (the two added here, and any a user wrote without one) gets `now`, which OCM's
 * admission webhook does on each write; tolerationSeconds count from it. A deleting cluster is
 * left alone.
 */
export function decideClusterTaints(cluster: ManagedCluster, now: Date): Taint[] | undefined {
  if (cluster.metadata?.deletionTimestamp != null) return undefined;
  const current = cluster.spec?.taints ?? [];
  const available = cluster.status?.conditions?.find(
    (c) => c.type === ManagedClusterConditionTypes.Available,
  );
  const status = available?.status ?? 'Unknown';
  const wanted = status === 'Unknown' ? UNREACHABLE : status === 'False' ? UNAVAILABLE : undefined;
  const unwanted = [UNREACHABLE, UNAVAILABLE].filter((t) => t !== wanted);
  const stamp = conditionTime(now);
  const next: Taint[] = current
    .filter((taint) => !unwanted.some((u) => sameTaint(u, taint)))
    .map((taint) => (taint.timeAdded == null ? { ...taint, timeAdded: stamp } : taint));
  if (wanted !== undefined && !next.some((taint) => sameTaint(taint, wanted)))
    next.push({ ...wanted, timeAdded: stamp });
  return isDeepStrictEqual(next, current) ? undefined : next;
}
