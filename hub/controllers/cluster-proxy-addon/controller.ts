import { CLUSTER_PROXY_ADDON } from './addon-decision.ts';
import { createAddOnController, type AddOnControllerOptions } from './addon-controller.ts';

/** Options of {@link createClusterProxyAddOnController}. */
export type ClusterProxyAddOnControllerOptions = Omit<AddOnControllerOptions, 'definition'>;

/**
 * The cluster proxy as an OCM add-on (issue 4 item 4): the ClusterManagementAddOn
 * `cluster-proxy`, and for every ManagedCluster a ManagedClusterAddOn `cluster-proxy` in the
 * cluster's namespace whose `Available` condition follows the cluster's agent API, probed
 * through the tunnel as the hub controllers (GET /readyz), plus the ManagedCluster label
 * `feature.open-cluster-management.io/addon-cluster-proxy`.
 */
export interface ClusterProxyAddOnController {
  /**
   * Creates the ClusterManagementAddOn (an existing one is left as it is; it is ensured again at
   * every resync), then reconciles every cluster now, when the ManagedCluster watch reports it,
   * when its agents come or all go (every `agentPollMs`), and every `intervalMs`.
   */
  start(): void;
  /** Ends the watch and timers; resolves once in-flight reconciles settled. Idempotent. */
  stop(): Promise<void>;
  /**
   * Reconciles one cluster now: creates its namespace and ManagedClusterAddOn when missing
   * (never changes the spec of an existing one), probes, writes the status and the label when
   * they changed. A missing or deleting cluster is left alone. Rejects on API failures.
   */
  reconcile(name: string): Promise<void>;
}

export function createClusterProxyAddOnController(
  options: ClusterProxyAddOnControllerOptions,
): ClusterProxyAddOnController {
  return createAddOnController({ ...options, definition: CLUSTER_PROXY_ADDON });
}
