// What the add-on e2e files share: the set-up of one add-on controller against the real hub and
// spoke1 (the spoke grants, a rig with a served and a dark cluster, waiting for the
// ClusterManagementAddOn, creating the ManagedClusters), reading one add-on's objects on the hub,
// waiting for a cluster's Available condition and its feature label, and the clean-up.
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, inject, onTestFinished } from 'vitest';

import {
  ADDON_GROUP,
  CLUSTER_GROUP,
  type ClusterManagementAddOn,
  type ManagedCluster,
  type ManagedClusterAddOn,
} from '../../hub/api/index.ts';
import type {
  AddOnController,
  AddOnControllerOptions,
} from '../../hub/controllers/cluster-proxy-addon/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually } from '../framework/kubectl.ts';
import type { RigCluster, TunnelRig } from '../framework/tunnel-rig.ts';
import {
  controllerRig,
  failOnReconcileErrors,
  grantSpoke,
  type SpokeGrants,
} from './controller-rig.ts';

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

/** What an add-on e2e file names: its add-on, its two clusters and its controller. */
export interface AddOnScenarioOptions {
  /** The add-on, e.g. `cluster-proxy`: the name of its ClusterManagementAddOn. */
  readonly addOn: string;
  /** The cluster whose agent serves the agent API. */
  readonly served: string;
  /** The cluster whose agent is connected but serves no agent API. */
  readonly dark: string;
  /** How the names of the spoke grants end (see `grantSpoke`). */
  readonly grantsSuffix: string;
  /** The controller under test, e.g. `createClusterProxyAddOnController`. */
  readonly createController: (
    options: Omit<AddOnControllerOptions, 'definition'>,
  ) => AddOnController;
}

/** The add-on controller running in a test, and the ClusterManagementAddOn it put on the hub. */
export interface StartedAddOn {
  /** The rig with an agent per cluster; its proxy-server is the controller's. */
  readonly rig: TunnelRig;
  /** The served cluster as the rig knows it, to start an agent for it again. */
  readonly served: RigCluster;
  readonly controller: AddOnController;
  readonly cma: ClusterManagementAddOn;
}

/**
 * Registers the file's `beforeAll` (the spoke grants on spoke1) and `afterAll` (the grants, both
 * clusters and the ClusterManagementAddOn). Both clusters stand on spoke1's API server. Call
 * once at module level.
 */
export function addOnScenario(options: AddOnScenarioOptions) {
  const hubPlane = inject('hub');
  const spokePlane = inject('spoke1');
  const hub = new KubeConfig();
  hub.loadFromFile(hubPlane.kubeconfigPath);
  const objects = hub.makeApiClient(CustomObjectsApi);
  const probe = addOnProbe(hub, options.addOn);
  let grants: SpokeGrants | undefined;

  beforeAll(async () => {
    grants = await grantSpoke(spokePlane, options.grantsSuffix);
  });

  afterAll(async () => {
    await grants?.remove();
    await probe.remove([options.served, options.dark]);
  });

  return {
    probe,

    /**
     * Starts a rig with an agent for each cluster and the controller (stopped after the test);
     * resolves once the hub has the add-on's ClusterManagementAddOn.
     */
    async start(): Promise<StartedAddOn> {
      if (grants === undefined) throw new Error('beforeAll did not prepare the spoke');
      const kubeApiserver = new URL(spokePlane.server).host;
      const served = { name: options.served, kubeApiserver, agentApi: grants.agentApi };
      const rig = await controllerRig(hubPlane, [served, { name: options.dark, kubeApiserver }]);
      const controller = options.createController({
        hub,
        server: rig.server,
        spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
        // New clusters are found by the ManagedCluster watch; no resync during the test.
        intervalMs: 3_600_000,
        onError: failOnReconcileErrors(),
      });
      controller.start();
      onTestFinished(() => controller.stop());

      const cma = await eventually(
        `the ClusterManagementAddOn ${options.addOn}`,
        async () =>
          (await objects
            .getClusterCustomObject({ ...CMA, name: options.addOn })
            .catch(() => undefined)) as ClusterManagementAddOn | undefined,
        15_000,
        100,
      );
      return { rig, served, controller, cma };
    },

    /** Creates both ManagedClusters, accepted by the hub. */
    async createClusters(): Promise<void> {
      for (const name of [options.served, options.dark]) {
        await objects.createClusterCustomObject({
          ...MC,
          body: {
            apiVersion: `${CLUSTER_GROUP}/v1`,
            kind: 'ManagedCluster',
            metadata: { name },
            spec: { hubAcceptsClient: true },
          },
        });
      }
    },
  };
}
