// Public surface of hub/kube/: the thin @kubernetes/client-node layer hub code shares.
export {
  DEFAULT_AGENT_POLL_MS,
  DEFAULT_RESYNC_INTERVAL_MS,
  RESYNC_RETRY_MS,
  clusterTriggers,
  connectedClusters,
  createClusterReconciler,
  isClusterConnected,
  UNREACHED_RETRY_MS,
  withSoonRetries,
  type AgentPresence,
  type ClusterReconciler,
  type ClusterReconcilerOptions,
  type ClusterTriggerOptions,
} from './cluster-reconciler.ts';
export { ensureAdmissionPolicy, POLICY_HASH_ANNOTATION } from './admission-policy.ts';
export { conditionTime, setCondition } from './conditions.ts';
export { reuseConnections, type ReusingKubeConfig } from './connection-reuse.ts';
export { apiStatus, installCrds } from './install-crds.ts';
export { describeError, kubeGet, type KubeGetOptions, type KubeResponse } from './kube-get.ts';
export {
  createKeyQueue,
  DEFAULT_QUEUE_WORKERS,
  QUEUE_RETRY_BASE_MS,
  QUEUE_RETRY_MAX_MS,
  type KeyQueue,
  type KeyQueueOptions,
  type KeyResult,
} from './key-queue.ts';
export {
  startManagedClusterCache,
  type ManagedClusterCache,
  type ManagedClusterCacheOptions,
} from './managed-cluster-cache.ts';
export { kubeManagedClusterStore, type ManagedClusterStore } from './managed-cluster-store.ts';
export {
  WATCH_RESTART_DELAY_MS,
  watchManagedClusters,
  type ClusterWatch,
  type ClusterWatchHandlers,
} from './managed-cluster-watch.ts';
export {
  formatQuantity,
  parseQuantity,
  sumQuantities,
  type Quantity,
  type QuantityFormat,
} from './quantity.ts';
export {
  startCustomInformer,
  startInformer,
  startReadThroughCache,
  type CustomCollection,
  type InformerOptions,
  type ReadThroughCache,
  type RunningInformer,
} from './informer.ts';
