import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

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
}

/** A {@link ManagedClusterStore} on the hub API server of `kubeConfig`. */
export function kubeManagedClusterStore(kubeConfig: KubeConfig): ManagedClusterStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    async list() {
      const res = (await api.listClusterCustomObject({
        group: CLUSTER_GROUP,
        version: VERSION,
        plural: PLURAL,
      })) as { items?: ManagedCluster[] };
      return res.items ?? [];
    },
    async get(name) {
      try {
        return (await api.getClusterCustomObject({
          group: CLUSTER_GROUP,
          version: VERSION,
          plural: PLURAL,
          name,
        })) as ManagedCluster;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async replaceStatus(cluster) {
      try {
        await api.replaceClusterCustomObjectStatus({
          group: CLUSTER_GROUP,
          version: VERSION,
          plural: PLURAL,
          name: cluster.metadata?.name ?? '',
          body: cluster,
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return false;
        throw err;
      }
    },
  };
}
