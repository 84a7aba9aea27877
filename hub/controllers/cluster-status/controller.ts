import { isDeepStrictEqual } from 'node:util';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  kubeManagedClusterStore,
  type ManagedClusterStore,
  type TunnelDialer,
} from '../../kube/index.ts';
import { probeSpoke } from './spoke-probe.ts';
import { decideStatus, type SpokeProbe } from './status-decision.ts';

/** The part of a ProxyServer the controller uses: who is connected, and in-process dials. */
export interface TunnelServer extends TunnelDialer {
  agents(): ReadonlyArray<{ readonly cluster: string }>;
}

/** Options of {@link createClusterStatusController}. */
export interface ClusterStatusControllerOptions {
  /** The hub API server, where the ManagedClusters live. */
  readonly hub: KubeConfig;
  readonly server: TunnelServer;
  /** The spoke's own credentials (and CA) for reads through the tunnel; undefined: no probe. */
  readonly spokeCredentials: (cluster: string) => KubeConfig | undefined;
  /** Full resync period; default 10 s. */
  readonly intervalMs?: number;
  /** How often the agent registry is checked for changes; default 1 s. */
  readonly agentPollMs?: number;
  /** Timeout of each request to a spoke; default 3 s. */
  readonly probeTimeoutMs?: number;
  /** Called with failures the controller retries on its own (never with payloads). */
  readonly onError?: (cluster: string | undefined, err: unknown) => void;
  /** Seams for unit tests: where ManagedClusters are read and written, how spokes are probed. */
  readonly store?: ManagedClusterStore;
  readonly probe?: (cluster: string, spoke: KubeConfig) => Promise<SpokeProbe>;
  readonly now?: () => Date;
}

/**
 * Keeps every ManagedCluster's status (conditions, version, claims) in line with what the hub
 * sees through the tunnel.
 *
 * Lifecycle: `start()` resyncs every cluster now and then every `intervalMs`, and reconciles a
 * cluster as soon as its agents connect or all leave (the registry is checked every
 * `agentPollMs`), so Available turns Unknown within about a second of the tunnel being lost.
 * `stop()` (idempotent) ends the timers and resolves once in-flight reconciles have settled.
 * Concurrency: reconciles of one cluster never overlap; a request during one runs once after it.
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
    ((cluster: string, spoke: KubeConfig) => probeSpoke(options.server, cluster, spoke, timeoutMs));
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => {});
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let timers: NodeJS.Timeout[] = [];
  let connected = new Set<string>();
  let stopped = false;

  const connectedClusters = () => new Set(options.server.agents().map((a) => a.cluster));

  const reconcileOnce = async (name: string): Promise<void> => {
    const cluster = await store.get(name);
    if (cluster === undefined) return;
    const isConnected = connectedClusters().has(name);
    const credentials = options.spokeCredentials(name);
    const accepted = cluster.spec?.hubAcceptsClient === true;
    const observed =
      isConnected && accepted && credentials !== undefined
        ? { connected: true, probe: await probe(name, credentials) }
        : { connected: isConnected };
    // The registry may have changed during the probe: never report a lost tunnel as Available.
    if (observed.connected && !connectedClusters().has(name)) observed.connected = false;
    const status = decideStatus(cluster, observed, now());
    if (isDeepStrictEqual(status, cluster.status ?? {})) return;
    const written = await store.replaceStatus({ ...cluster, status });
    if (!written) again.add(name); // conflict: read again and retry
  };

  const reconcile = (name: string): Promise<void> => {
    const current = running.get(name);
    if (current !== undefined) {
      again.add(name);
      return current;
    }
    const run = (async () => {
      try {
        do {
          again.delete(name);
          await reconcileOnce(name);
        } while (again.has(name) && !stopped);
      } finally {
        running.delete(name);
      }
    })();
    running.set(name, run);
    return run;
  };

  const background = (name: string) => {
    reconcile(name).catch((err: unknown) => onError(name, err));
  };

  const resync = async () => {
    try {
      for (const cluster of await store.list()) {
        const name = cluster.metadata?.name;
        if (name !== undefined) background(name);
      }
    } catch (err: unknown) {
      onError(undefined, err);
    }
  };

  const watchAgents = () => {
    const next = connectedClusters();
    for (const name of next) if (!connected.has(name)) background(name);
    for (const name of connected) if (!next.has(name)) background(name);
    connected = next;
  };

  return {
    start() {
      if (stopped || timers.length > 0) return;
      connected = connectedClusters();
      void resync();
      timers = [
        setInterval(() => void resync(), options.intervalMs ?? 10_000),
        setInterval(watchAgents, options.agentPollMs ?? 1_000),
      ];
      for (const t of timers) t.unref();
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      timers = [];
      await Promise.allSettled([...running.values()]);
    },
    reconcile,
  };
}
