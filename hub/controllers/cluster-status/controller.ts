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
  UNREACHED_RETRY_MS,
  withSoonRetries,
} from '../../kube/index.ts';
import { probeSpoke, type SpokeDetails } from './spoke-probe.ts';
import { decideStatus, type SpokeProbe } from './status-decision.ts';

/**
 * Default period of the status resync, in ms. Agents coming and going are seen within
 * `agentPollMs` (1 s) and ManagedCluster changes at once; the resync re-reads `/readyz` and the
 * claims of connected clusters (of a ready one at every other pass: {@link DEFAULT_READY_REUSE_MS})
 * and, every {@link DEFAULT_DETAILS_INTERVAL_MS}, the version and capacity.
 */
export const DEFAULT_STATUS_RESYNC_MS = 30_000;
/**
 * Default period of a full probe, in ms: /version, the kube-system namespace and the nodes are
 * read when an agent of the cluster connects and then at most this often (a large cluster's
 * nodes are megabytes); /readyz and the ClusterClaims are read at every resync (a ready
 * cluster's at every other: {@link DEFAULT_READY_REUSE_MS}).
 */
export const DEFAULT_DETAILS_INTERVAL_MS = 300_000;
/**
 * Default time, in ms, for which a light probe that found a cluster ready stands in for the next
 * one, as long as one of the cluster's agents answers a tunnel ping (EXT_PING, no request to the
 * spoke) at that pass: with the 30 s resync a settled, ready cluster's API server is asked every
 * 60 s (OCM's registration agent checks its cluster once a minute,
 * `--cluster-healthcheck-period`) while its tunnel is checked every 30 s, so a tunnel that goes
 * silent still turns the cluster Unknown at the next pass. A cluster that just connected, was not
 * ready or was not reached, or whose agents cannot be pinged, is probed at every pass. With a
 * thousand clusters the probes are most of what a settled hub does.
 */
export const DEFAULT_READY_REUSE_MS = 45_000;
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
  /** Period of full probes; default {@link DEFAULT_DETAILS_INTERVAL_MS}. */
  readonly detailsIntervalMs?: number;
  /** How long a probe that found the cluster ready is reused; default {@link DEFAULT_READY_REUSE_MS}. */
  readonly readyReuseMs?: number;
  /**
   * A connected cluster whose probe did not find it ready is probed again after this long;
   * default {@link UNREACHED_RETRY_MS}.
   */
  readonly unreachedRetryMs?: number;
  /** Seams for unit tests: where ManagedClusters are read and written, how spokes are probed. */
  readonly store?: ManagedClusterStore;
  readonly probe?: (cluster: string, spoke: KubeConfig, details: boolean) => Promise<SpokeProbe>;
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
    options.probe ??
    ((_cluster: string, spoke: KubeConfig, details: boolean) =>
      probeSpoke(spoke, timeoutMs, details));
  const now = options.now ?? (() => new Date());
  const detailsIntervalMs = options.detailsIntervalMs ?? DEFAULT_DETAILS_INTERVAL_MS;
  const isConnected = (name: string) => isClusterConnected(options.server, name);
  const readyReuseMs = options.readyReuseMs ?? DEFAULT_READY_REUSE_MS;
  /** What each cluster's last complete full probe found, and when; dropped when it leaves. */
  const details = new Map<string, { readonly at: number; readonly found: SpokeDetails }>();
  /** Each cluster's last probe, while it found the cluster ready; dropped when it leaves. */
  const ready = new Map<string, { readonly at: number; readonly probe: SpokeProbe }>();

  /**
   * The last probe while it found the cluster ready within `readyReuseMs`; else a full probe
   * when due, or a light one completed with the last full probe's details.
   */
  const probeCluster = async (name: string, spoke: KubeConfig): Promise<SpokeProbe> => {
    const at = now().getTime();
    const reused = ready.get(name);
    // Not while the details are incomplete (asked for until a full probe has them), and only
    // while the tunnel answers: a silent one (a blackhole) gets the real probe, which fails.
    if (
      reused !== undefined &&
      at - reused.at < readyReuseMs &&
      details.has(name) &&
      (await options.server.pingCluster?.(name, timeoutMs)) === true
    )
      return reused.probe;
    const found = await probeOnce(name, spoke, at);
    if (found.reached && found.readyz === 200) ready.set(name, { at, probe: found });
    else ready.delete(name);
    return found;
  };

  const probeOnce = async (name: string, spoke: KubeConfig, at: number): Promise<SpokeProbe> => {
    const last = details.get(name);
    const full = last === undefined || at - last.at >= detailsIntervalMs;
    const found = await probe(name, spoke, full);
    if (!found.reached || found.readyz !== 200) return found;
    if (!full) return { ...last.found, ...found };
    // Kept only when complete: a part the spoke refused (RBAC not bound yet) is asked again.
    if (found.kubernetesVersion !== undefined && found.kubeSystemUid !== undefined) {
      const { kubernetesVersion, kubeSystemUid, resources } = found;
      details.set(name, {
        at,
        found: {
          kubernetesVersion,
          kubeSystemUid,
          ...(resources === undefined ? {} : { resources }),
        },
      });
    }
    return found;
  };

  let retrySoon: (name: string) => void = () => undefined;

  /** Resolves true on a write conflict: run again with a fresh read. */
  const reconcileOnce = async (name: string): Promise<boolean> => {
    const cluster = await store.get(name);
    if (cluster === undefined) {
      details.delete(name);
      ready.delete(name);
      return false;
    }
    const accepted = cluster.spec?.hubAcceptsClient === true;
    const spoke = isConnected(name) && accepted ? options.spokeKubeConfig(name) : undefined;
    // Away (or not accepted): the next probe after it is back is a full one.
    if (spoke === undefined) {
      details.delete(name);
      ready.delete(name);
    }
    const observed =
      spoke !== undefined
        ? { connected: true, probe: await probeCluster(name, spoke) }
        : { connected: isConnected(name) };
    // The registry may have changed during the probe: never report a lost tunnel as Available.
    if (observed.connected && !isConnected(name)) observed.connected = false;
    // Connected, yet the spoke did not answer ready: look again in seconds, not at the resync.
    const { probe: seen } = observed as { probe?: SpokeProbe };
    if (observed.connected && seen !== undefined && (!seen.reached || seen.readyz !== 200))
      retrySoon(name);
    const status = decideStatus(cluster, observed, now());
    if (isDeepStrictEqual(status, cluster.status ?? {})) return false;
    return !(await store.replaceStatus({ ...cluster, status }));
  };

  return withSoonRetries(
    (soon) => {
      retrySoon = soon;
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
    },
    {
      retryMs: options.unreachedRetryMs ?? UNREACHED_RETRY_MS,
      onError: (name, err) => options.onError?.(name, err),
    },
  );
}
