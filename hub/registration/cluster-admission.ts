/**
 * Which clusters' agents the proxy-server admits: a watched cache of the hub's ManagedClusters.
 * An agent is admitted while its ManagedCluster exists and has `spec.hubAcceptsClient: true`.
 * When a cluster is denied (hubAcceptsClient turns false) or deleted, `onRevoked` is called so
 * the proxy-server can end that cluster's tunnels at once. Runs on every hub replica (the
 * proxy-server runs on all), unlike the leader-elected controllers.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

import { CLUSTER_GROUP, type ManagedCluster } from '../api/index.ts';
import { type RunningInformer, startCustomInformer } from '../kube/index.ts';

/** Options of {@link startClusterAdmission}. */
export interface ClusterAdmissionOptions {
  readonly hub: KubeConfig;
  /** A cluster lost its admission (denied or deleted); `reason` is a sentence for logs. */
  readonly onRevoked?: (cluster: string, reason: string) => void;
  /** A ManagedCluster was added or changed (also called for the initial list). */
  readonly onChange?: (cluster: ManagedCluster, isDeleted: boolean) => void;
  readonly onError?: (err: unknown) => void;
}

/** The running cache; `stop()` is idempotent. */
export interface ClusterAdmission {
  /** Throws an Error that says why when `cluster` may not connect. For ProxyServer's admitAgent. */
  admit(identity: { readonly cluster: string }): void;
  /** The cached ManagedCluster, or undefined. */
  get(cluster: string): ManagedCluster | undefined;
  list(): ManagedCluster[];
  isAccepted(cluster: string): boolean;
  stop(): Promise<void>;
}

/** Starts the cache; resolves once it holds the current ManagedClusters. */
export async function startClusterAdmission(
  options: ClusterAdmissionOptions,
): Promise<ClusterAdmission> {
  const accepted = new Set<string>();
  // ManagedCluster's generated type differs from client-node's KubernetesObject only in how
  // creationTimestamp is typed (string vs Date); the cache holds the JSON objects as served.
  const informer: RunningInformer<KubernetesObject> = startCustomInformer<KubernetesObject>(
    options.hub,
    { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' },
    {
      onChange: (object, isDeleted) => {
        const cluster = object as unknown as ManagedCluster;
        const name = cluster.metadata?.name ?? '';
        const isAccepted = !isDeleted && cluster.spec?.hubAcceptsClient === true;
        const wasAccepted = accepted.has(name);
        if (isAccepted) accepted.add(name);
        else accepted.delete(name);
        if (wasAccepted && !isAccepted) {
          options.onRevoked?.(
            name,
            isDeleted
              ? `ManagedCluster ${name} was deleted`
              : `ManagedCluster ${name} is no longer accepted by the hub`,
          );
        }
        options.onChange?.(cluster, isDeleted);
      },
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    },
  );
  await informer.synced;
  const get = (name: string): ManagedCluster | undefined =>
    informer.get(name) as unknown as ManagedCluster | undefined;
  return {
    admit({ cluster }) {
      const object = get(cluster);
      if (object === undefined) {
        throw new Error(`there is no ManagedCluster "${cluster}" on the hub (join it first)`);
      }
      if (object.spec?.hubAcceptsClient !== true) {
        throw new Error(
          `ManagedCluster "${cluster}" is not accepted by the hub (\`spokelink accept ${cluster}\`)`,
        );
      }
    },
    get,
    list: () => informer.list() as unknown as ManagedCluster[],
    isAccepted: (cluster) => get(cluster)?.spec?.hubAcceptsClient === true,
    stop: () => informer.stop(),
  };
}
