// What the ManifestWork e2e tests share: a ManagedCluster and its namespace on the real hub, the
// spoke grants, a tunnel rig with the work controller, kubectl on both sides, and waiting for a
// work's status. Everything the kit made is removed by `cleanup()`.
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { expect, onTestFinished } from 'vitest';
import { stringify } from 'yaml';

import {
  CLUSTER_GROUP,
  WORK_GROUP,
  type Condition,
  type ManifestWork,
} from '../../hub/api/index.ts';
import {
  appliedWorkName,
  createManifestWorkController,
  hubHashOf,
  MANIFEST_WORK_POLICY_NAME,
} from '../../hub/controllers/manifest-work/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl, type KubectlResult } from '../framework/kubectl.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';
import type { RigCluster, TunnelRig } from '../framework/tunnel-rig.ts';
import {
  controllerRig,
  failOnReconcileErrors,
  grantSpoke,
  type SpokeGrants,
} from './controller-rig.ts';

const MW = { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' };
const AMW = { group: WORK_GROUP, version: 'v1', plural: 'appliedmanifestworks' };
const MC = { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' };

function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** A ConfigMap manifest. */
export function configMap(name: string, namespace: string, data: Record<string, unknown>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

/** A ManifestWork named `name` (its namespace comes from kubectl's `-n`). */
export function manifestWork(name: string, spec: Record<string, unknown>) {
  return { apiVersion: `${WORK_GROUP}/v1`, kind: 'ManifestWork', metadata: { name }, spec };
}

/** `status.conditions[type]` of a work's (or a manifest's) status. */
export function conditionOf(
  status: { readonly conditions?: readonly Condition[] } | undefined,
  type: string,
): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Whether the work's condition `type` has `status` (and `reason`). */
export function isCondition(work: ManifestWork, type: string, status: string, reason?: string) {
  const c = conditionOf(work.status, type);
  return c?.status === status && (reason === undefined || c.reason === reason);
}

/** A running delivery: the tunnel rig (to stop and add agents) and the rig's cluster. */
export interface Delivery {
  readonly rig: TunnelRig;
  readonly rigCluster: RigCluster;
}

/** The kit for one test file: `cluster` on the hub, `spokeNamespaces` made on the spoke. */
export function workKit(options: {
  hubPlane: SharedControlPlane;
  spokePlane: SharedControlPlane;
  cluster: string;
  /** Made by `prepare()`; deleted by `cleanup()` with `alsoDelete`. */
  spokeNamespaces: string[];
  /** More spoke objects `cleanup()` deletes, as kubectl arguments (e.g. `['crd', name]`). */
  alsoDelete?: string[][];
}) {
  const { hubPlane, spokePlane, cluster } = options;
  const hub = kubeConfig(hubPlane.kubeconfigPath);
  const spoke = kubeConfig(spokePlane.kubeconfigPath);
  const hubObjects = hub.makeApiClient(CustomObjectsApi);
  const spokeObjects = spoke.makeApiClient(CustomObjectsApi);
  const hubHash = hubHashOf(hub.getCurrentCluster()?.server ?? '');
  let grants: SpokeGrants | undefined;

  const run = (plane: SharedControlPlane) => (args: string[], input?: string) =>
    kubectl(plane.binaries.kubectl, args, {
      kubeconfig: plane.kubeconfigPath,
      ...(input === undefined ? {} : { input }),
    });
  const onHub: (args: string[], input?: string) => Promise<KubectlResult> = run(hubPlane);
  const onSpoke: (args: string[], input?: string) => Promise<KubectlResult> = run(spokePlane);

  const getWork = async (name: string): Promise<ManifestWork | undefined> =>
    (await hubObjects
      .getNamespacedCustomObject({ ...MW, namespace: cluster, name })
      .catch(() => undefined)) as ManifestWork | undefined;

  return {
    hub,
    hubHash,
    onHub,
    onSpoke,
    getWork,

    /** The ManagedCluster, its hub namespace, the spoke grants and namespaces. */
    async prepare(): Promise<void> {
      grants = await grantSpoke(spokePlane, cluster);
      await hubObjects.createClusterCustomObject({
        ...MC,
        body: {
          apiVersion: `${CLUSTER_GROUP}/v1`,
          kind: 'ManagedCluster',
          metadata: { name: cluster },
          spec: { hubAcceptsClient: true },
        },
      });
      await hub.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: cluster } } });
      for (const name of options.spokeNamespaces) {
        await spoke.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
      }
    },

    /** Removes what the kit and the tests made, including works a failed test left behind. */
    async cleanup(extraSpokeNamespaces: string[] = []): Promise<void> {
      const left = (await hubObjects
        .listNamespacedCustomObject({ ...MW, namespace: cluster })
        .catch(() => ({ items: [] }))) as { items: ManifestWork[] };
      for (const work of left.items) {
        const name = work.metadata?.name ?? '';
        // Without the controller the finalizer would hold the work.
        const unblock = '{"metadata":{"finalizers":null}}';
        await onHub(['patch', 'manifestwork', name, '-n', cluster, '--type=merge', '-p', unblock]);
        await onHub(['delete', 'manifestwork', name, '-n', cluster, '--wait=false']);
        await spokeObjects
          .deleteClusterCustomObject({ ...AMW, name: appliedWorkName(hubHash, name) })
          .catch(() => undefined);
      }
      await onHub(['delete', 'namespace', cluster, '--ignore-not-found', '--wait=false']);
      await hubObjects.deleteClusterCustomObject({ ...MC, name: cluster }).catch(() => undefined);
      for (const name of [...options.spokeNamespaces, ...extraSpokeNamespaces]) {
        await onSpoke(['delete', 'namespace', name, '--ignore-not-found', '--wait=false']);
      }
      for (const args of options.alsoDelete ?? []) {
        await onSpoke(['delete', ...args, '--ignore-not-found', '--wait=false']);
      }
      // The admission policy the controller installed on the shared hub.
      for (const kind of ['validatingadmissionpolicybinding', 'validatingadmissionpolicy']) {
        await onHub(['delete', kind, MANIFEST_WORK_POLICY_NAME, '--ignore-not-found']);
      }
      await grants?.remove();
    },

    /** A tunnel rig for the cluster and the work controller on it, stopped after the test. */
    async startDelivery(): Promise<Delivery> {
      if (grants === undefined) throw new Error('prepare() did not run');
      const rigCluster = {
        name: cluster,
        kubeApiserver: new URL(spokePlane.server).host,
        agentApi: grants.agentApi,
      };
      const rig = await controllerRig(hubPlane, [rigCluster]);
      const controller = createManifestWorkController({
        hub,
        server: rig.server,
        spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
        onError: failOnReconcileErrors(),
      });
      controller.start();
      onTestFinished(() => controller.stop());
      return { rig, rigCluster };
    },

    /** Applies a ManifestWork in the cluster's namespace with the real kubectl, as YAML. */
    async applyWork(work: Record<string, unknown>): Promise<void> {
      const res = await onHub(['apply', '-n', cluster, '-f', '-'], stringify(work));
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
    },

    /** Resolves the work once `check` holds for it; the error shows its last status. */
    async workWhere(
      name: string,
      what: string,
      check: (work: ManifestWork) => boolean,
      timeoutMs = 30_000,
    ): Promise<ManifestWork> {
      let last: unknown;
      return eventually(
        `${name}: ${what}`,
        async () => {
          const work = await getWork(name);
          last = work?.status;
          return work !== undefined && check(work) ? work : undefined;
        },
        timeoutMs,
        200,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; last status: ${JSON.stringify(last)}`);
      });
    },

    /** `kubectl get … -o json` on the spoke (with managedFields), or undefined when absent. */
    async spokeJson(args: string[]): Promise<Record<string, unknown> | undefined> {
      const res = await onSpoke(['get', ...args, '-o', 'json', '--show-managed-fields']);
      return res.code === 0 ? (JSON.parse(res.stdout) as Record<string, unknown>) : undefined;
    },

    /** Deletes a work and resolves once it is gone (the controller removed its finalizer). */
    async deleteWork(name: string): Promise<void> {
      await onHub(['delete', 'manifestwork', name, '-n', cluster, '--wait=false']);
      await eventually(
        `${name} to be gone`,
        async () => ((await getWork(name)) === undefined ? true : undefined),
        60_000,
        200,
      );
    },
  };
}
