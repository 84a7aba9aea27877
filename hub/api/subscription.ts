// apps.open-cluster-management.io: Channel and Subscription (v1), SubscriptionReport (v1alpha1),
// the application-delivery API of OCM's (archived, API-frozen) subscription add-on. Field names
// keep upstream's irregular JSON casing (`timewindow`, `windowtype`, `daysofweek`,
// `hooksecretref`) so existing YAML applies unchanged.
import { Type, type Static } from 'typebox';

import type { CrdDefinition } from './crd-definition.ts';
import {
  dateTime,
  freeForm,
  int32,
  int64,
  LabelSelectorSchema,
  ObjectMetaSchema,
  resourceSchema,
  stringEnum,
  stringMap,
} from './schema-kit.ts';

/** The API group of channels and subscriptions. */
export const APPS_GROUP = 'apps.open-cluster-management.io';

/** Channel types; compared case-insensitively, `GitHub` means `Git`. */
export const CHANNEL_TYPES = [
  'Namespace',
  'HelmRepo',
  'ObjectBucket',
  'GitHub',
  'Git',
  'namespace',
  'helmrepo',
  'objectbucket',
  'github',
  'git',
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Phases of a Subscription: hub ones first, then the managed-cluster ones. */
export const SubscriptionPhases = {
  Propagated: 'Propagated',
  PropagationFailed: 'PropagationFailed',
  Subscribed: 'Subscribed',
  Failed: 'Failed',
} as const;
export type SubscriptionPhase = (typeof SubscriptionPhases)[keyof typeof SubscriptionPhases];

/** Annotations and labels the subscription API gives meaning to. */
export const AppsAnnotations = {
  GitBranch: `${APPS_GROUP}/git-branch`,
  GithubBranch: `${APPS_GROUP}/github-branch`,
  GitPath: `${APPS_GROUP}/git-path`,
  GithubPath: `${APPS_GROUP}/github-path`,
  GitDesiredCommit: `${APPS_GROUP}/git-desired-commit`,
  GitTag: `${APPS_GROUP}/git-tag`,
  GitCloneDepth: `${APPS_GROUP}/git-clone-depth`,
  GitCurrentCommit: `${APPS_GROUP}/git-current-commit`,
  ReconcileOption: `${APPS_GROUP}/reconcile-option`,
  ReconcileRate: `${APPS_GROUP}/reconcile-rate`,
  ManualRefreshTime: `${APPS_GROUP}/manual-refresh-time`,
  HostingSubscription: `${APPS_GROUP}/hosting-subscription`,
  DoNotDelete: `${APPS_GROUP}/do-not-delete`,
  ClusterAdmin: `${APPS_GROUP}/cluster-admin`,
  UserIdentity: 'open-cluster-management.io/user-identity',
  UserGroup: 'open-cluster-management.io/user-group',
} as const;

/** corev1.ObjectReference. */
export const ObjectReferenceSchema = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  fieldPath: Type.Optional(Type.String()),
});
export type ObjectReference = Static<typeof ObjectReferenceSchema>;

export const ChannelSpecSchema = Type.Object({
  type: stringEnum(CHANNEL_TYPES),
  pathname: Type.String({ description: 'Repository URL (Git, HelmRepo) or bucket path.' }),
  secretRef: Type.Optional(ObjectReferenceSchema),
  configMapRef: Type.Optional(ObjectReferenceSchema),
  insecureSkipVerify: Type.Optional(Type.Boolean()),
  gates: Type.Optional(
    Type.Object({
      annotations: Type.Optional(stringMap()),
      labelSelector: Type.Optional(LabelSelectorSchema),
      name: Type.Optional(Type.String()),
    }),
  ),
  sourceNamespaces: Type.Optional(Type.Array(Type.String())),
});
export type ChannelSpec = Static<typeof ChannelSpecSchema>;

export const ChannelSchema = resourceSchema('A source of deployable resources.', {
  metadata: ObjectMetaSchema,
  spec: ChannelSpecSchema,
  status: Type.Optional(freeForm()),
});
export type Channel = Static<typeof ChannelSchema>;

export const channelCrd: CrdDefinition = {
  group: APPS_GROUP,
  kind: 'Channel',
  plural: 'channels',
  singular: 'channel',
  shortNames: [],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: ChannelSchema,
      hasStatusSubresource: true,
      printerColumns: [
        { name: 'Type', type: 'string', jsonPath: '.spec.type' },
        { name: 'Pathname', type: 'string', jsonPath: '.spec.pathname' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  ],
};

const ClusterOverridesSchema = Type.Object({
  clusterName: Type.String(),
  clusterOverrides: Type.Array(freeForm()),
});

/** Overrides of one package: `packageOverrides` items are free-form `{path, value}` objects. */
export const PackageOverridesSchema = Type.Object({
  packageName: Type.String(),
  packageAlias: Type.Optional(Type.String()),
  packageOverrides: Type.Optional(Type.Array(freeForm())),
});
export type PackageOverrides = Static<typeof PackageOverridesSchema>;

export const PackageFilterSchema = Type.Object({
  labelSelector: Type.Optional(LabelSelectorSchema),
  annotations: Type.Optional(stringMap()),
  version: Type.Optional(Type.String({ description: 'A semver range (HelmRepo).' })),
  filterRef: Type.Optional(Type.Object({ name: Type.Optional(Type.String()) })),
});
export type PackageFilter = Static<typeof PackageFilterSchema>;

const AllowDenySchema = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kinds: Type.Optional(Type.Array(Type.String())),
});

export const SubscriptionSpecSchema = Type.Object({
  channel: Type.String({ description: '`<namespace>/<name>` of the Channel.' }),
  secondaryChannel: Type.Optional(Type.String()),
  name: Type.Optional(Type.String({ description: 'The package: a chart name (HelmRepo).' })),
  packageFilter: Type.Optional(PackageFilterSchema),
  packageOverrides: Type.Optional(Type.Array(PackageOverridesSchema)),
  placement: Type.Optional(
    Type.Object({
      clusters: Type.Optional(Type.Array(Type.Object({ name: Type.String() }))),
      clusterSelector: Type.Optional(LabelSelectorSchema),
      placementRef: Type.Optional(ObjectReferenceSchema),
      local: Type.Optional(Type.Boolean()),
    }),
  ),
  overrides: Type.Optional(Type.Array(ClusterOverridesSchema)),
  timewindow: Type.Optional(
    Type.Object({
      windowtype: Type.Optional(stringEnum(['active', 'blocked', 'Active', 'Blocked'])),
      location: Type.Optional(Type.String()),
      daysofweek: Type.Optional(Type.Array(Type.String())),
      hours: Type.Optional(
        Type.Array(
          Type.Object({ start: Type.Optional(Type.String()), end: Type.Optional(Type.String()) }),
        ),
      ),
    }),
  ),
  hooksecretref: Type.Optional(ObjectReferenceSchema),
  allow: Type.Optional(Type.Array(AllowDenySchema)),
  deny: Type.Optional(Type.Array(AllowDenySchema)),
  watchHelmNamespaceScopedResources: Type.Optional(Type.Boolean()),
});
export type SubscriptionSpec = Static<typeof SubscriptionSpecSchema>;

const AnsibleJobsStatusSchema = Type.Object({
  lastprehookjob: Type.Optional(Type.String()),
  prehookjobshistory: Type.Optional(Type.Array(Type.String())),
  lastposthookjob: Type.Optional(Type.String()),
  posthookjobshistory: Type.Optional(Type.Array(Type.String())),
});

export const SubscriptionStatusSchema = Type.Object({
  phase: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  lastUpdateTime: Type.Optional(dateTime()),
  statuses: Type.Optional(freeForm()),
  appstatusReference: Type.Optional(Type.String()),
  ansiblejobs: Type.Optional(AnsibleJobsStatusSchema),
});
export type SubscriptionStatus = Static<typeof SubscriptionStatusSchema>;

export const SubscriptionSchema = resourceSchema(
  'Delivers the packages of a channel to clusters.',
  {
    metadata: ObjectMetaSchema,
    spec: SubscriptionSpecSchema,
    status: Type.Optional(SubscriptionStatusSchema),
  },
);
export type Subscription = Static<typeof SubscriptionSchema>;

export const subscriptionCrd: CrdDefinition = {
  group: APPS_GROUP,
  kind: 'Subscription',
  plural: 'subscriptions',
  singular: 'subscription',
  shortNames: ['appsub'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: SubscriptionSchema,
      hasStatusSubresource: true,
      printerColumns: [
        { name: 'SubscriptionState', type: 'string', jsonPath: '.status.phase' },
        { name: 'AppstatusReference', type: 'string', jsonPath: '.status.appstatusReference' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        { name: 'Updated', type: 'string', jsonPath: '.status.lastUpdateTime' },
        { name: 'Local placement', type: 'boolean', jsonPath: '.spec.placement.local' },
        { name: 'Time window', type: 'string', jsonPath: '.spec.timewindow.windowtype' },
      ],
    },
  ],
};

/** Outcomes a SubscriptionReport result can carry. */
export const REPORT_RESULTS = ['deployed', 'failed', 'propagationFailed'] as const;
export type ReportResult = (typeof REPORT_RESULTS)[number];

export const SubscriptionReportResultSchema = Type.Object({
  source: Type.Optional(Type.String()),
  timestamp: Type.Optional(
    Type.Object({ seconds: Type.Optional(int64()), nanos: Type.Optional(int32()) }),
  ),
  result: Type.Optional(stringEnum(REPORT_RESULTS)),
});
export type SubscriptionReportResult = Static<typeof SubscriptionReportResultSchema>;

export const SubscriptionReportSchema = resourceSchema(
  'Deployment results of subscriptions, per application or per cluster.',
  {
    metadata: ObjectMetaSchema,
    reportType: Type.Optional(stringEnum(['Application', 'Cluster'])),
    summary: Type.Optional(
      Type.Object({
        deployed: Type.Optional(Type.String()),
        inProgress: Type.Optional(Type.String()),
        failed: Type.Optional(Type.String()),
        propagationFailed: Type.Optional(Type.String()),
        clusters: Type.Optional(Type.String()),
      }),
    ),
    results: Type.Optional(Type.Array(SubscriptionReportResultSchema)),
    resources: Type.Optional(Type.Array(ObjectReferenceSchema)),
  },
);
export type SubscriptionReport = Static<typeof SubscriptionReportSchema>;

export const subscriptionReportCrd: CrdDefinition = {
  group: APPS_GROUP,
  kind: 'SubscriptionReport',
  plural: 'subscriptionreports',
  singular: 'subscriptionreport',
  shortNames: ['appsubreport'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1alpha1',
      served: true,
      storage: true,
      schema: SubscriptionReportSchema,
      hasStatusSubresource: false,
      printerColumns: [
        { name: 'ReportType', type: 'string', jsonPath: '.reportType' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  ],
};
