import { isDeepStrictEqual } from 'node:util';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  isClusterConnected,
  clusterTriggers,
  createClusterReconciler,
  kubeManagedClusterStore,
  type AgentPresence,
  type ClusterTriggerOptions,
  type ManagedClusterStore,
} from '../../kube/index.ts';
import { probeSpoke } from './spoke-probe.ts';
import { decideStatus, type SpokeProbe } from './status-decision.ts';

/**
 * Default period of the status resync, in ms. Agents coming and going are seen within
 * `agentPollMs` (1 s) and ManagedCluster changes at once; the resync re-reads `/readyz`, the
 * version, claims and capacity of connected clusters (OCM's klusterlet renews its lease every
 * 60 s).
 */
export const DEFAULT_STATUS_RESYNC_MS = 30_000;
/** Options of {@link createClusterStatusController}. */
export interface ClusterStatusControllerOptions extends ClusterTriggerOptions {
  /** The hub API server, where the ManagedClusters live. */
  readonly hub: KubeConfig;
  /** Who is connected: the proxy-server. */
  readonly server: AgentPresence;
  /**
   * How the hub reaches a spoke's API server: the proxy-server's
   * `spokeKubeConfig(cluster, HUB_CONTROLLER_IDENTITY)` (the tunnel and the agent API, as the
   * hub controllers). Undefined: the cluster is not probed.
   */
  readonly spokeKubeConfig: (cluster: string) => KubeConfig | undefined;
  /** Timeout of each request to a spoke; default 3 s. */
  readonly probeTimeoutMs?: number;
  /** Seams for unit tests: where ManagedClusters are read and written, how spokes are probed. */
  readonly store?: ManagedClusterStore;
  readonly probe?: (cluster: string, spoke: KubeConfig) => Promise<SpokeProbe>;
  readonly now?: () => Date;
}

/**
 * Keeps every ManagedCluster's status (conditions, version, claims, capacity/allocatable) in
 * line with what the hub sees through the tunnel.
 *
 * Lifecycle: `start()` reconciles every cluster now; then a watch on ManagedClusters
 * reconciles a new cluster (or one whose spec changed) at once, the agent registry is checked
 * every `agentPollMs` (so Available turns Unknown within about a second of the tunnel being
 * lost), and everything is resynced every `intervalMs`. `stop()` (idempotent) ends the watch and
 * the timers and resolves once in-flight reconciles have settled. Concurrency: reconciles of
 * one cluster never overlap; a request during one runs once after it.
 */
export interface ClusterStatusController {
  start(): void;
  stop(): Promise<void>;
  /** Reconciles one cluster now (a missing cluster is no error). Rejects on API failures. */
  reconcile(name: string): Promise<void>;
}

export function createClusterStatusController(
  options: ClusterStatusControllerOptions,
): ClusterStatusController {
  const store = options.store ?? kubeManagedClusterStore(options.hub);
  const timeoutMs = options.probeTimeoutMs ?? 3_000;
  const probe =
    options.probe ?? ((_cluster: string, spoke: KubeConfig) => probeSpoke(spoke, timeoutMs));
  const now = options.now ?? (() => new Date());
  const isConnected = (name: string) => isClusterConnected(options.server, name);

  /** Resolves true on a write conflict: run again with a fresh read. */
  const reconcileOnce = async (name: string): Promise<boolean> => {
    const cluster = await store.get(name);
    if (cluster === undefined) return false;
    const accepted = cluster.spec?.hubAcceptsClient === true;
    const spoke = isConnected(name) && accepted ? options.spokeKubeConfig(name) : undefined;
    const observed =
      spoke !== undefined
        ? { connected: true, probe: await probe(name, spoke) }
        : { connected: isConnected(name) };
    // The registry may have changed during the probe: never report a lost tunnel as Available.
    if (observed.connected && !isConnected(name)) observed.connected = false;
    const status = decideStatus(cluster, observed, now());
    if (isDeepStrictEqual(status, cluster.status ?? {})) return false;
    return !(await store.replaceStatus({ ...cluster, status }));
  };

  return createClusterReconciler({
    reconcileOnce,
    listClusters: async () =>
      (await store.list()).flatMap((c) =>
        c.metadata?.name === undefined ? [] : [c.metadata.name],
      ),
    ...clusterTriggers(options.hub, options.server, {
      ...options,
      intervalMs: options.intervalMs ?? DEFAULT_STATUS_RESYNC_MS,
    }),
  });
}
