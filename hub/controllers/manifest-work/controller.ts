/**
 * The work controller (issue 5 items 1, 2 and 6): ManifestWorks in cluster namespaces are applied
 * by the hub to their cluster through the tunnel (OCM runs a work agent on the spoke; here the
 * spoke runs only our agent), as the hub controllers' identity.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

import { CLUSTER_GROUP, type ManifestWork, WORK_GROUP } from '../../api/index.ts';
import {
  connectedClusters,
  isClusterConnected,
  createKeyQueue,
  DEFAULT_AGENT_POLL_MS,
  startCustomInformer,
  type AgentPresence,
  type RunningInformer,
} from '../../kube/index.ts';
import { ensureManifestWorkAdmissionPolicy, MANIFEST_LIMIT_BYTES } from './admission-policy.ts';
import { hubHashOf } from './applied-work.ts';
import type { ReconcileContext, SpokeSession } from './reconcile-context.ts';
import { reconcileWork } from './reconcile-work.ts';
import { SpokeClient } from './spoke-client.ts';
import { ClusterWatches } from './spoke-watches.ts';
import { cachingWorkStore, kubeWorkStore, type WorkStore } from './work-store.ts';

/** Default period of the full resync (a backstop: changes arrive by watches), in ms. */
export const DEFAULT_WORK_RESYNC_MS = 5 * 60_000;
/** Default number of works reconciled at once (over all clusters). */
export const DEFAULT_WORK_WORKERS = 50;
/** First retry of a work with failed manifests, in ms; doubled per failed run, up to the max. */
export const FAILED_RETRY_BASE_MS = 2_000;
export const FAILED_RETRY_MAX_MS = 60_000;

/** Options of {@link createManifestWorkController}. */
export interface ManifestWorkControllerOptions {
  /** The hub API server: ManifestWorks, ManagedClusters, the admission policy. */
  readonly hub: KubeConfig;
  /** Who is connected: the proxy-server. */
  readonly server: AgentPresence;
  /**
   * How the hub reaches a cluster: the proxy-server's
   * `spokeKubeConfig(cluster, HUB_CONTROLLER_IDENTITY)` (the tunnel and the agent API).
   */
  readonly spokeKubeConfig: (cluster: string) => KubeConfig;
  /** The URL hubHash is computed from; default the hub kubeconfig's server. */
  readonly hubServerUrl?: string;
  /** Full resync period; default {@link DEFAULT_WORK_RESYNC_MS}. */
  readonly resyncIntervalMs?: number;
  /** Agent-presence check period; default 1 s. */
  readonly agentPollMs?: number;
  /**
   * Works reconciled at once, over all clusters; default {@link DEFAULT_WORK_WORKERS}. (OCM's
   * work agent runs 10 per cluster; here one hub reconciles every cluster's works, and a
   * reconcile mostly waits on round trips through the tunnel.)
   */
  readonly workers?: number;
  /** Install the ValidatingAdmissionPolicy (size limit, names) at start; default true. */
  readonly installAdmissionPolicy?: boolean;
  /** Total size limit of a work's manifests; default 500 KiB. */
  readonly manifestLimitBytes?: number;
  /**
   * Failures the controller retries on its own (never with payloads): a reconcile of a work in
   * `cluster`'s namespace, or (`cluster` undefined) a hub list/watch, a spoke watch, the policy.
   */
  readonly onError?: (cluster: string | undefined, err: unknown) => void;
  /** Seams for unit tests. */
  readonly store?: WorkStore;
  readonly now?: () => Date;
}

/**
 * Lifecycle: `start()` installs the admission policy, starts the hub informers (ManifestWorks in
 * every namespace, ManagedClusters) and, once both have listed, reconciles every work; then a
 * work is reconciled when its spec changes, it is deleted, its cluster appears or goes, its
 * cluster's agents connect or all leave (checked every `agentPollMs`), an object it applied
 * changes on the spoke (watched through the tunnel), and every `resyncIntervalMs`. A second
 * `start()` is a no-op. `stop()` (idempotent) ends informers, spoke watches and timers and
 * resolves once reconciles in flight have settled. Concurrency: reconciles of one work never
 * overlap (requests coalesce); up to `workers` works run in parallel.
 */
export interface ManifestWorkController {
  start(): void;
  stop(): Promise<void>;
  /** Asks for a reconcile of one work (for callers that know something changed). */
  requeue(namespace: string, name: string): void;
}

export function createManifestWorkController(
  options: ManifestWorkControllerOptions,
): ManifestWorkController {
  const onError = options.onError ?? (() => undefined);
  const hubUrl = options.hubServerUrl ?? options.hub.getCurrentCluster()?.server ?? '';
  const sessions = new Map<string, SpokeSession>();
  const failures = new Map<string, number>();
  const generations = new Map<string, string>();
  let works: RunningInformer<KubernetesObject> | undefined;
  let clusters: RunningInformer<KubernetesObject> | undefined;
  let connected = new Set<string>();
  let timers: NodeJS.Timeout[] = [];
  let isStarted = false;
  let isStopped = false;
  let synced: Promise<void> = Promise.resolve();

  const worksIn = (namespace: string): string[] =>
    (works?.list() ?? []).flatMap((w) =>
      w.metadata?.namespace === namespace && w.metadata.name !== undefined
        ? [`${namespace}/${w.metadata.name}`]
        : [],
    );

  const spoke = (cluster: string): SpokeSession => {
    let session = sessions.get(cluster);
    if (session === undefined) {
      const client = new SpokeClient(options.spokeKubeConfig(cluster));
      const watches = new ClusterWatches({
        client,
        onChange: (keys) => {
          for (const key of keys) queue.add(key);
        },
        onError: (err) =>
          onError(undefined, new Error(`drift watch on ${cluster}`, { cause: err })),
      });
      session = { client, watches };
      sessions.set(cluster, session);
    }
    return session;
  };

  // Reads of the work being reconciled come from the informer's cache where it is current.
  let isWorksSynced = false;
  const cachedWorks = cachingWorkStore(options.store ?? kubeWorkStore(options.hub), {
    isSynced: () => isWorksSynced,
    get: (namespace, name) => works?.get(name, namespace) as ManifestWork | undefined,
  });

  const ctx: ReconcileContext = {
    works: cachedWorks.store,
    hubHash: hubHashOf(hubUrl),
    clusterExists: (cluster) => clusters?.get(cluster) !== undefined,
    isConnected: (cluster) => isClusterConnected(options.server, cluster),
    spoke,
    existingSpoke: (cluster) => sessions.get(cluster),
    manifestLimitBytes: options.manifestLimitBytes ?? MANIFEST_LIMIT_BYTES,
    retryDelayMs: (key, hasFailed) => {
      if (!hasFailed) {
        failures.delete(key);
        return undefined;
      }
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      return Math.min(FAILED_RETRY_MAX_MS, FAILED_RETRY_BASE_MS * 2 ** (count - 1));
    },
    now: options.now ?? (() => new Date()),
  };

  const queue = createKeyQueue({
    workers: options.workers ?? DEFAULT_WORK_WORKERS,
    process: async (key) => {
      await synced;
      const slash = key.indexOf('/');
      return reconcileWork(ctx, key.slice(0, slash), key.slice(slash + 1));
    },
    onError: (key, err) => onError(key.slice(0, key.indexOf('/')), err),
  });

  const onWork = (work: KubernetesObject, isDeleted: boolean): void => {
    const namespace = work.metadata?.namespace;
    const name = work.metadata?.name;
    if (namespace === undefined || name === undefined) return;
    const key = `${namespace}/${name}`;
    cachedWorks.observe(work);
    // Only spec changes (generation) and deletion matter: status writes are our own.
    const mark = isDeleted
      ? undefined
      : `${work.metadata?.generation ?? ''}|${work.metadata?.deletionTimestamp ?? ''}`;
    if (mark !== undefined && generations.get(key) === mark) return;
    if (mark === undefined) {
      generations.delete(key);
      failures.delete(key);
    } else generations.set(key, mark);
    queue.add(key);
  };

  // Only a cluster appearing or going matters (its works start or stop being delivered).
  const knownClusters = new Set<string>();
  const onCluster = (cluster: KubernetesObject, isDeleted: boolean): void => {
    const name = cluster.metadata?.name;
    if (name === undefined || knownClusters.has(name) !== isDeleted) return;
    if (isDeleted) {
      knownClusters.delete(name);
      sessions.get(name)?.watches.stop();
      sessions.delete(name);
    } else knownClusters.add(name);
    for (const key of worksIn(name)) queue.add(key);
  };

  const pollAgents = (): void => {
    const next = connectedClusters(options.server);
    for (const name of next) if (!connected.has(name)) for (const k of worksIn(name)) queue.add(k);
    for (const name of connected) if (!next.has(name)) for (const k of worksIn(name)) queue.add(k);
    connected = next;
  };

  const ensurePolicy = (): void => {
    if (options.installAdmissionPolicy === false) return;
    ensureManifestWorkAdmissionPolicy(options.hub).catch((err: unknown) =>
      onError(undefined, new Error('the ManifestWork admission policy', { cause: err })),
    );
  };

  const requeueAll = (): void => {
    for (const work of works?.list() ?? []) {
      const { namespace, name } = work.metadata ?? {};
      if (namespace !== undefined && name !== undefined) queue.add(`${namespace}/${name}`);
    }
  };
  const resync = (): void => {
    ensurePolicy();
    requeueAll();
  };

  return {
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      connected = connectedClusters(options.server);
      clusters = startCustomInformer<KubernetesObject>(
        options.hub,
        { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' },
        {
          onChange: onCluster,
          onError: (err) => onError(undefined, err),
        },
      );
      works = startCustomInformer<KubernetesObject>(
        options.hub,
        { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' },
        {
          onChange: onWork,
          onError: (err) => onError(undefined, err),
        },
      );
      void works.synced.then(() => (isWorksSynced = true));
      synced = Promise.all([clusters.synced, works.synced]).then(() => undefined);
      ensurePolicy();
      void synced.then(requeueAll);
      timers = [
        setInterval(resync, options.resyncIntervalMs ?? DEFAULT_WORK_RESYNC_MS),
        setInterval(pollAgents, options.agentPollMs ?? DEFAULT_AGENT_POLL_MS),
      ];
      for (const timer of timers) timer.unref();
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      for (const timer of timers) clearInterval(timer);
      timers = [];
      await Promise.all([works?.stop(), clusters?.stop()]);
      await queue.stop();
      for (const session of sessions.values()) session.watches.stop();
      sessions.clear();
    },
    requeue(namespace, name) {
      queue.add(`${namespace}/${name}`);
    },
  };
}
