/**
 * One cache of the hub's ManagedClusterAddOns (every namespace) for all the add-on controllers of
 * a hub process: each add-on reconcile reads its ManagedClusterAddOn from memory instead of a
 * GET (six add-ons on a thousand clusters every minute are otherwise a hundred GETs a second).
 *
 * `store` is an {@link AddOnStore}: `getManagedClusterAddOn` answers from the cache once it has
 * synced and holds the add-on; otherwise, and for the first read after a status write of this
 * store lost to a conflict, it asks the API server. Creates and writes go to the API server.
 * Objects read from the cache are shared: callers must not change them.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

import { ADDON_GROUP, type ManagedClusterAddOn } from '../../api/index.ts';
import { startReadThroughCache } from '../../kube/index.ts';
import { kubeAddOnStore, type AddOnStore } from './addon-store.ts';

/** A running cache; `stop()` is idempotent. */
export interface AddOnCache {
  /** Resolves once the first list has filled the cache (never rejects). */
  readonly synced: Promise<void>;
  readonly store: AddOnStore;
  stop(): Promise<void>;
}

export function startAddOnCache(
  hub: KubeConfig,
  options: {
    readonly onError?: (err: unknown) => void;
    readonly restartDelayMs?: number;
    /** The API-backed store for writes and live reads; default on `hub`. */
    readonly live?: AddOnStore;
  } = {},
): AddOnCache {
  const live = options.live ?? kubeAddOnStore(hub);
  const cache = startReadThroughCache<KubernetesObject>(
    hub,
    { group: ADDON_GROUP, version: 'v1alpha1', plural: 'managedclusteraddons' },
    {
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
    },
  );
  const store: AddOnStore = {
    ensureClusterManagementAddOn: (addon) => live.ensureClusterManagementAddOn(addon),
    async getManagedClusterAddOn(cluster, name) {
      return (await cache.read(
        name,
        cluster,
        async () =>
          (await live.getManagedClusterAddOn(cluster, name)) as unknown as
            KubernetesObject | undefined,
      )) as unknown as ManagedClusterAddOn | undefined;
    },
    createManagedClusterAddOn: (addon) => live.createManagedClusterAddOn(addon),
    async replaceManagedClusterAddOnStatus(addon) {
      const written = await live.replaceManagedClusterAddOnStatus(addon);
      if (!written) cache.invalidate(addon.metadata?.name ?? '', addon.metadata?.namespace);
      return written;
    },
  };
  return { synced: cache.synced, store, stop: () => cache.stop() };
}
