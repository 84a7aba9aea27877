import type { KubeConfig } from '@kubernetes/client-node';

import { watchManagedClusters, type ClusterWatch } from './managed-cluster-watch.ts';

/** Default full resync period, in ms. */
export const DEFAULT_RESYNC_INTERVAL_MS = 10_000;
/** Default period of the agent-presence check, in ms. */
export const DEFAULT_AGENT_POLL_MS = 1_000;
/** Default number of clusters one controller reconciles at once. */
export const DEFAULT_RECONCILE_CONCURRENCY = 16;
/** A failed resync (e.g. 429 while the API server warms up) is tried again after this, in ms. */
export const RESYNC_RETRY_MS = 1_000;

/**
 * Who is connected: the part of a ProxyServer the cluster controllers read. `agents()` is enough;
 * a ProxyServer also answers `connectedClusters()` and `isConnected()` without listing every
 * agent, which matters when thousands of clusters are reconciled.
 */
export interface AgentPresence {
  agents(): ReadonlyArray<{ readonly cluster: string }>;
  connectedClusters?(): Set<string>;
  isConnected?(cluster: string): boolean;
  /**
   * Whether one of the cluster's agents answers a tunnel ping within `timeoutMs` (undefined:
   * cannot tell, e.g. its agents have no `ping` extension); the proxy-server's `pingCluster`.
   */
  pingCluster?(cluster: string, timeoutMs: number): Promise<boolean | undefined>;
}

/** The clusters with at least one agent connected to `presence` now. */
export function connectedClusters(presence: AgentPresence): Set<string> {
  return presence.connectedClusters?.() ?? new Set(presence.agents().map((agent) => agent.cluster));
}

/** Whether `cluster` has at least one agent connected to `presence` now. */
export function isClusterConnected(presence: AgentPresence, cluster: string): boolean {
  return presence.isConnected?.(cluster) ?? presence.agents().some((a) => a.cluster === cluster);
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
  /**
   * Clusters reconciled at once; default {@link DEFAULT_RECONCILE_CONCURRENCY}. More wait their
   * turn in request order, so a resync of thousands of clusters is a steady stream, not a burst.
   */
  readonly concurrency?: number;
}

/**
 * The loop the cluster controllers share: reconcile a cluster when it appears or changes (the
 * watch), when its agents connect or all leave (checked every `agentPollMs`), and every cluster
 * every `intervalMs`; a failed list is tried again after {@link RESYNC_RETRY_MS}.
 *
 * Lifecycle: `start()` lists and reconciles every cluster now, then runs the triggers; a second
 * call is a no-op. `stop()` (idempotent) ends the triggers and the watch and resolves once
 * reconciles in flight have settled (passes still waiting for a slot are dropped). Concurrency:
 * reconciles of one cluster never overlap; a request during one runs once more after it
 * (requests coalesce); up to `concurrency` clusters run in parallel.
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

  const limit = Math.max(1, options.concurrency ?? DEFAULT_RECONCILE_CONCURRENCY);
  // Names waiting for a slot, in request order, with how to start them.
  const waiting = new Map<string, () => void>();
  let active = 0;

  const startNext = (): void => {
    while (active < limit && waiting.size > 0) {
      const [name, start] = waiting.entries().next().value as [string, () => void];
      waiting.delete(name);
      start();
    }
  };

  const reconcile = (name: string): Promise<void> => {
    const current = running.get(name);
    if (current !== undefined) {
      // Still waiting for a slot: that pass has not read anything yet, so it serves this request.
      if (!waiting.has(name)) again.add(name);
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
    const run = (): void => {
      active++;
      (async () => {
        try {
          do {
            again.delete(name);
            if (isStopped) break;
            if (await options.reconcileOnce(name)) again.add(name);
          } while (again.has(name) && !isStopped);
        } finally {
          running.delete(name);
          active--;
          startNext();
        }
      })().then(resolve, reject);
    };
    if (active < limit) run();
    else waiting.set(name, run);
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
      // Waiting passes end at once (they see isStopped) and settle their callers.
      const queued = [...waiting.values()];
      waiting.clear();
      for (const start of queued) start();
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

/** How soon a cluster whose probe found it unreachable while its agent is connected is probed again, ms. */
export const UNREACHED_RETRY_MS = 5_000;

/**
 * A reconciler that also reconciles a cluster again `retryMs` after a pass asked for it
 * (`retrySoon(name)`): a probe that failed while the cluster's agent is connected (e.g. timed out
 * in the burst of a thousand agents connecting at once) is tried again in seconds rather than at
 * the next resync, a minute later. One pending retry per cluster; `stop()` clears them.
 */
export function withSoonRetries(
  create: (retrySoon: (name: string) => void) => ClusterReconciler,
  options: {
    readonly retryMs?: number;
    /** A retried pass failed (the reconciler's own triggers report theirs). */
    readonly onError?: (name: string, err: unknown) => void;
  } = {},
): ClusterReconciler {
  const retryMs = options.retryMs ?? UNREACHED_RETRY_MS;
  const timers = new Map<string, NodeJS.Timeout>();
  let isStopped = false;
  // Called from passes only, so after `inner` below is set.
  const retrySoon = (name: string): void => {
    if (isStopped || timers.has(name)) return;
    const timer = setTimeout(() => {
      timers.delete(name);
      if (!isStopped) inner.reconcile(name).catch((err: unknown) => options.onError?.(name, err));
    }, retryMs);
    timer.unref();
    timers.set(name, timer);
  };
  const inner = create(retrySoon);
  return {
    start: () => inner.start(),
    async stop() {
      isStopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await inner.stop();
    },
    reconcile: (name) => inner.reconcile(name),
  };
}
