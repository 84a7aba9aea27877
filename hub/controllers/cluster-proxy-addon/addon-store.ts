import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

import {
  ADDON_GROUP,
  type ClusterManagementAddOn,
  type ManagedClusterAddOn,
} from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';

const VERSION = 'v1alpha1';
const CMA = { group: ADDON_GROUP, version: VERSION, plural: 'clustermanagementaddons' };
const MCA = { group: ADDON_GROUP, version: VERSION, plural: 'managedclusteraddons' };

/**
 * The add-on objects on the hub, as the add-on controllers (cluster proxy, work) read and write them.
 * Stateless: every call is one or two API requests; safe to use concurrently.
 */
export interface AddOnStore {
  /** Creates `addon` unless one of its name exists; resolves the object as stored. */
  ensureClusterManagementAddOn(addon: ClusterManagementAddOn): Promise<ClusterManagementAddOn>;
  /** The ManagedClusterAddOn `name` in namespace `cluster`, or undefined. */
  getManagedClusterAddOn(cluster: string, name: string): Promise<ManagedClusterAddOn | undefined>;
  /**
   * Creates `addon` in its namespace (the cluster's), creating the namespace first when it is
   * missing; an existing add-on or namespace is no error. Resolves the add-on as stored.
   */
  createManagedClusterAddOn(addon: ManagedClusterAddOn): Promise<ManagedClusterAddOn>;
  /** Writes `addon.status` (status subresource, resourceVersion guard); false on a conflict. */
  replaceManagedClusterAddOnStatus(addon: ManagedClusterAddOn): Promise<boolean>;
}

/** An {@link AddOnStore} on the hub API server of `kubeConfig`. */
export function kubeAddOnStore(kubeConfig: KubeConfig): AddOnStore {
  const objects = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const get = async (cluster: string, name: string) => {
    try {
      return (await objects.getNamespacedCustomObject({
        ...MCA,
        namespace: cluster,
        name,
      })) as ManagedClusterAddOn;
    } catch (err: unknown) {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    }
  };
  return {
    async ensureClusterManagementAddOn(addon) {
      const name = addon.metadata?.name ?? '';
      try {
        return (await objects.getClusterCustomObject({ ...CMA, name })) as ClusterManagementAddOn;
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw err;
      }
      try {
        return (await objects.createClusterCustomObject({
          ...CMA,
          body: addon,
        })) as ClusterManagementAddOn;
      } catch (err: unknown) {
        if (apiStatus(err) !== 409) throw err;
        return (await objects.getClusterCustomObject({ ...CMA, name })) as ClusterManagementAddOn;
      }
    },
    getManagedClusterAddOn: get,
    async createManagedClusterAddOn(addon) {
      const namespace = addon.metadata?.namespace ?? '';
      const name = addon.metadata?.name ?? '';
      const create = async () =>
        (await objects.createNamespacedCustomObject({
          ...MCA,
          namespace,
          body: addon,
        })) as ManagedClusterAddOn;
      try {
        return await create();
      } catch (err: unknown) {
        const code = apiStatus(err);
        if (code === 409) return (await get(namespace, name)) ?? addon;
        if (code !== 404) throw err;
      }
      // The cluster namespace is missing (registration creates it too): make it, then again.
      try {
        await core.createNamespace({ body: { metadata: { name: namespace } } });
      } catch (err: unknown) {
        if (apiStatus(err) !== 409) throw err;
      }
      try {
        return await create();
      } catch (err: unknown) {
        if (apiStatus(err) !== 409) throw err;
        return (await get(namespace, name)) ?? addon;
      }
    },
    async replaceManagedClusterAddOnStatus(addon) {
      try {
        await objects.replaceNamespacedCustomObjectStatus({
          ...MCA,
          namespace: addon.metadata?.namespace ?? '',
          name: addon.metadata?.name ?? '',
          body: addon,
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return false;
        throw err;
      }
    },
  };
}
