// Public surface of hub/controllers/cluster-set/: ManagedClusterSets, their bindings, and the
// ManagedCluster bookkeeping placement relies on (the default set label, availability taints).
export {
  boundCondition,
  builtInSelectorReset,
  clusterSetEmptyCondition,
  decideBindingStatus,
  decideClusterLabels,
  decideClusterSetStatus,
  decideClusterTaints,
} from './cluster-set-decision.ts';
export {
  AUTO_UPDATE_ANNOTATION,
  builtInClusterSelector,
  builtInClusterSet,
  clusterLabels,
  clusterSetMembers,
  clusterSetSelector,
  clusterSetsOf,
  DEFAULT_CLUSTER_SET,
  GLOBAL_CLUSTER_SET,
} from './cluster-set-membership.ts';
export {
  createClusterSetController,
  type ClusterSetController,
  type ClusterSetControllerOptions,
} from './cluster-set-controller.ts';
export {
  kubeClusterSetStore,
  type ClusterChange,
  type ClusterSetStore,
} from './cluster-set-store.ts';
export {
  CACHED_KINDS,
  kubeCaches,
  type CachedKind,
  type CacheHandlers,
  type HubCache,
  type StartCache,
} from './hub-caches.ts';
export {
  compileLabelSelector,
  EVERYTHING,
  labelKeyProblem,
  labelValueProblem,
  NOTHING,
  type CompiledSelector,
  type SelectorResult,
} from './label-selector.ts';
export {
  createReconcileLoop,
  RETRY_INITIAL_MS,
  RETRY_MAX_MS,
  type ReconcileLoop,
  type ReconcileLoopOptions,
} from './reconcile-loop.ts';
