/**
 * The writes of the cluster-set controller on the hub API server (its reads come from watched
 * caches). Stateless: every call is one API request; safe to use concurrently.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import {
  CLUSTER_GROUP,
  type ManagedCluster,
  type ManagedClusterSet,
  type ManagedClusterSetBindingStatus,
  type ManagedClusterSetStatus,
  type Taint,
} from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';

const SETS = { group: CLUSTER_GROUP, version: 'v1beta2', plural: 'managedclustersets' };
const BINDINGS = { group: CLUSTER_GROUP, version: 'v1beta2', plural: 'managedclustersetbindings' };
const CLUSTERS = { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' };
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** A change to one ManagedCluster: labels to set, and the whole new taint list. */
export interface ClusterChange {
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
}

/** See the module comment. NotFound on a write is success (the object is gone). */
export interface ClusterSetStore {
  /** Creates `set`; one that exists already is no error. */
  createClusterSet(set: ManagedClusterSet): Promise<void>;
  getClusterSet(name: string): Promise<ManagedClusterSet | undefined>;
  /** Replaces `set` (guarded by its resourceVersion); false on a conflict. */
  replaceClusterSet(set: ManagedClusterSet): Promise<boolean>;
  /** Writes the set's whole status (merge patch of the status subresource). */
  patchClusterSetStatus(name: string, status: ManagedClusterSetStatus): Promise<void>;
  /** Writes the binding's whole status (merge patch of the status subresource). */
  patchBindingStatus(
    namespace: string,
    name: string,
    status: ManagedClusterSetBindingStatus,
  ): Promise<void>;
  getCluster(name: string): Promise<ManagedCluster | undefined>;
  /**
   * Sets labels and/or replaces `spec.taints` of cluster `name` in one merge patch guarded by
   * `resourceVersion`; false on a conflict (someone wrote in between).
   */
  patchCluster(name: string, resourceVersion: string, change: ClusterChange): Promise<boolean>;
}

async function ignoreNotFound(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (err: unknown) {
    if (apiStatus(err) !== 404) throw err;
  }
}

async function getOrUndefined<T>(read: Promise<unknown>): Promise<T | undefined> {
  try {
    return (await read) as T;
  } catch (err: unknown) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

/** A {@link ClusterSetStore} on the hub API server of `kubeConfig`. */
export function kubeClusterSetStore(kubeConfig: KubeConfig): ClusterSetStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    async createClusterSet(set) {
      try {
        await api.createClusterCustomObject({ ...SETS, body: set });
      } catch (err: unknown) {
        if (apiStatus(err) !== 409) throw err;
      }
    },
    getClusterSet: (name) => getOrUndefined(api.getClusterCustomObject({ ...SETS, name })),
    async replaceClusterSet(set) {
      try {
        await api.replaceClusterCustomObject({
          ...SETS,
          name: set.metadata?.name ?? '',
          body: set,
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return false;
        if (apiStatus(err) === 404) return true;
        throw err;
      }
    },
    patchClusterSetStatus: (name, status) =>
      ignoreNotFound(
        api.patchClusterCustomObjectStatus({ ...SETS, name, body: { status } }, MERGE_PATCH),
      ),
    patchBindingStatus: (namespace, name, status) =>
      ignoreNotFound(
        api.patchNamespacedCustomObjectStatus(
          { ...BINDINGS, namespace, name, body: { status } },
          MERGE_PATCH,
        ),
      ),
    getCluster: (name) => getOrUndefined(api.getClusterCustomObject({ ...CLUSTERS, name })),
    async patchCluster(name, resourceVersion, change) {
      const body = {
        metadata: {
          resourceVersion,
          ...(change.labels === undefined ? {} : { labels: change.labels }),
        },
        ...(change.taints === undefined ? {} : { spec: { taints: change.taints } }),
      };
      try {
        await api.patchClusterCustomObject({ ...CLUSTERS, name, body }, MERGE_PATCH);
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return false;
        if (apiStatus(err) === 404) return true;
        throw err;
      }
    },
  };
}
