import {
  Labels,
  MAX_CUSTOM_CLUSTER_CLAIMS,
  ManagedClusterConditionTypes,
  ManagedClusterReasons,
  RESERVED_CLAIM_NAMES,
  ReservedClaimNames,
  type ClusterClaim,
  type Condition,
  type ManagedCluster,
  type ManagedClusterClaim,
  type ManagedClusterStatus,
} from '../../api/index.ts';
import { setCondition } from '../../kube/index.ts';
import type { NodeResources } from './node-resources.ts';

/** What one probe of a spoke through the tunnel found. */
export type SpokeProbe =
  | {
      readonly reached: true;
      /** HTTP status of GET /readyz. */
      readonly readyz: number;
      /** `gitVersion` of GET /version, when /readyz was 200. */
      readonly kubernetesVersion?: string;
      /** UID of the kube-system namespace, when readable. */
      readonly kubeSystemUid?: string;
      /** The spoke's ClusterClaim objects (empty when the CRD is missing). */
      readonly claims?: readonly ClusterClaim[];
      /** Capacity and allocatable summed over the spoke's nodes; absent without nodes. */
      readonly resources?: NodeResources;
    }
  | { readonly reached: false; readonly error: string };

/** What the controller knows about a cluster at one reconcile. */
export interface Observation {
  /** Whether at least one agent of the cluster is connected to the proxy-server. */
  readonly connected: boolean;
  /** Present only when connected and the cluster is accepted. */
  readonly probe?: SpokeProbe;
}

/**
 * Claims as OCM reports them: the reserved ones first (ours, computed), then at most
 * MAX_CUSTOM_CLUSTER_CLAIMS custom claims from the spoke, by name, leaving out those labelled
 * spoke-only and those that reuse a reserved name.
 */
export function claimsFor(probe: SpokeProbe & { reached: true }): ManagedClusterClaim[] {
  const reserved: ManagedClusterClaim[] = [];
  if (probe.kubeSystemUid)
    reserved.push({ name: ReservedClaimNames.Id, value: probe.kubeSystemUid });
  if (probe.kubernetesVersion)
    reserved.push({ name: ReservedClaimNames.KubeVersion, value: probe.kubernetesVersion });
  const custom = (probe.claims ?? [])
    .filter((c) => c.metadata?.labels?.[Labels.SpokeOnlyClaim] === undefined)
    .map((c) => ({ name: c.metadata?.name ?? '', value: c.spec?.value ?? '' }))
    .filter((c) => c.name !== '' && c.value !== '' && !RESERVED_CLAIM_NAMES.includes(c.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, MAX_CUSTOM_CLUSTER_CLAIMS);
  return [...reserved, ...custom];
}

const T = ManagedClusterConditionTypes;
const R = ManagedClusterReasons;

/**
 * The status a cluster should have given what was observed. Pure: the same inputs give the
 * same output, and an unchanged situation gives back equal conditions (same
 * lastTransitionTime), so the caller can skip the write.
 *
 * - HubAccepted: True while spec.hubAcceptsClient; False (denied) once it is withdrawn.
 * - Joined: True from the first time an agent connected (it stays True).
 * - Available (only once joined): True when an agent is connected and /readyz answers 200
 *   through the tunnel; False when /readyz answers anything else; Unknown when no agent is
 *   connected or the spoke cannot be reached through it. Never True otherwise.
 * - version and clusterClaims follow each successful probe and are kept otherwise.
 * - capacity and allocatable: the node sums of a successful probe, merged over what is there,
 *   so keys other controllers write (OCM's `socket_*`/`core_*`) stay; left as they are when the
 *   spoke has no nodes or they could not be read.
 */
export function decideStatus(
  cluster: ManagedCluster,
  observation: Observation,
  now: Date,
): ManagedClusterStatus {
  const status: ManagedClusterStatus = structuredClone(cluster.status ?? {});
  let conditions: Condition[] = status.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type);
  const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');

  if (cluster.spec?.hubAcceptsClient !== true) {
    if (has(T.HubAccepted))
      conditions = setCondition(
        conditions,
        {
          type: T.HubAccepted,
          status: 'False',
          reason: R.HubClusterAdminDenied,
          message: 'The hub cluster admin no longer accepts this cluster.',
        },
        now,
      );
    if (has(T.Available))
      conditions = setCondition(conditions, unknown('The cluster is not accepted.'), now);
    if (conditions.length > 0) status.conditions = conditions;
    return status;
  }

  conditions = setCondition(
    conditions,
    {
      type: T.HubAccepted,
      status: 'True',
      reason: R.HubClusterAdminAccepted,
      message: 'Accepted by the hub cluster admin.',
    },
    now,
  );
  if (observation.connected || isTrue(T.Joined)) {
    conditions = setCondition(
      conditions,
      {
        type: T.Joined,
        status: 'True',
        reason: R.ManagedClusterJoined,
        message: 'An agent of this cluster connected to the hub.',
      },
      now,
    );
  }
  if (!isTrue(T.Joined)) {
    status.conditions = conditions;
    return status;
  }

  const probe = observation.probe;
  if (!observation.connected) {
    conditions = setCondition(conditions, unknown('No agent of this cluster is connected.'), now);
  } else if (probe === undefined || !probe.reached) {
    conditions = setCondition(
      conditions,
      unknown(
        `The cluster API server cannot be reached through the tunnel${probe === undefined ? '' : `: ${probe.error}`}.`,
      ),
      now,
    );
  } else if (probe.readyz === 200) {
    conditions = setCondition(
      conditions,
      {
        type: T.Available,
        status: 'True',
        reason: R.ManagedClusterAvailable,
        message: 'The cluster API server is ready (/readyz through the tunnel).',
      },
      now,
    );
  } else {
    conditions = setCondition(
      conditions,
      {
        type: T.Available,
        status: 'False',
        reason: R.ManagedClusterKubeAPIServerUnavailable,
        message: `The cluster API server is not ready: /readyz answered ${probe.readyz}.`,
      },
      now,
    );
  }
  status.conditions = conditions;
  if (observation.connected && probe?.reached === true && probe.readyz === 200) {
    if (probe.kubernetesVersion) status.version = { kubernetes: probe.kubernetesVersion };
    status.clusterClaims = claimsFor(probe);
    if (probe.resources !== undefined) {
      const { capacity, allocatable } = probe.resources;
      if (Object.keys(capacity).length > 0) status.capacity = { ...status.capacity, ...capacity };
      if (Object.keys(allocatable).length > 0)
        status.allocatable = { ...status.allocatable, ...allocatable };
    }
  }
  return status;
}

function unknown(message: string): Omit<Condition, 'lastTransitionTime'> {
  return {
    type: T.Available,
    status: 'Unknown',
    reason: R.ManagedClusterLeaseUpdateStopped,
    message,
  };
}
