// Condition types and reasons OCM writes, so that existing tooling (clusteradm, dashboards,
// `kubectl wait --for=condition=…`) reads our status unchanged. Values are wire strings:
// never reword them (including OCM's own spellings such as `Succeedconfigured`).

/** ManagedCluster condition types. */
export const ManagedClusterConditionTypes = {
  HubAccepted: 'HubAcceptedManagedCluster',
  /** Declared by OCM but never set; denial is HubAccepted=False. */
  HubDenied: 'HubDeniedManagedCluster',
  Joined: 'ManagedClusterJoined',
  Available: 'ManagedClusterConditionAvailable',
  ClockSynced: 'ManagedClusterConditionClockSynced',
  CertificateRotated: 'ClusterCertificateRotated',
  Deleting: 'Deleting',
} as const;

/** ManagedCluster condition reasons, by the condition they go with. */
export const ManagedClusterReasons = {
  /** HubAccepted=True */
  HubClusterAdminAccepted: 'HubClusterAdminAccepted',
  /** HubAccepted=False */
  HubClusterAdminDenied: 'HubClusterAdminDenied',
  /** HubAccepted=False when accepting failed */
  Error: 'Error',
  /** Joined=True */
  ManagedClusterJoined: 'ManagedClusterJoined',
  /** Available=True */
  ManagedClusterAvailable: 'ManagedClusterAvailable',
  /** Available=False: the cluster's API server is not healthy */
  ManagedClusterKubeAPIServerUnavailable: 'ManagedClusterKubeAPIServerUnavailable',
  /** Available=Unknown: the hub stopped hearing from the cluster */
  ManagedClusterLeaseUpdateStopped: 'ManagedClusterLeaseUpdateStopped',
  ManagedClusterClockSynced: 'ManagedClusterClockSynced',
  ManagedClusterClockOutOfSync: 'ManagedClusterClockOutOfSync',
  ClientCertificateUpdated: 'ClientCertificateUpdated',
  ClientCertificateUpdateFailed: 'ClientCertificateUpdateFailed',
  /** Deleting */
  ResourceRemaining: 'ResourceRemaining',
  NoResource: 'NoResource',
  DeletingError: 'DeletingError',
} as const;

/** ManagedClusterSet and ManagedClusterSetBinding conditions and reasons. */
export const ClusterSetConditions = {
  Empty: 'ClusterSetEmpty',
  ReasonClustersSelected: 'ClustersSelected',
  ReasonNoClusterMatched: 'NoClusterMatched',
  Bound: 'Bound',
  ReasonClusterSetBound: 'ClusterSetBound',
  ReasonClusterSetNotFound: 'ClusterSetNotFound',
} as const;

/** Placement conditions and reasons. */
export const PlacementConditions = {
  Satisfied: 'PlacementSatisfied',
  Misconfigured: 'PlacementMisconfigured',
  ReasonNoManagedClusterSetBindings: 'NoManagedClusterSetBindings',
  ReasonNoIntersection: 'NoIntersection',
  ReasonAllManagedClusterSetsEmpty: 'AllManagedClusterSetsEmpty',
  ReasonNoManagedClusterMatched: 'NoManagedClusterMatched',
  ReasonAllDecisionsScheduled: 'AllDecisionsScheduled',
  ReasonNotAllDecisionsScheduled: 'NotAllDecisionsScheduled',
  /** Misconfigured=True */
  ReasonMisconfigured: 'Misconfigured',
  /** Misconfigured=False (OCM's spelling) */
  ReasonSucceedconfigured: 'Succeedconfigured',
} as const;

/** ManifestWork condition types (work level and per manifest). */
export const WorkConditionTypes = {
  Applied: 'Applied',
  Available: 'Available',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  Complete: 'Complete',
  Deleting: 'Deleting',
  StatusFeedbackSynced: 'StatusFeedbackSynced',
} as const;

/** ManifestWork condition reasons. */
export const WorkReasons = {
  AppliedManifestWorkComplete: 'AppliedManifestWorkComplete',
  AppliedManifestWorkFailed: 'AppliedManifestWorkFailed',
  ResourcesAvailable: 'ResourcesAvailable',
  ResourcesNotAvailable: 'ResourcesNotAvailable',
  ResourcesStatusUnknown: 'ResourcesStatusUnknown',
  ConditionRulesAggregated: 'ConditionRulesAggregated',
  WorkDeleting: 'WorkDeleting',
  /** Per manifest: */
  AppliedManifestComplete: 'AppliedManifestComplete',
  AppliedManifestFailed: 'AppliedManifestFailed',
  AppliedManifestSSAIgnoreFieldError: 'AppliedManifestSSAIgnoreFieldError',
  ResourceAvailable: 'ResourceAvailable',
  ResourceNotAvailable: 'ResourceNotAvailable',
  FetchingResourceFailed: 'FetchingResourceFailed',
  IncompleteResourceMeta: 'IncompleteResourceMeta',
  StatusFeedbackSynced: 'StatusFeedbackSynced',
  NoStatusFeedbackSynced: 'NoStatusFeedbackSynced',
  StatusFeedbackSyncFailed: 'StatusFeedbackSyncFailed',
  ConditionRuleEvaluated: 'ConditionRuleEvaluated',
  ConditionRuleInvalid: 'ConditionRuleInvalid',
  ConditionRuleExpressionError: 'ConditionRuleExpressionError',
  ConditionRuleInternalError: 'ConditionRuleInternalError',
} as const;

/** ManifestWorkReplicaSet conditions and reasons. */
export const ManifestWorkReplicaSetConditions = {
  PlacementVerified: 'PlacementVerified',
  PlacementRolledOut: 'PlacementRolledOut',
  ManifestworkApplied: 'ManifestworkApplied',
  ReasonAsExpected: 'AsExpected',
  ReasonPlacementDecisionNotFound: 'PlacementDecisionNotFound',
  ReasonPlacementDecisionEmpty: 'PlacementDecisionEmpty',
  ReasonNotAsExpected: 'NotAsExpected',
  ReasonProcessing: 'Processing',
  ReasonProgressing: 'Progressing',
  ReasonComplete: 'Complete',
} as const;

/** ManagedServiceAccount conditions and reasons. */
export const ManagedServiceAccountConditions = {
  SecretCreated: 'SecretCreated',
  TokenReported: 'TokenReported',
  ReasonSecretCreated: 'SecretCreated',
  ReasonTokenReported: 'TokenReported',
  ReasonTokenReportFailed: 'TokenReportFailed',
} as const;

/** ManagedClusterAddOn condition types. */
export const AddOnConditionTypes = {
  Available: 'Available',
  Degraded: 'Degraded',
  Progressing: 'Progressing',
  Configured: 'Configured',
  ManifestApplied: 'ManifestApplied',
  RegistrationApplied: 'RegistrationApplied',
  HookManifestCompleted: 'HookManifestCompleted',
} as const;

/** ManagedClusterAddOn condition reasons. */
export const AddOnReasons = {
  ManagedClusterAddOnLeaseUpdated: 'ManagedClusterAddOnLeaseUpdated',
  ManagedClusterAddOnLeaseUpdateStopped: 'ManagedClusterAddOnLeaseUpdateStopped',
  ManagedClusterAddOnLeaseNotFound: 'ManagedClusterAddOnLeaseNotFound',
  ProbeAvailable: 'ProbeAvailable',
  ProbeUnavailable: 'ProbeUnavailable',
  NoProbeResult: 'NoProbeResult',
  WorkApplied: 'WorkApplied',
  WorkNotApplied: 'WorkNotApplied',
  WorkApplyFailed: 'WorkApplyFailed',
  WorkNotFound: 'WorkNotFound',
  AddonManifestApplied: 'AddonManifestApplied',
  AddonManifestAppliedFailed: 'AddonManifestAppliedFailed',
  ManifestWorkApplyFailed: 'ManifestWorkApplyFailed',
  Progressing: 'Progressing',
  Completed: 'Completed',
  Failed: 'Failed',
  WaitingForCanary: 'WaitingForCanary',
  ConfigurationUnsupported: 'ConfigurationUnsupported',
  SetPermissionApplied: 'SetPermissionApplied',
  SetPermissionFailed: 'SetPermissionFailed',
  NilRegistration: 'NilRegistration',
} as const;
