/**
 * The managed-service-account controller (issue 6): OCM's managed-serviceaccount agent runs on
 * each spoke; here the hub does its work through the tunnel, as the hub controllers.
 */
import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import { AUTHENTICATION_GROUP } from '../../api/index.ts';
import {
  connectedClusters,
  isClusterConnected,
  createKeyQueue,
  DEFAULT_AGENT_POLL_MS,
  DEFAULT_QUEUE_WORKERS,
  startCustomInformer,
  startInformer,
  type AgentPresence,
  type RunningInformer,
} from '../../kube/index.ts';
import { kubeHubAccounts, MSA_VERSION, type HubAccounts } from './hub-accounts.ts';
import { reconcileAccount, type AccountContext } from './reconcile-account.ts';
import { spokeAccounts, type SpokeAccounts } from './spoke-accounts.ts';
import { MSA_INSTALL_NAMESPACE, MSA_LABEL } from './token-rotation.ts';

/** Default period of the full resync (a backstop: e.g. a hub Secret deleted by hand), ms. */
export const DEFAULT_MSA_RESYNC_MS = 60_000;
/** Orphan sweeps (one list each) of clusters without accounts run at most this many at once. */
export const SWEEP_CONCURRENCY = 8;

/** Options of {@link createManagedServiceAccountController}. */
export interface ManagedServiceAccountControllerOptions {
  /** The hub API server: ManagedServiceAccounts, their Secrets, ManagedClusters. */
  readonly hub: KubeConfig;
  /** Who is connected: the proxy-server. */
  readonly server: AgentPresence;
  /**
   * How the hub reaches a cluster: the proxy-server's
   * `spokeKubeConfig(cluster, HUB_CONTROLLER_IDENTITY)` (the tunnel and the agent API).
   */
  readonly spokeKubeConfig: (cluster: string) => KubeConfig;
  /**
   * A ClusterRole granting Secrets, bound to the hub's own identity in each cluster namespace
   * before the first Secret access there (deploy/hub: `spokelink-hub-managed-serviceaccount`).
   * Unset: the hub's credentials already allow Secrets in cluster namespaces.
   */
  readonly secretAccessClusterRole?: string;
  /**
   * Rotate once this fraction of a token's actual lifetime has passed; default 0.8 (OCM). Tests
   * shorten it instead of waiting: the API server issues no token under 10 min.
   */
  readonly rotationFraction?: number;
  /** Full resync period; default {@link DEFAULT_MSA_RESYNC_MS}. */
  readonly resyncIntervalMs?: number;
  /** Agent-presence check period; default 1 s. */
  readonly agentPollMs?: number;
  /** Accounts reconciled at once; default 10. */
  readonly workers?: number;
  /**
   * Failures the controller retries on its own (never with tokens): a reconcile of an account
   * in `cluster`'s namespace, or (`cluster` undefined) a hub or spoke list/watch.
   */
  readonly onError?: (cluster: string | undefined, err: unknown) => void;
  /** Seams for unit tests. */
  readonly accounts?: HubAccounts;
  readonly spokeAccounts?: (cluster: string) => SpokeAccounts;
  readonly now?: () => Date;
}

/**
 * Lifecycle: `start()` starts the hub informer on ManagedServiceAccounts (every namespace) and
 * reconciles each; then an account is reconciled when its spec changes or it is deleted, when
 * its cluster's agents connect, when a labelled ServiceAccount of its name changes or goes on
 * the spoke (one watch per connected cluster, through the tunnel: a ServiceAccount deleted by
 * hand is made again and re-issued within seconds), at its rotation point and every
 * `resyncIntervalMs`. When an agent connects, the spoke's labelled ServiceAccounts are listed:
 * those without an account on the hub are deleted (the orphan sweep, at start-up and after
 * every outage). Only clusters with at least one account are watched; for the others that list
 * is all (at most {@link SWEEP_CONCURRENCY} at once). A second `start()` is a no-op; `stop()` (idempotent) ends the informers,
 * spoke watches and timers and resolves once reconciles in flight have settled. Concurrency:
 * reconciles of one account never overlap (requests coalesce); up to `workers` run in parallel.
 */
export interface ManagedServiceAccountController {
  start(): void;
  stop(): Promise<void>;
  /** Asks for a reconcile of one account (for callers that know something changed). */
  requeue(namespace: string, name: string): void;
}

export function createManagedServiceAccountController(
  options: ManagedServiceAccountControllerOptions,
): ManagedServiceAccountController {
  const onError = options.onError ?? (() => undefined);
  const marks = new Map<string, string>();
  const spokeWatches = new Map<string, RunningInformer<KubernetesObject>>();
  let accounts: RunningInformer<KubernetesObject> | undefined;
  let connected = new Set<string>();
  let timers: NodeJS.Timeout[] = [];
  let isStarted = false;
  let isStopped = false;

  const ctx: AccountContext = {
    hub:
      options.accounts ??
      kubeHubAccounts(
        options.hub,
        options.secretAccessClusterRole === undefined
          ? {}
          : { secretAccessClusterRole: options.secretAccessClusterRole },
      ),
    spoke:
      options.spokeAccounts ??
      ((cluster) => spokeAccounts(options.spokeKubeConfig(cluster), cluster)),
    isConnected: (cluster) => isClusterConnected(options.server, cluster),
    now: options.now ?? (() => new Date()),
    unreachable: new Map(),
    ...(options.rotationFraction === undefined
      ? {}
      : { rotationFraction: options.rotationFraction }),
  };

  const queue = createKeyQueue({
    workers: options.workers ?? DEFAULT_QUEUE_WORKERS,
    process: (key) => {
      const slash = key.indexOf('/');
      return reconcileAccount(ctx, key.slice(0, slash), key.slice(slash + 1));
    },
    onError: (key, err) => onError(key.slice(0, key.indexOf('/')), err),
  });

  const accountsIn = (namespace: string): string[] =>
    (accounts?.list() ?? []).flatMap((a) =>
      a.metadata?.namespace === namespace && a.metadata.name !== undefined
        ? [`${namespace}/${a.metadata.name}`]
        : [],
    );

  const onAccount = (msa: KubernetesObject, isDeleted: boolean): void => {
    const { namespace, name } = msa.metadata ?? {};
    if (namespace === undefined || name === undefined) return;
    const key = `${namespace}/${name}`;
    // Only spec changes and deletion matter: status writes are our own.
    const mark = isDeleted
      ? undefined
      : `${msa.metadata?.uid ?? ''}|${msa.metadata?.generation ?? ''}|${msa.metadata?.deletionTimestamp ?? ''}`;
    if (mark !== undefined && marks.get(key) === mark) return;
    if (mark === undefined) marks.delete(key);
    else marks.set(key, mark);
    queue.add(key);
    // Its cluster's first account starts the spoke watch; its last one ends it.
    followAccounts(namespace);
  };

  /** The labelled ServiceAccounts of a connected cluster: its first list is the sweep. */
  const watchSpoke = (cluster: string): void => {
    if (spokeWatches.has(cluster)) return;
    const spoke = options.spokeKubeConfig(cluster);
    const core = spoke.makeApiClient(CoreV1Api);
    const labelSelector = `${MSA_LABEL}=true`;
    const watch = startInformer<KubernetesObject>({
      kubeConfig: spoke,
      path: `/api/v1/namespaces/${MSA_INSTALL_NAMESPACE}/serviceaccounts`,
      labelSelector,
      list: async () =>
        (await core.listNamespacedServiceAccount({
          namespace: MSA_INSTALL_NAMESPACE,
          labelSelector,
        })) as KubernetesListObject<KubernetesObject>,
      onChange: (account) => {
        const name = account.metadata?.name;
        if (name !== undefined) queue.add(`${cluster}/${name}`);
      },
      onError: (err) =>
        onError(undefined, new Error(`ServiceAccount watch on ${cluster}`, { cause: err })),
    });
    spokeWatches.set(cluster, watch);
  };

  const unwatchSpoke = (cluster: string): void => {
    const watch = spokeWatches.get(cluster);
    spokeWatches.delete(cluster);
    void watch?.stop();
  };

  /**
   * A cluster without accounts is not watched (a thousand idle watches through the tunnels
   * cost the hub more than the feature): its labelled ServiceAccounts are listed once when its
   * agents connect, and those left behind by accounts deleted meanwhile are swept. At most
   * {@link SWEEP_CONCURRENCY} such lists run at once.
   */
  const sweeps: string[] = [];
  let sweeping = 0;
  const sweepNext = (): void => {
    while (sweeping < SWEEP_CONCURRENCY && sweeps.length > 0) {
      const cluster = sweeps.shift() as string;
      if (isStopped || !connected.has(cluster) || spokeWatches.has(cluster)) continue;
      sweeping++;
      const core = options.spokeKubeConfig(cluster).makeApiClient(CoreV1Api);
      core
        .listNamespacedServiceAccount({
          namespace: MSA_INSTALL_NAMESPACE,
          labelSelector: `${MSA_LABEL}=true`,
        })
        .then(
          (list) => {
            for (const account of list.items) {
              const name = account.metadata?.name;
              if (name !== undefined) queue.add(`${cluster}/${name}`);
            }
          },
          (err: unknown) =>
            onError(undefined, new Error(`ServiceAccount sweep on ${cluster}`, { cause: err })),
        )
        .finally(() => {
          sweeping--;
          sweepNext();
        });
    }
  };

  /** Watches the connected clusters that have accounts; the others are swept once. */
  const followAccounts = (cluster: string): void => {
    if (!connected.has(cluster)) return;
    if (accountsIn(cluster).length > 0) watchSpoke(cluster);
    else unwatchSpoke(cluster);
  };

  const pollAgents = (): void => {
    if (isStopped) return;
    const next = connectedClusters(options.server);
    for (const name of connected) if (!next.has(name)) unwatchSpoke(name);
    const joined = [...next].filter((name) => !connected.has(name));
    connected = next;
    for (const name of joined) {
      const keys = accountsIn(name);
      if (keys.length > 0) watchSpoke(name);
      else sweeps.push(name);
      for (const key of keys) queue.add(key);
    }
    sweepNext();
  };

  const resync = (): void => {
    for (const account of accounts?.list() ?? []) {
      const { namespace, name } = account.metadata ?? {};
      if (namespace !== undefined && name !== undefined) queue.add(`${namespace}/${name}`);
    }
  };

  return {
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      accounts = startCustomInformer<KubernetesObject>(
        options.hub,
        { group: AUTHENTICATION_GROUP, version: MSA_VERSION, plural: 'managedserviceaccounts' },
        {
          onChange: onAccount,
          onError: (err) => onError(undefined, err),
        },
      );
      pollAgents();
      timers = [
        setInterval(resync, options.resyncIntervalMs ?? DEFAULT_MSA_RESYNC_MS),
        setInterval(pollAgents, options.agentPollMs ?? DEFAULT_AGENT_POLL_MS),
      ];
      for (const timer of timers) timer.unref();
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      for (const timer of timers) clearInterval(timer);
      timers = [];
      const watches = [...spokeWatches.values()];
      spokeWatches.clear();
      await Promise.all([accounts?.stop(), ...watches.map((w) => w.stop())]);
      await queue.stop();
    },
    requeue(namespace, name) {
      queue.add(`${namespace}/${name}`);
    },
  };
}
