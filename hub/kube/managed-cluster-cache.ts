/**
 * One cache of the hub's ManagedClusters for every cluster controller of a hub process: one
 * list-and-watch instead of one per controller, and reads from memory instead of a GET per
 * reconcile and a list per resync. With a thousand clusters and seven cluster controllers that
 * is most of the hub API server's load from this process (and most of the JSON it parses).
 *
 * Reads: `store.get(name)` answers from the cache once it has synced; before that, for a name
 * the cache does not hold, and for the first read after this store's status write lost to a
 * conflict (the cache may still hold the older object), it asks the API server. `store.list()`
 * is the cache once synced. Writes always go to the API server; the cache sees them through
 * the watch a moment later, so a controller that compares with the cached object may write once
 * more than needed and get a conflict, which makes its next read a live one. Labels written
 * through `store.patchLabels` show in `store.get` at once, until the cache shows them (or 10 s
 * have passed: {@link createLabelOverlay}), so a controller that sets a label does not set it
 * again at every reconcile while the watch lags.
 *
 * `watch` is a `ClusterReconcilerOptions['watch']`: it reports a name when a cluster appears, is
 * deleted, or its spec changes (`metadata.generation`), never for status or label writes, as
 * {@link watchManagedClusters} does. Subscribers added after the cache synced are not told about
 * the clusters it already holds (a reconciler lists them when it starts).
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

import { CLUSTER_GROUP, type ManagedCluster } from '../api/index.ts';
import { startReadThroughCache } from './informer.ts';
import { createLabelOverlay } from './label-overlay.ts';
import { kubeManagedClusterStore, type ManagedClusterStore } from './managed-cluster-store.ts';
import { onSpecChange, type ClusterWatch } from './managed-cluster-watch.ts';

/** Options of {@link startManagedClusterCache}. */
export interface ManagedClusterCacheOptions {
  /** A list or watch failed; it restarts after `restartDelayMs`. */
  readonly onError?: (err: unknown) => void;
  readonly restartDelayMs?: number;
  /** The API-backed store for writes and live reads; default on `hub`. */
  readonly live?: ManagedClusterStore;
}

/** A running cache; `stop()` is idempotent. */
export interface ManagedClusterCache {
  /** Resolves once the first list has filled the cache (never rejects). */
  readonly synced: Promise<void>;
  readonly store: ManagedClusterStore;
  readonly watch: (
    onChange: (name: string) => void,
    onError: (err: unknown) => void,
  ) => ClusterWatch;
  stop(): Promise<void>;
}

interface Subscriber {
  readonly onChange: (name: string) => void;
  readonly onError: (err: unknown) => void;
}

export function startManagedClusterCache(
  hub: KubeConfig,
  options: ManagedClusterCacheOptions = {},
): ManagedClusterCache {
  const live = options.live ?? kubeManagedClusterStore(hub);
  const subscribers = new Set<Subscriber>();
  const cache = startReadThroughCache<KubernetesObject>(
    hub,
    { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' },
    {
      onChange: onSpecChange((name) => {
        for (const s of subscribers) s.onChange(name);
      }),
      onError: (err) => {
        options.onError?.(err);
        for (const s of subscribers) s.onError(err);
      },
      ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
    },
  );
  // ManagedCluster's generated type differs from client-node's KubernetesObject only in how
  // creationTimestamp is typed (string vs Date); the cache holds the JSON objects as served.
  const asCluster = (o: KubernetesObject | undefined) => o as unknown as ManagedCluster | undefined;
  const labelsWritten = createLabelOverlay();

  const store: ManagedClusterStore = {
    async list() {
      const cached = cache.list();
      return cached === undefined ? live.list() : cached.map((o) => asCluster(o) as ManagedCluster);
    },
    async get(name) {
      const read = asCluster(
        await cache.read(
          name,
          undefined,
          async () => (await live.get(name)) as unknown as KubernetesObject | undefined,
        ),
      );
      return labelsWritten.apply(name, read);
    },
    async replaceStatus(cluster) {
      const written = await live.replaceStatus(cluster);
      if (!written && cluster.metadata?.name !== undefined) cache.invalidate(cluster.metadata.name);
      return written;
    },
    async patchLabels(name, labels) {
      const done = await live.patchLabels(name, labels);
      if (done) labelsWritten.record(name, labels);
      return done;
    },
  };

  return {
    synced: cache.synced,
    store,
    watch(onChange, onError) {
      const subscriber: Subscriber = { onChange, onError };
      subscribers.add(subscriber);
      return {
        async stop() {
          subscribers.delete(subscriber);
        },
      };
    },
    async stop() {
      subscribers.clear();
      await cache.stop();
    },
  };
}
