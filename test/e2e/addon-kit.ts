// What the add-on e2e files share: reading one add-on's objects on the real hub, waiting for a
// cluster's Available condition, the cluster's feature label, and the clean-up.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

import {
  ADDON_GROUP,
  CLUSTER_GROUP,
  type ManagedCluster,
  type ManagedClusterAddOn,
} from '../../hub/api/index.ts';
import { eventually } from '../framework/kubectl.ts';

export const MCA = { group: ADDON_GROUP, version: 'v1alpha1', plural: 'managedclusteraddons' };
export const CMA = { group: ADDON_GROUP, version: 'v1alpha1', plural: 'clustermanagementaddons' };
export const MC = { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' };

/** Reads of the add-on `name` (e.g. `cluster-proxy`) on the hub of `hub`. */
export function addOnProbe(hub: KubeConfig, name: string) {
  const objects = hub.makeApiClient(CustomObjectsApi);
  const core = hub.makeApiClient(CoreV1Api);
  const feature = `feature.open-cluster-management.io/addon-${name}`;

  async function addOn(cluster: string): Promise<ManagedClusterAddOn | undefined> {
    return (await objects
      .getNamespacedCustomObject({ ...MCA, namespace: cluster, name })
      .catch(() => undefined)) as ManagedClusterAddOn | undefined;
  }

  return {
    addOn,
    /** Resolves with the add-on once its Available condition has `status` and `reason`. */
    availableBecomes(cluster: string, status: string, reason: string, timeoutMs = 15_000) {
      let last: unknown;
      return eventually(
        `${cluster}'s ${name} add-on Available=${status}/${reason}`,
        async () => {
          const addon = await addOn(cluster);
          last = addon?.status;
          const available = addon?.status?.conditions?.find((c) => c.type === 'Available');
          return available?.status === status && available.reason === reason ? addon : undefined;
        },
        timeoutMs,
        100,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; last status: ${JSON.stringify(last)}`);
      });
    },
    /**
     * Resolves once the cluster's `feature.open-cluster-management.io/addon-<name>` label is
     * `value` (the controller writes it just after the add-on's status, so not at the same time).
     */
    featureLabelBecomes(cluster: string, value: string, timeoutMs = 10_000): Promise<string> {
      let last: string | undefined;
      return eventually(
        `${cluster}'s label ${feature}=${value}`,
        async () => {
          const mc = (await objects.getClusterCustomObject({
            ...MC,
            name: cluster,
          })) as ManagedCluster;
          last = mc.metadata?.labels?.[feature];
          return last === value ? last : undefined;
        },
        timeoutMs,
        100,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; last: ${String(last)}`);
      });
    },
    /** Deletes the clusters, their namespaces and the ClusterManagementAddOn. */
    async remove(clusters: readonly string[]): Promise<void> {
      for (const cluster of clusters) {
        await objects.deleteClusterCustomObject({ ...MC, name: cluster }).catch(() => undefined);
        await core.deleteNamespace({ name: cluster }).catch(() => undefined);
      }
      await objects.deleteClusterCustomObject({ ...CMA, name }).catch(() => undefined);
    },
  };
}
