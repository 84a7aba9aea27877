// cluster.open-cluster-management.io: ManagedCluster (v1), ClusterClaim (v1alpha1, on spokes),
// ManagedClusterSet and ManagedClusterSetBinding (v1beta2). Field names, defaults and
// validation follow OCM's API so that OCM YAML applies unchanged.
import { Type, type Static } from 'typebox';

import type { CrdDefinition } from './crd-definition.ts';
import {
  conditionList,
  DNS1123_LABEL_PATTERN,
  int32,
  LabelSelectorSchema,
  listMap,
  nullableDateTime,
  QUALIFIED_NAME_PATTERN,
  quantityMap,
  resourceSchema,
  stringEnum,
} from './schema-kit.ts';

/** The API group of clusters, cluster sets, claims and placements. */
export const CLUSTER_GROUP = 'cluster.open-cluster-management.io';

/** How a taint keeps placements away from a cluster. */
export const TAINT_EFFECTS = ['NoSelect', 'PreferNoSelect', 'NoSelectIfNew'] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

export const TaintSchema = Type.Object({
  key: Type.String({ maxLength: 316, pattern: QUALIFIED_NAME_PATTERN }),
  value: Type.Optional(Type.String({ maxLength: 1024 })),
  effect: stringEnum(TAINT_EFFECTS),
  timeAdded: Type.Optional(nullableDateTime({ description: 'Set by the hub when added.' })),
});
export type Taint = Static<typeof TaintSchema>;

export const ClientConfigSchema = Type.Object({
  url: Type.String({ description: "The managed cluster's API server URL." }),
  caBundle: Type.Optional(Type.String({ format: 'byte', description: 'PEM CA bundle, base64.' })),
});
export type ClientConfig = Static<typeof ClientConfigSchema>;

export const ManagedClusterSpecSchema = Type.Object(
  {
    managedClusterClientConfigs: Type.Optional(Type.Array(ClientConfigSchema)),
    hubAcceptsClient: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Whether the hub admin accepted this cluster (needs managedclusters/accept).',
      }),
    ),
    leaseDurationSeconds: Type.Optional(
      int32({ default: 60, description: 'Heartbeat period of the agent, seconds.' }),
    ),
    taints: Type.Optional(Type.Array(TaintSchema)),
  },
  { description: 'What the hub admin and the agent declare about the cluster.' },
);
export type ManagedClusterSpec = Static<typeof ManagedClusterSpecSchema>;

export const ClusterClaimValueSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  value: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
});
/** One claim as copied into ManagedCluster status. */
export type ManagedClusterClaim = Static<typeof ClusterClaimValueSchema>;

export const ManagedNamespaceSchema = Type.Object({
  clusterSet: Type.String(),
  name: Type.String({ maxLength: 63, pattern: DNS1123_LABEL_PATTERN }),
  conditions: Type.Optional(conditionList(true)),
});

export const ManagedClusterStatusSchema = Type.Object(
  {
    conditions: Type.Optional(conditionList(true)),
    capacity: Type.Optional(quantityMap({ description: 'Sum over all nodes.' })),
    allocatable: Type.Optional(quantityMap({ description: 'Sum over schedulable nodes.' })),
    version: Type.Optional(Type.Object({ kubernetes: Type.Optional(Type.String()) })),
    clusterClaims: Type.Optional(Type.Array(ClusterClaimValueSchema)),
    managedNamespaces: Type.Optional(listMap(ManagedNamespaceSchema, ['clusterSet', 'name'])),
  },
  { description: 'What the hub observes about the cluster.' },
);
export type ManagedClusterStatus = Static<typeof ManagedClusterStatusSchema>;

export const ManagedClusterSchema = resourceSchema('A cluster managed by the hub.', {
  spec: Type.Optional(ManagedClusterSpecSchema),
  status: Type.Optional(ManagedClusterStatusSchema),
});
export type ManagedCluster = Static<typeof ManagedClusterSchema>;

export const managedClusterCrd: CrdDefinition = {
  group: CLUSTER_GROUP,
  kind: 'ManagedCluster',
  plural: 'managedclusters',
  singular: 'managedcluster',
  shortNames: ['mcl', 'mcls'],
  categories: [],
  scope: 'Cluster',
  installOn: 'hub',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: ManagedClusterSchema,
      hasStatusSubresource: true,
      printerColumns: [
        { name: 'Hub Accepted', type: 'boolean', jsonPath: '.spec.hubAcceptsClient' },
        {
          name: 'Managed Cluster URLs',
          type: 'string',
          jsonPath: '.spec.managedClusterClientConfigs[*].url',
        },
        {
          name: 'Joined',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="ManagedClusterJoined")].status',
        },
        {
          name: 'Available',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="ManagedClusterConditionAvailable")].status',
        },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  ],
};

export const ClusterClaimSpecSchema = Type.Object({
  value: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
});
export type ClusterClaimSpec = Static<typeof ClusterClaimSpecSchema>;

export const ClusterClaimSchema = resourceSchema(
  'A fact about the cluster it lives in; its name is the claim name.',
  { spec: Type.Optional(ClusterClaimSpecSchema) },
);
export type ClusterClaim = Static<typeof ClusterClaimSchema>;

export const clusterClaimCrd: CrdDefinition = {
  group: CLUSTER_GROUP,
  kind: 'ClusterClaim',
  plural: 'clusterclaims',
  singular: 'clusterclaim',
  shortNames: [],
  categories: [],
  scope: 'Cluster',
  installOn: 'spoke',
  versions: [
    {
      name: 'v1alpha1',
      served: true,
      storage: true,
      schema: ClusterClaimSchema,
      hasStatusSubresource: false,
    },
  ],
};

/** How a cluster set picks its members. */
export const SELECTOR_TYPES = ['ExclusiveClusterSetLabel', 'LabelSelector'] as const;

export const ManagedClusterSetSpecSchema = Type.Object(
  {
    clusterSelector: Type.Optional(
      Type.Object(
        {
          selectorType: stringEnum(SELECTOR_TYPES, { default: 'ExclusiveClusterSetLabel' }),
          labelSelector: Type.Optional(LabelSelectorSchema),
        },
        { default: { selectorType: 'ExclusiveClusterSetLabel' } },
      ),
    ),
    managedNamespaces: Type.Optional(
      listMap(
        Type.Object({ name: Type.String({ maxLength: 63, pattern: DNS1123_LABEL_PATTERN }) }),
        ['name'],
        { description: 'Namespaces to create on every member cluster.' },
      ),
    ),
  },
  { default: { clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } } },
);
export type ManagedClusterSetSpec = Static<typeof ManagedClusterSetSpecSchema>;

export const ManagedClusterSetStatusSchema = Type.Object({
  conditions: Type.Optional(conditionList(false)),
});
export type ManagedClusterSetStatus = Static<typeof ManagedClusterSetStatusSchema>;

export const ManagedClusterSetSchema = resourceSchema('A named group of managed clusters.', {
  spec: Type.Optional(ManagedClusterSetSpecSchema),
  status: Type.Optional(ManagedClusterSetStatusSchema),
});
export type ManagedClusterSet = Static<typeof ManagedClusterSetSchema>;

export const managedClusterSetCrd: CrdDefinition = {
  group: CLUSTER_GROUP,
  kind: 'ManagedClusterSet',
  plural: 'managedclustersets',
  singular: 'managedclusterset',
  shortNames: ['mclset', 'mclsets'],
  categories: [],
  scope: 'Cluster',
  installOn: 'hub',
  versions: [
    {
      name: 'v1beta2',
      served: true,
      storage: true,
      schema: ManagedClusterSetSchema,
      hasStatusSubresource: true,
      printerColumns: [
        {
          name: 'Empty',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="ClusterSetEmpty")].status',
        },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  ],
};

export const ManagedClusterSetBindingSpecSchema = Type.Object({
  clusterSet: Type.Optional(
    Type.String({ minLength: 1, description: 'The bound set; must equal metadata.name.' }),
  ),
});
export type ManagedClusterSetBindingSpec = Static<typeof ManagedClusterSetBindingSpecSchema>;

export const ManagedClusterSetBindingStatusSchema = Type.Object({
  conditions: Type.Optional(conditionList(false)),
});
export type ManagedClusterSetBindingStatus = Static<typeof ManagedClusterSetBindingStatusSchema>;

export const ManagedClusterSetBindingSchema = resourceSchema(
  'Makes a cluster set usable by placements in this namespace.',
  {
    spec: Type.Optional(ManagedClusterSetBindingSpecSchema),
    status: Type.Optional(ManagedClusterSetBindingStatusSchema),
  },
  {
    // OCM checks this in its admission webhook; we have none, so the CRD checks it.
    'x-kubernetes-validations': [
      {
        rule: '!has(self.spec) || !has(self.spec.clusterSet) || self.spec.clusterSet == self.metadata.name',
        message: 'spec.clusterSet must equal metadata.name',
      },
    ],
  },
);
export type ManagedClusterSetBinding = Static<typeof ManagedClusterSetBindingSchema>;

export const managedClusterSetBindingCrd: CrdDefinition = {
  group: CLUSTER_GROUP,
  kind: 'ManagedClusterSetBinding',
  plural: 'managedclustersetbindings',
  singular: 'managedclustersetbinding',
  shortNames: ['mclsetbinding', 'mclsetbindings'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1beta2',
      served: true,
      storage: true,
      schema: ManagedClusterSetBindingSchema,
      hasStatusSubresource: true,
    },
  ],
};
