/**
 * Watched caches of the OCM kinds the cluster-set and placement controllers read, each a
 * `startInformer` (hub/kube) on the hub API server across all namespaces. The controllers read
 * only these caches and write through their stores, so a reconcile costs no API reads.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import { CLUSTER_GROUP } from '../../api/index.ts';
import { startInformer } from '../../kube/index.ts';

/** The kinds a cache can hold: version and plural in `cluster.open-cluster-management.io`. */
export const CACHED_KINDS = {
  ManagedCluster: { version: 'v1', plural: 'managedclusters', namespaced: false },
  ManagedClusterSet: { version: 'v1beta2', plural: 'managedclustersets', namespaced: false },
  ManagedClusterSetBinding: {
    version: 'v1beta2',
    plural: 'managedclustersetbindings',
    namespaced: true,
  },
  Placement: { version: 'v1beta1', plural: 'placements', namespaced: true },
  PlacementDecision: { version: 'v1beta1', plural: 'placementdecisions', namespaced: true },
} as const;
export type CachedKind = keyof typeof CACHED_KINDS;

/**
 * A running cache of one kind, the same contract as hub/kube's `RunningInformer`: `synced`
 * resolves once a first list filled it (never rejects; restarts after errors), `stop()` is
 * idempotent. Objects are as served (do not change them).
 */
export interface HubCache<T> {
  readonly synced: Promise<void>;
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  stop(): Promise<void>;
}

/** What a cache reports: adds (the first list's too), updates and deletes, in server order. */
export interface CacheHandlers<T> {
  readonly onChange: (object: T, isDeleted: boolean) => void;
  readonly onError?: (err: unknown) => void;
  /** Only objects with this label selector (e.g. PlacementDecisions with a placement label). */
  readonly labelSelector?: string;
}

/** Starts a cache of `kind`; the seam unit tests replace with in-memory caches. */
export type StartCache = <T>(kind: CachedKind, handlers: CacheHandlers<T>) => HubCache<T>;

/** A {@link StartCache} that list-watches the hub API server of `hub`. */
export function kubeCaches(hub: KubeConfig): StartCache {
  const api = hub.makeApiClient(CustomObjectsApi);
  return <T>(kind: CachedKind, handlers: CacheHandlers<T>): HubCache<T> => {
    const { version, plural, namespaced } = CACHED_KINDS[kind];
    const labelSelector = handlers.labelSelector;
    const list = async () =>
      (namespaced
        ? await api.listCustomObjectForAllNamespaces({
            group: CLUSTER_GROUP,
            version,
            resourcePlural: plural,
            ...(labelSelector === undefined ? {} : { labelSelector }),
          })
        : await api.listClusterCustomObject({
            group: CLUSTER_GROUP,
            version,
            plural,
            ...(labelSelector === undefined ? {} : { labelSelector }),
          })) as KubernetesListObject<KubernetesObject>;
    // The OCM types differ from client-node's KubernetesObject only in how creationTimestamp is
    // typed (string vs Date); the cache holds the JSON objects as served.
    const informer = startInformer<KubernetesObject>({
      kubeConfig: hub,
      path: `/apis/${CLUSTER_GROUP}/${version}/${plural}`,
      list,
      ...(labelSelector === undefined ? {} : { labelSelector }),
      onChange: (object, isDeleted) => handlers.onChange(object as T, isDeleted),
      ...(handlers.onError === undefined ? {} : { onError: handlers.onError }),
    });
    return {
      synced: informer.synced,
      list: () => informer.list() as unknown as readonly T[],
      get: (name, namespace) => informer.get(name, namespace) as T | undefined,
      stop: () => informer.stop(),
    };
  };
}
