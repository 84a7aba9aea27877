import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import { CLUSTER_GROUP, type ManagedCluster } from '../api/index.ts';
import { apiStatus } from './install-crds.ts';

const VERSION = 'v1';
const PLURAL = 'managedclusters';

/**
 * The ManagedClusters of a hub, as the controllers and the CLI read and write them. Stateless:
 * every call is one API request; safe to use concurrently.
 */
export interface ManagedClusterStore {
  list(): Promise<ManagedCluster[]>;
  /** The cluster, or undefined when it does not exist. */
  get(name: string): Promise<ManagedCluster | undefined>;
  /**
   * Writes `cluster.status` through the status subresource, guarded by
   * `metadata.resourceVersion`. Resolves false on a conflict (someone wrote in between).
   */
  replaceStatus(cluster: ManagedCluster): Promise<boolean>;
  /**
   * Sets (string) or removes (null) labels of cluster `name` with a JSON merge patch, leaving
   * every other label alone. Resolves false when the cluster does not exist.
   */
  patchLabels(name: string, labels: Readonly<Record<string, string | null>>): Promise<boolean>;
}

/** A {@link ManagedClusterStore} on the hub API server of `kubeConfig`. */
export function kubeManagedClusterStore(kubeConfig: KubeConfig): ManagedClusterStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const kind = { group: CLUSTER_GROUP, version: VERSION, plural: PLURAL };
  return {
    async list() {
      const res = (await api.listClusterCustomObject(kind)) as { items?: ManagedCluster[] };
      return res.items ?? [];
    },
    async get(name) {
      try {
        return (await api.getClusterCustomObject({ ...kind, name })) as ManagedCluster;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async replaceStatus(cluster) {
      try {
        await api.replaceClusterCustomObjectStatus({
          ...kind,
          name: cluster.metadata?.name ?? '',
          body: cluster,
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return false;
        throw err;
      }
    },
    async patchLabels(name, labels) {
      try {
        await api.patchClusterCustomObject(
          { ...kind, name, body: { metadata: { labels } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return false;
        throw err;
      }
    },
  };
}
