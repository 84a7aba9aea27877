// Labels, annotations, finalizers, claim names and taint keys OCM gives meaning to. Wire
// strings: existing YAML and tools depend on them.

/** Claim names the platform reserves (reported first, never truncated). */
export const ReservedClaimNames = {
  /** Unique id of the cluster. */
  Id: 'id.k8s.io',
  /** Kubernetes version of the cluster, e.g. v1.36.3. */
  KubeVersion: 'kubeversion.open-cluster-management.io',
  Platform: 'platform.open-cluster-management.io',
  Product: 'product.open-cluster-management.io',
} as const;
export const RESERVED_CLAIM_NAMES: readonly string[] = Object.values(ReservedClaimNames);

/** At most this many custom (non-reserved) claims reach ManagedCluster status. */
export const MAX_CUSTOM_CLUSTER_CLAIMS = 20;

/** Label keys. */
export const Labels = {
  /** On a ManagedCluster: its exclusive cluster set. */
  ClusterSet: 'cluster.open-cluster-management.io/clusterset',
  /** On cluster namespaces, CSRs and per-cluster objects. */
  ClusterName: 'open-cluster-management.io/cluster-name',
  /** On a ClusterClaim: keep it on the spoke, do not report it. */
  SpokeOnlyClaim: 'open-cluster-management.io/spoke-only',
  /** On a PlacementDecision: its Placement. */
  Placement: 'cluster.open-cluster-management.io/placement',
  DecisionGroupName: 'cluster.open-cluster-management.io/decision-group-name',
  DecisionGroupIndex: 'cluster.open-cluster-management.io/decision-group-index',
  /** On ManifestWorks made by a ManifestWorkReplicaSet: `<namespace>.<name>`. */
  ManifestWorkReplicaSet: 'work.open-cluster-management.io/manifestworkreplicaset',
  ManifestWorkReplicaSetPlacement: 'work.open-cluster-management.io/placementname',
  /** On add-on CSRs and objects. */
  AddOnName: 'open-cluster-management.io/addon-name',
  AddOnNamespace: 'open-cluster-management.io/addon-namespace',
  /** On replicated policies. */
  PolicyClusterName: 'policy.open-cluster-management.io/cluster-name',
  PolicyClusterNamespace: 'policy.open-cluster-management.io/cluster-namespace',
  RootPolicy: 'policy.open-cluster-management.io/root-policy',
  /** On a CRD: the policy framework may create objects of this kind from policy templates. */
  PolicyType: 'policy.open-cluster-management.io/policy-type',
} as const;

/** Prefix of the per-add-on availability label on ManagedCluster (`…addon-<name>`). */
export const ADDON_FEATURE_LABEL_PREFIX = 'feature.open-cluster-management.io/addon-';

/** Annotation keys. */
export const Annotations = {
  /** On a Placement: the built-in scheduler leaves it alone. */
  SchedulingDisabled: 'cluster.open-cluster-management.io/experimental-scheduling-disable',
  /** 0–100; cluster-namespace objects with higher values are deleted later. */
  CleanupPriority: 'open-cluster-management.io/cleanup-priority',
  /** On objects applied by a ManifestWork. */
  ObjectHash: 'open-cluster-management.io/object-hash',
  ConfigSpecHash: 'open-cluster-management.io/config-spec-hash',
  /** On a ClusterManagementAddOn: `addon-manager` or `self` installs it. */
  AddOnLifecycle: 'addon.open-cluster-management.io/lifecycle',
} as const;

/** Finalizers. */
export const Finalizers = {
  ManagedCluster: 'cluster.open-cluster-management.io/api-resource-cleanup',
  ManifestWork: 'cluster.open-cluster-management.io/manifest-work-cleanup',
  AppliedManifestWork: 'cluster.open-cluster-management.io/applied-manifest-work-cleanup',
  ManifestWorkReplicaSet: 'work.open-cluster-management.io/manifest-work-cleanup',
  AddOnPreDelete: 'addon.open-cluster-management.io/addon-pre-delete',
  PolicyPruneObjects: 'policy.open-cluster-management.io/delete-related-objects',
} as const;

/** Taint keys the hub puts on ManagedClusters. */
export const Taints = {
  Unavailable: 'cluster.open-cluster-management.io/unavailable',
  Unreachable: 'cluster.open-cluster-management.io/unreachable',
} as const;

/** The field manager ManifestWork server-side apply uses by default. */
export const DEFAULT_WORK_FIELD_MANAGER = 'work-agent';
