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
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import { ADDON_GROUP, type ManagedClusterAddOn } from '../../api/index.ts';
import { startInformer } from '../../kube/index.ts';
import { kubeAddOnStore, type AddOnStore } from './addon-store.ts';

const PATH = `/apis/${ADDON_GROUP}/v1alpha1/managedclusteraddons`;

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
  const api = hub.makeApiClient(CustomObjectsApi);
  /** `namespace/name` whose next read must be live. */
  const stale = new Set<string>();
  let isSynced = false;
  const informer = startInformer<KubernetesObject>({
    kubeConfig: hub,
    path: PATH,
    list: async () =>
      (await api.listClusterCustomObject({
        group: ADDON_GROUP,
        version: 'v1alpha1',
        plural: 'managedclusteraddons',
      })) as KubernetesListObject<KubernetesObject>,
    onChange: () => undefined,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
  });
  const synced = informer.synced.then(() => {
    isSynced = true;
  });
  const store: AddOnStore = {
    ensureClusterManagementAddOn: (addon) => live.ensureClusterManagementAddOn(addon),
    async getManagedClusterAddOn(cluster, name) {
      if (isSynced && !stale.delete(`${cluster}/${name}`)) {
        const cached = informer.get(name, cluster) as ManagedClusterAddOn | undefined;
        if (cached !== undefined) return cached;
      }
      return live.getManagedClusterAddOn(cluster, name);
    },
    createManagedClusterAddOn: (addon) => live.createManagedClusterAddOn(addon),
    async replaceManagedClusterAddOnStatus(addon) {
      const written = await live.replaceManagedClusterAddOnStatus(addon);
      if (!written) stale.add(`${addon.metadata?.namespace ?? ''}/${addon.metadata?.name ?? ''}`);
      return written;
    },
  };
  return {
    synced,
    store,
    stop: () => informer.stop(),
  };
}
