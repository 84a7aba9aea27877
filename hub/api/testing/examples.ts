// One OCM-shaped object per kind, typed with our TS types: if a type drifts from what OCM YAML
// looks like, this file stops compiling. Used by the unit tests beside the schemas.
import type {
  AppliedManifestWork,
  Channel,
  Subscription,
  SubscriptionReport,
  ClusterClaim,
  ClusterManagementAddOn,
  ConfigurationPolicy,
  ManagedCluster,
  ManagedClusterAddOn,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  ManagedServiceAccount,
  ManifestWork,
  ManifestWorkReplicaSet,
  Placement,
  PlacementBinding,
  PlacementDecision,
  Policy,
  PolicySet,
} from '../index.ts';

const T0 = '2026-01-02T03:04:05Z';

export const managedCluster: ManagedCluster = {
  apiVersion: 'cluster.open-cluster-management.io/v1',
  kind: 'ManagedCluster',
  metadata: {
    name: 'cluster1',
    labels: { 'cluster.open-cluster-management.io/clusterset': 'default', env: 'dev' },
  },
  spec: {
    hubAcceptsClient: true,
    leaseDurationSeconds: 60,
    managedClusterClientConfigs: [
      { url: 'https://cluster1.example.com:6443', caBundle: 'LS0tLQ==' },
    ],
    taints: [
      { key: 'cluster.open-cluster-management.io/unreachable', effect: 'NoSelect', timeAdded: T0 },
    ],
  },
  status: {
    conditions: [
      {
        type: 'HubAcceptedManagedCluster',
        status: 'True',
        reason: 'HubClusterAdminAccepted',
        message: 'Accepted by hub cluster admin',
        lastTransitionTime: T0,
      },
      {
        type: 'ManagedClusterConditionAvailable',
        status: 'True',
        reason: 'ManagedClusterAvailable',
        message: 'Managed cluster is available',
        lastTransitionTime: T0,
      },
    ],
    version: { kubernetes: 'v1.36.3' },
    capacity: { cpu: '8', memory: '32Gi', pods: 110 },
    allocatable: { cpu: '7500m', memory: '30Gi' },
    clusterClaims: [{ name: 'id.k8s.io', value: '5d6c1a0e-0000-4000-8000-000000000001' }],
  },
};

export const clusterClaim: ClusterClaim = {
  apiVersion: 'cluster.open-cluster-management.io/v1alpha1',
  kind: 'ClusterClaim',
  metadata: { name: 'region.open-cluster-management.io' },
  spec: { value: 'eu-west-1' },
};

export const managedClusterSet: ManagedClusterSet = {
  apiVersion: 'cluster.open-cluster-management.io/v1beta2',
  kind: 'ManagedClusterSet',
  metadata: { name: 'global' },
  spec: { clusterSelector: { selectorType: 'LabelSelector', labelSelector: {} } },
};

export const managedClusterSetBinding: ManagedClusterSetBinding = {
  apiVersion: 'cluster.open-cluster-management.io/v1beta2',
  kind: 'ManagedClusterSetBinding',
  metadata: { name: 'global', namespace: 'default' },
  spec: { clusterSet: 'global' },
};

export const placement: Placement = {
  apiVersion: 'cluster.open-cluster-management.io/v1beta1',
  kind: 'Placement',
  metadata: { name: 'placement1', namespace: 'default' },
  spec: {
    numberOfClusters: 2,
    clusterSets: ['global'],
    predicates: [
      {
        requiredClusterSelector: {
          labelSelector: { matchLabels: { env: 'dev' } },
          claimSelector: {
            matchExpressions: [
              { key: 'region.open-cluster-management.io', operator: 'In', values: ['eu-west-1'] },
            ],
          },
        },
      },
    ],
    tolerations: [
      {
        key: 'cluster.open-cluster-management.io/unreachable',
        operator: 'Exists',
        tolerationSeconds: 300,
      },
    ],
    prioritizerPolicy: {
      mode: 'Exact',
      configurations: [
        { scoreCoordinate: { type: 'BuiltIn', builtIn: 'ResourceAllocatableMemory' }, weight: 2 },
      ],
    },
    decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: '25%' } },
  },
};

export const placementDecision: PlacementDecision = {
  apiVersion: 'cluster.open-cluster-management.io/v1beta1',
  kind: 'PlacementDecision',
  metadata: {
    name: 'placement1-decision-1',
    namespace: 'default',
    labels: { 'cluster.open-cluster-management.io/placement': 'placement1' },
  },
  status: { decisions: [{ clusterName: 'cluster1', reason: '' }] },
};

export const manifestWork: ManifestWork = {
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'ManifestWork',
  metadata: { name: 'hello-world', namespace: 'cluster1' },
  spec: {
    workload: {
      manifests: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'hello', namespace: 'default' },
          data: { greeting: 'hi' },
        },
      ],
    },
    deleteOption: { propagationPolicy: 'Orphan' },
    manifestConfigs: [
      {
        resourceIdentifier: { resource: 'configmaps', name: 'hello', namespace: 'default' },
        updateStrategy: { type: 'ServerSideApply', serverSideApply: { force: true } },
        feedbackRules: [
          { type: 'JSONPaths', jsonPaths: [{ name: 'greeting', path: '.data.greeting' }] },
        ],
      },
    ],
  },
  status: {
    conditions: [
      {
        type: 'Applied',
        status: 'True',
        reason: 'AppliedManifestWorkComplete',
        message: 'Apply manifest work complete',
        lastTransitionTime: T0,
      },
    ],
    resourceStatus: {
      manifests: [
        {
          resourceMeta: {
            ordinal: 0,
            group: '',
            version: 'v1',
            kind: 'ConfigMap',
            resource: 'configmaps',
            name: 'hello',
            namespace: 'default',
          },
          statusFeedback: {
            values: [{ name: 'greeting', fieldValue: { type: 'String', string: 'hi' } }],
          },
          conditions: [],
        },
      ],
    },
  },
};

export const appliedManifestWork: AppliedManifestWork = {
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'AppliedManifestWork',
  metadata: { name: 'c0ffee-hello-world' },
  spec: { hubHash: 'c0ffee', agentID: 'agent-1', manifestWorkName: 'hello-world' },
  status: {
    appliedResources: [
      {
        group: '',
        version: 'v1',
        resource: 'configmaps',
        namespace: 'default',
        name: 'hello',
        uid: 'u-1',
      },
    ],
  },
};

export const manifestWorkReplicaSet: ManifestWorkReplicaSet = {
  apiVersion: 'work.open-cluster-management.io/v1alpha1',
  kind: 'ManifestWorkReplicaSet',
  metadata: { name: 'mwrs1', namespace: 'default' },
  spec: {
    placementRefs: [
      {
        name: 'placement1',
        rolloutStrategy: { type: 'Progressive', progressive: { maxConcurrency: '50%' } },
      },
    ],
    cascadeDeletionPolicy: 'Background',
    manifestWorkTemplate: {
      workload: {
        manifests: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } }],
      },
    },
  },
};

export const managedServiceAccount: ManagedServiceAccount = {
  apiVersion: 'authentication.open-cluster-management.io/v1beta1',
  kind: 'ManagedServiceAccount',
  metadata: { name: 'my-sa', namespace: 'cluster1' },
  spec: { rotation: {} },
  status: {
    tokenSecretRef: { name: 'my-sa', lastRefreshTimestamp: T0 },
    expirationTimestamp: '2027-01-01T00:00:00Z',
  },
};

export const configurationPolicy: ConfigurationPolicy = {
  apiVersion: 'policy.open-cluster-management.io/v1',
  kind: 'ConfigurationPolicy',
  metadata: { name: 'policy-namespace', namespace: 'cluster1' },
  spec: {
    remediationAction: 'inform',
    severity: 'low',
    namespaceSelector: { include: ['default'], exclude: ['kube-*'] },
    'object-templates': [
      {
        complianceType: 'musthave',
        objectDefinition: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } },
      },
    ],
  },
};

export const policy: Policy = {
  apiVersion: 'policy.open-cluster-management.io/v1',
  kind: 'Policy',
  metadata: {
    name: 'policy-namespace',
    namespace: 'default',
    annotations: { 'policy.open-cluster-management.io/standards': 'NIST SP 800-53' },
  },
  spec: {
    disabled: false,
    remediationAction: 'inform',
    'policy-templates': [{ objectDefinition: configurationPolicy }],
    dependencies: [
      {
        apiVersion: 'policy.open-cluster-management.io/v1',
        kind: 'Policy',
        name: 'base',
        namespace: 'default',
        compliance: 'Compliant',
      },
    ],
  },
};

export const placementBinding: PlacementBinding = {
  apiVersion: 'policy.open-cluster-management.io/v1',
  kind: 'PlacementBinding',
  metadata: { name: 'binding-policy-namespace', namespace: 'default' },
  placementRef: {
    apiGroup: 'cluster.open-cluster-management.io',
    kind: 'Placement',
    name: 'placement1',
  },
  subjects: [
    { apiGroup: 'policy.open-cluster-management.io', kind: 'Policy', name: 'policy-namespace' },
  ],
};

export const policySet: PolicySet = {
  apiVersion: 'policy.open-cluster-management.io/v1beta1',
  kind: 'PolicySet',
  metadata: { name: 'baseline', namespace: 'default' },
  spec: { description: 'Baseline policies', policies: ['policy-namespace'] },
};

export const clusterManagementAddOn: ClusterManagementAddOn = {
  apiVersion: 'addon.open-cluster-management.io/v1alpha1',
  kind: 'ClusterManagementAddOn',
  metadata: {
    name: 'cluster-proxy',
    annotations: { 'addon.open-cluster-management.io/lifecycle': 'addon-manager' },
  },
  spec: {
    addOnMeta: {
      displayName: 'Cluster Proxy',
      description: 'kubectl and services through the tunnel',
    },
    installStrategy: {
      type: 'Placements',
      placements: [{ namespace: 'default', name: 'placement1', rolloutStrategy: { type: 'All' } }],
    },
  },
};

export const managedClusterAddOn: ManagedClusterAddOn = {
  apiVersion: 'addon.open-cluster-management.io/v1alpha1',
  kind: 'ManagedClusterAddOn',
  metadata: { name: 'cluster-proxy', namespace: 'cluster1' },
  spec: { installNamespace: 'open-cluster-management-agent-addon' },
  status: {
    conditions: [
      {
        type: 'Available',
        status: 'True',
        reason: 'ManagedClusterAddOnLeaseUpdated',
        message: 'cluster-proxy add-on is available.',
        lastTransitionTime: T0,
      },
    ],
    healthCheck: { mode: 'Customized' },
  },
};

/** Every example, keyed by kind. */
export const channel: Channel = {
  apiVersion: 'apps.open-cluster-management.io/v1',
  kind: 'Channel',
  metadata: { name: 'git-samples', namespace: 'samples-ch' },
  spec: { type: 'Git', pathname: 'https://git.example.com/org/samples.git' },
};

export const subscription: Subscription = {
  apiVersion: 'apps.open-cluster-management.io/v1',
  kind: 'Subscription',
  metadata: {
    name: 'nginx',
    namespace: 'samples',
    annotations: {
      'apps.open-cluster-management.io/git-branch': 'main',
      'apps.open-cluster-management.io/git-path': 'nginx',
      'apps.open-cluster-management.io/reconcile-option': 'merge',
    },
  },
  spec: {
    channel: 'samples-ch/git-samples',
    packageFilter: { version: '>=1.0.0 <2.0.0' },
    packageOverrides: [
      { packageName: 'nginx', packageOverrides: [{ path: 'spec', value: { replicas: 2 } }] },
    ],
    placement: {
      placementRef: {
        kind: 'Placement',
        apiVersion: 'cluster.open-cluster-management.io/v1beta1',
        name: 'all',
      },
    },
    timewindow: {
      windowtype: 'active',
      daysofweek: ['Monday'],
      hours: [{ start: '8:00AM', end: '5:00PM' }],
    },
  },
  status: { phase: 'Propagated', lastUpdateTime: T0 },
};

export const subscriptionReport: SubscriptionReport = {
  apiVersion: 'apps.open-cluster-management.io/v1alpha1',
  kind: 'SubscriptionReport',
  metadata: { name: 'cluster1', namespace: 'cluster1' },
  reportType: 'Cluster',
  summary: {
    deployed: 'n/a',
    inProgress: 'n/a',
    failed: 'n/a',
    propagationFailed: 'n/a',
    clusters: 'n/a',
  },
  results: [
    { source: 'samples/nginx', timestamp: { seconds: 1767323045, nanos: 0 }, result: 'deployed' },
  ],
};

export const EXAMPLES = {
  ManagedCluster: managedCluster,
  ClusterClaim: clusterClaim,
  ManagedClusterSet: managedClusterSet,
  ManagedClusterSetBinding: managedClusterSetBinding,
  Placement: placement,
  PlacementDecision: placementDecision,
  ManifestWork: manifestWork,
  AppliedManifestWork: appliedManifestWork,
  ManifestWorkReplicaSet: manifestWorkReplicaSet,
  ManagedServiceAccount: managedServiceAccount,
  Policy: policy,
  PlacementBinding: placementBinding,
  PolicySet: policySet,
  ConfigurationPolicy: configurationPolicy,
  ClusterManagementAddOn: clusterManagementAddOn,
  ManagedClusterAddOn: managedClusterAddOn,
  Channel: channel,
  Subscription: subscription,
  SubscriptionReport: subscriptionReport,
} as const;
