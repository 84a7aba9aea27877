/**
 * What the cluster-proxy add-on objects should be: the ClusterManagementAddOn the hub offers,
 * the ManagedClusterAddOn of each cluster, and its status from what the hub observed. Pure.
 */
import {
  ADDON_FEATURE_LABEL_PREFIX,
  ADDON_GROUP,
  AddOnConditionTypes,
  AddOnReasons,
  Annotations,
  type ClusterManagementAddOn,
  type Condition,
  type ManagedClusterAddOn,
  type ManagedClusterAddOnStatus,
} from '../../api/index.ts';
import { setCondition } from '../../kube/index.ts';

/** The add-on's name: of the ClusterManagementAddOn and of every ManagedClusterAddOn. */
export const CLUSTER_PROXY_ADDON_NAME = 'cluster-proxy';
/** The ManagedCluster label OCM's add-on discovery sets: `available|unhealthy|unreachable`. */
export const CLUSTER_PROXY_FEATURE_LABEL = `${ADDON_FEATURE_LABEL_PREFIX}${CLUSTER_PROXY_ADDON_NAME}`;
/** The install namespace OCM defaults `spec.installNamespace` to. */
export const DEFAULT_ADDON_INSTALL_NAMESPACE = 'open-cluster-management-agent-addon';
const API_VERSION = `${ADDON_GROUP}/v1alpha1`;
const ADDON_META = {
  displayName: 'Cluster Proxy',
  description:
    'kubectl, hub controllers and services of managed clusters through the reverse tunnel and the agent API',
} as const;

/** The ClusterManagementAddOn `cluster-proxy`: built in, installed by the hub itself (`self`). */
export function clusterManagementAddOn(): ClusterManagementAddOn {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterManagementAddOn',
    metadata: {
      name: CLUSTER_PROXY_ADDON_NAME,
      annotations: { [Annotations.AddOnLifecycle]: 'self' },
    },
    spec: { addOnMeta: { ...ADDON_META }, installStrategy: { type: 'Manual' } },
  };
}

/**
 * The ManagedClusterAddOn `cluster-proxy` in the cluster's namespace, owned by the
 * ClusterManagementAddOn (deleting that removes every ManagedClusterAddOn, as in OCM).
 */
export function managedClusterAddOn(
  cluster: string,
  owner: ClusterManagementAddOn,
): ManagedClusterAddOn {
  const uid = owner.metadata?.uid;
  return {
    apiVersion: API_VERSION,
    kind: 'ManagedClusterAddOn',
    metadata: {
      name: CLUSTER_PROXY_ADDON_NAME,
      namespace: cluster,
      ...(uid === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: API_VERSION,
                kind: 'ClusterManagementAddOn',
                name: CLUSTER_PROXY_ADDON_NAME,
                uid,
              },
            ],
          }),
    },
    spec: {},
  };
}

/** What one probe of the agent API found. */
export type AgentApiProbe =
  | {
      readonly answered: true;
      /** HTTP status of GET /readyz through the agent API. */ readonly status: number;
    }
  | { readonly answered: false; readonly error: string };

/** What the controller knows about the cluster at one reconcile. */
export interface AddOnObservation {
  /** `spec.hubAcceptsClient` of the ManagedCluster. */
  readonly accepted: boolean;
  /** At least one agent of the cluster is connected to the proxy-server. */
  readonly connected: boolean;
  /** Present only when accepted and connected. */
  readonly probe?: AgentApiProbe;
}

function availability(observation: AddOnObservation): Omit<Condition, 'lastTransitionTime'> {
  const type = AddOnConditionTypes.Available;
  const { probe } = observation;
  if (!observation.accepted)
    return {
      type,
      status: 'Unknown',
      reason: AddOnReasons.NoProbeResult,
      message: 'The cluster is not accepted by the hub.',
    };
  if (!observation.connected || probe === undefined)
    return {
      type,
      status: 'Unknown',
      reason: AddOnReasons.NoProbeResult,
      message: 'No agent of this cluster is connected to the proxy-server.',
    };
  if (probe.answered && probe.status === 200)
    return {
      type,
      status: 'True',
      reason: AddOnReasons.ProbeAvailable,
      message: 'The agent API of the cluster answers through the tunnel (/readyz is 200).',
    };
  return {
    type,
    status: 'False',
    reason: AddOnReasons.ProbeUnavailable,
    message: probe.answered
      ? `The agent API of the cluster answered /readyz with ${probe.status}.`
      : `The agent API of the cluster cannot be reached through the tunnel: ${probe.error}.`,
  };
}

/**
 * The ManagedClusterAddOn status for `observation`: condition `Available` (True/ProbeAvailable
 * while an agent is connected and its agent API answers /readyz with 200 as the hub
 * controllers; False/ProbeUnavailable when it is connected but the agent API fails or answers
 * otherwise; Unknown/NoProbeResult without a connected agent or before the hub accepts the
 * cluster), `lastTransitionTime` kept while the status holds; `namespace` (the install
 * namespace), `relatedObjects` (the ClusterManagementAddOn), `addOnMeta` copied from it, and
 * `healthCheck.mode: Customized` (health is probed by the hub, not reported through a lease).
 * Other status fields are kept.
 */
export function decideAddOnStatus(
  addon: ManagedClusterAddOn,
  owner: ClusterManagementAddOn,
  observation: AddOnObservation,
  now: Date,
): ManagedClusterAddOnStatus {
  const status: ManagedClusterAddOnStatus = structuredClone(addon.status ?? {});
  status.conditions = setCondition(status.conditions ?? [], availability(observation), now);
  status.namespace = addon.spec?.installNamespace ?? DEFAULT_ADDON_INSTALL_NAMESPACE;
  status.relatedObjects = [
    { group: ADDON_GROUP, resource: 'clustermanagementaddons', name: CLUSTER_PROXY_ADDON_NAME },
  ];
  const meta = owner.spec?.addOnMeta;
  if (meta !== undefined) status.addOnMeta = structuredClone(meta);
  status.healthCheck = { mode: 'Customized' };
  return status;
}

/** The feature label value for a status: available, unhealthy (False) or unreachable. */
export function featureLabelValue(status: ManagedClusterAddOnStatus): string {
  const available = status.conditions?.find((c) => c.type === AddOnConditionTypes.Available);
  if (available?.status === 'True') return 'available';
  if (available?.status === 'False') return 'unhealthy';
  return 'unreachable';
}
