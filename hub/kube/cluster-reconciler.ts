import type { KubeConfig } from '@kubernetes/client-node';

import { watchManagedClusters, type ClusterWatch } from './managed-cluster-watch.ts';

/** Default full resync period, in ms. */
export const DEFAULT_RESYNC_INTERVAL_MS = 10_000;
/** Default period of the agent-presence check, in ms. */
export const DEFAULT_AGENT_POLL_MS = 1_000;
/** A failed resync (e.g. 429 while the API server warms up) is tried again after this, in ms. */
export const RESYNC_RETRY_MS = 1_000;

/** Who is connected: the part of a ProxyServer (`agents()`) the cluster controllers read. */
export interface AgentPresence {
  agents(): ReadonlyArray<{ readonly cluster: string }>;
}

/** The clusters with at least one agent connected to `presence` now. */
export function connectedClusters(presence: AgentPresence): Set<string> {
  return new Set(presence.agents().map((agent) => agent.cluster));
}

/** Options of {@link createClusterReconciler}. */
export interface ClusterReconcilerOptions {
  /**
   * Reconciles one cluster. Resolves true to be run again at once (e.g. a write conflict);
   * rejects on failures, which go to `onError` (a later trigger retries).
   */
  readonly reconcileOnce: (name: string) => Promise<boolean>;
  /** Every cluster name, for resyncs. */
  readonly listClusters: () => Promise<readonly string[]>;
  /** The clusters that have at least one agent connected now. */
  readonly connectedClusters: () => ReadonlySet<string>;
  /** Starts a watch that calls `onChange(name)` when a cluster appears or changes. */
  readonly watch?: (
    onChange: (name: string) => void,
    onError: (err: unknown) => void,
  ) => ClusterWatch;
  /** Full resync period; default {@link DEFAULT_RESYNC_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Agent-presence check period; default {@link DEFAULT_AGENT_POLL_MS}. */
  readonly agentPollMs?: number;
  /** Failures the reconciler retries on its own (`name` undefined: a list or the watch). */
  readonly onError?: (name: string | undefined, err: unknown) => void;
}

/**
 * The loop the cluster controllers share: reconcile a cluster when it appears or changes (the
 * watch), when its agents connect or all leave (checked every `agentPollMs`), and every cluster
 * every `intervalMs`; a failed list is tried again after {@link RESYNC_RETRY_MS}.
 *
 * Lifecycle: `start()` lists and reconciles every cluster now, then runs the triggers; a second
 * call is a no-op. `stop()` (idempotent) ends the triggers and the watch and resolves once
 * reconciles in flight have settled. Concurrency: reconciles of one cluster never overlap; a
 * request during one runs once more after it (requests coalesce); different clusters run in
 * parallel.
 */
export interface ClusterReconciler {
  start(): void;
  stop(): Promise<void>;
  /** Reconciles `name` now (or once more after the one running); rejects with its failure. */
  reconcile(name: string): Promise<void>;
}

export function createClusterReconciler(options: ClusterReconcilerOptions): ClusterReconciler {
  const onError = options.onError ?? (() => {});
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let timers: NodeJS.Timeout[] = [];
  let retry: NodeJS.Timeout | undefined;
  let watch: ClusterWatch | undefined;
  let connected = new Set<string>();
  let isStarted = false;
  let isStopped = false;

  const reconcile = (name: string): Promise<void> => {
    const current = running.get(name);
    if (current !== undefined) {
      again.add(name);
      return current;
    }
    // Registered before the first pass starts: a pass that asks for the same name
    // synchronously (before its first await) then queues behind it, never beside it.
    let resolve: () => void = () => undefined;
    let reject: (err: unknown) => void = () => undefined;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    running.set(name, promise);
    (async () => {
      try {
        do {
          again.delete(name);
          if (await options.reconcileOnce(name)) again.add(name);
        } while (again.has(name) && !isStopped);
      } finally {
        running.delete(name);
      }
    })().then(resolve, reject);
    return promise;
  };

  const background = (name: string): void => {
    if (isStopped) return;
    reconcile(name).catch((err: unknown) => onError(name, err));
  };

  const resync = async (): Promise<void> => {
    try {
      for (const name of await options.listClusters()) background(name);
    } catch (err: unknown) {
      onError(undefined, err);
      // Soon again rather than a whole interval later (the first resync creates things).
      if (isStopped || retry !== undefined) return;
      retry = setTimeout(
        () => {
          retry = undefined;
          void resync();
        },
        Math.min(RESYNC_RETRY_MS, options.intervalMs ?? DEFAULT_RESYNC_INTERVAL_MS),
      );
      retry.unref();
    }
  };

  const pollAgents = (): void => {
    const next = new Set(options.connectedClusters());
    for (const name of next) if (!connected.has(name)) background(name);
    for (const name of connected) if (!next.has(name)) background(name);
    connected = next;
  };

  return {
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      connected = new Set(options.connectedClusters());
      void resync();
      watch = options.watch?.(background, (err) => onError(undefined, err));
      timers = [
        setInterval(() => void resync(), options.intervalMs ?? DEFAULT_RESYNC_INTERVAL_MS),
        setInterval(pollAgents, options.agentPollMs ?? DEFAULT_AGENT_POLL_MS),
      ];
      for (const timer of timers) timer.unref();
    },
    async stop() {
      isStopped = true;
      for (const timer of timers) clearInterval(timer);
      timers = [];
      clearTimeout(retry);
      await watch?.stop();
      await Promise.allSettled([...running.values()]);
    },
    reconcile,
  };
}

/** The trigger options every cluster controller takes. */
export interface ClusterTriggerOptions {
  /** Full resync period; default {@link DEFAULT_RESYNC_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** How often the agent registry is checked for changes; default {@link DEFAULT_AGENT_POLL_MS}. */
  readonly agentPollMs?: number;
  /** Called with failures the controller retries on its own (never with payloads). */
  readonly onError?: (cluster: string | undefined, err: unknown) => void;
  /** How ManagedCluster changes are watched; default a watch on the hub, `false` for none. */
  readonly watch?: ClusterReconcilerOptions['watch'] | false;
}

/**
 * The triggers of a cluster controller for {@link createClusterReconciler}: agent presence from
 * `presence`, the ManagedCluster watch on `hub` (unless replaced or turned off), the periods.
 */
export function clusterTriggers(
  hub: KubeConfig,
  presence: AgentPresence,
  options: ClusterTriggerOptions,
): Omit<ClusterReconcilerOptions, 'reconcileOnce' | 'listClusters'> {
  const watch =
    options.watch === false
      ? undefined
      : (options.watch ??
        ((onChange: (name: string) => void, onError: (err: unknown) => void) =>
          watchManagedClusters(hub, { onChange, onError })));
  return {
    connectedClusters: () => connectedClusters(presence),
    ...(watch === undefined ? {} : { watch }),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.agentPollMs === undefined ? {} : { agentPollMs: options.agentPollMs }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  };
}
