/**
 * What the objects of a hub-probed add-on should be (the cluster proxy's, and any other add-on
 * described by an {@link AddOnDefinition}, e.g. the work add-on): the ClusterManagementAddOn
 * the hub offers, the ManagedClusterAddOn of each cluster, and its status from what the hub
 * observed. Pure.
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

/**
 * A built-in add-on whose health the hub probes through the tunnel: its name (of the
 * ClusterManagementAddOn and every ManagedClusterAddOn), its `addOnMeta`, the agent API path the
 * probe GETs as the hub controllers (200 is Available), and the condition messages.
 */
export interface AddOnDefinition {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly probePath: string;
  /** Largest probe answer read, bytes. */
  readonly probeMaxBytes: number;
  /** The message of Available=True. */
  readonly availableMessage: string;
  /** The message of Available=False when the probe answered `status` (not 200). */
  readonly unexpectedMessage: (status: number) => string;
}

/** The cluster proxy add-on: Available while the agent API answers `/readyz` with 200. */
export const CLUSTER_PROXY_ADDON: AddOnDefinition = {
  name: CLUSTER_PROXY_ADDON_NAME,
  displayName: 'Cluster Proxy',
  description:
    'kubectl, hub controllers and services of managed clusters through the reverse tunnel and the agent API',
  probePath: '/readyz',
  probeMaxBytes: 64 * 1024,
  availableMessage: 'The agent API of the cluster answers through the tunnel (/readyz is 200).',
  unexpectedMessage: (status) => `The agent API of the cluster answered /readyz with ${status}.`,
};

/**
 * The ClusterManagementAddOn of `definition` (default the cluster proxy's): built in, installed
 * by the hub itself (`self`).
 */
export function clusterManagementAddOn(
  definition: AddOnDefinition = CLUSTER_PROXY_ADDON,
): ClusterManagementAddOn {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterManagementAddOn',
    metadata: {
      name: definition.name,
      annotations: { [Annotations.AddOnLifecycle]: 'self' },
    },
    spec: {
      addOnMeta: { displayName: definition.displayName, description: definition.description },
      installStrategy: { type: 'Manual' },
    },
  };
}

/**
 * The ManagedClusterAddOn of `definition` in the cluster's namespace, owned by the
 * ClusterManagementAddOn (deleting that removes every ManagedClusterAddOn, as in OCM).
 */
export function managedClusterAddOn(
  cluster: string,
  owner: ClusterManagementAddOn,
  definition: AddOnDefinition = CLUSTER_PROXY_ADDON,
): ManagedClusterAddOn {
  const uid = owner.metadata?.uid;
  return {
    apiVersion: API_VERSION,
    kind: 'ManagedClusterAddOn',
    metadata: {
      name: definition.name,
      namespace: cluster,
      ...(uid === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: API_VERSION,
                kind: 'ClusterManagementAddOn',
                name: definition.name,
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
      /** HTTP status of the probe's GET through the agent API. */ readonly status: number;
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

function availability(
  observation: AddOnObservation,
  definition: AddOnDefinition,
): Omit<Condition, 'lastTransitionTime'> {
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
      message: definition.availableMessage,
    };
  return {
    type,
    status: 'False',
    reason: AddOnReasons.ProbeUnavailable,
    message: probe.answered
      ? definition.unexpectedMessage(probe.status)
      : `The agent API of the cluster cannot be reached through the tunnel: ${probe.error}.`,
  };
}

/**
 * The ManagedClusterAddOn status for `observation`: condition `Available` (True/ProbeAvailable
 * while an agent is connected and its agent API answers the definition's probe with 200 as the
 * hub controllers; False/ProbeUnavailable when it is connected but the agent API fails or answers
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
  definition: AddOnDefinition = CLUSTER_PROXY_ADDON,
): ManagedClusterAddOnStatus {
  const status: ManagedClusterAddOnStatus = structuredClone(addon.status ?? {});
  status.conditions = setCondition(
    status.conditions ?? [],
    availability(observation, definition),
    now,
  );
  status.namespace = addon.spec?.installNamespace ?? DEFAULT_ADDON_INSTALL_NAMESPACE;
  status.relatedObjects = [
    { group: ADDON_GROUP, resource: 'clustermanagementaddons', name: definition.name },
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
