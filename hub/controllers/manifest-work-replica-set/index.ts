// Public surface of hub/controllers/manifest-work-replica-set/: ManifestWorkReplicaSet rollouts.
export {
  DEFAULT_REPLICA_SET_RESYNC_MS,
  DELETION_POLL_MS,
  createManifestWorkReplicaSetController,
  type ManifestWorkReplicaSetController,
  type ManifestWorkReplicaSetControllerOptions,
} from './controller.ts';
export {
  MWRS_FINALIZER,
  ROLLOUT_TIME_ANNOTATION,
  TEMPLATE_HASH_ANNOTATION,
  clusterRollout,
  desiredWork,
  replicaSetKeyLabel,
  templateHash,
} from './replica-works.ts';
export {
  decideReplicaSetStatus,
  summarize,
  type PlacementObservation,
} from './replica-set-status.ts';
export { kubeReplicaSetStore, type ReplicaSetStore } from './replica-set-store.ts';
export {
  ClusterRolloutStates,
  decideRollout,
  parseRolloutDuration,
  resolveCount,
  type ClusterRolloutState,
  type RolloutCluster,
  type RolloutDecision,
} from './rollout.ts';
