import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import { CLUSTER_GROUP } from '../api/index.ts';
import { WATCH_RESTART_DELAY_MS, startInformer } from './informer.ts';

export { WATCH_RESTART_DELAY_MS };
const PATH = `/apis/${CLUSTER_GROUP}/v1/managedclusters`;

/** A running watch; `stop()` is idempotent and resolves once the watch request is aborted. */
export interface ClusterWatch {
  stop(): Promise<void>;
}

/** Handlers of {@link watchManagedClusters}. */
export interface ClusterWatchHandlers {
  /**
   * A cluster appeared (including those the first list finds), its spec changed
   * (`metadata.generation`), or it was deleted. Status and label writes are not reported: the
   * controllers write those themselves.
   */
  readonly onChange: (name: string) => void;
  /** A list or watch failed; the watch restarts after {@link WATCH_RESTART_DELAY_MS}. */
  readonly onError?: (err: unknown) => void;
}

/**
 * An informer `onChange` that calls `onChange(name)` for a cluster that is new, deleted, or
 * whose spec changed (`metadata.generation`), and stays quiet for status and label writes.
 */
export function onSpecChange(
  onChange: (name: string) => void,
): (cluster: KubernetesObject, isDeleted: boolean) => void {
  const generations = new Map<string, number | undefined>();
  return (cluster, isDeleted) => {
    const name = cluster.metadata?.name;
    if (name === undefined) return;
    const generation = cluster.metadata?.generation;
    const hasChanged = !generations.has(name) || isDeleted || generations.get(name) !== generation;
    if (isDeleted) generations.delete(name);
    else generations.set(name, generation);
    if (hasChanged) onChange(name);
  };
}

/**
 * Lists and watches the hub's ManagedClusters (a @kubernetes/client-node informer) and reports
 * changes by name. The library's informer re-watches from the last resourceVersion and lists
 * again when that is too old (410); on any other error it stops, so this one starts it again
 * after a delay, until stopped. Events arrive in the order the API server sent them.
 */
export function watchManagedClusters(
  hub: KubeConfig,
  handlers: ClusterWatchHandlers,
  restartDelayMs = WATCH_RESTART_DELAY_MS,
): ClusterWatch {
  const api = hub.makeApiClient(CustomObjectsApi);
  const list = async () =>
    (await api.listClusterCustomObject({
      group: CLUSTER_GROUP,
      version: 'v1',
      plural: 'managedclusters',
    })) as KubernetesListObject<KubernetesObject>;
  let isStopped = false;
  const seen = onSpecChange((name) => {
    if (!isStopped) handlers.onChange(name);
  });
  // Only names and generations are read: the generic object type is enough.
  const informer = startInformer<KubernetesObject>({
    kubeConfig: hub,
    path: PATH,
    list,
    onChange: seen,
    restartDelayMs,
    ...(handlers.onError === undefined ? {} : { onError: handlers.onError }),
  });
  return {
    async stop() {
      isStopped = true;
      await informer.stop();
    },
  };
}
