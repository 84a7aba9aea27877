// work.open-cluster-management.io: ManifestWork and AppliedManifestWork (v1),
// ManifestWorkReplicaSet (v1alpha1).
import { Type, type Static } from 'typebox';

import type { CrdDefinition } from './crd-definition.ts';
import { rolloutStrategySchema } from './rollout-strategy.ts';
import {
  conditionList,
  dateTime,
  DNS1123_SUBDOMAIN_PATTERN,
  embeddedObject,
  int32,
  int64,
  listMap,
  resourceSchema,
  stringEnum,
} from './schema-kit.ts';

/** The API group of ManifestWork and friends. */
export const WORK_GROUP = 'work.open-cluster-management.io';

export const PROPAGATION_POLICIES = ['Foreground', 'Orphan', 'SelectivelyOrphan'] as const;
export const UPDATE_STRATEGY_TYPES = [
  'Update',
  'CreateOnly',
  'ServerSideApply',
  'ReadOnly',
] as const;
export const FEEDBACK_RULE_TYPES = ['WellKnownStatus', 'JSONPaths'] as const;
export const FEEDBACK_VALUE_TYPES = ['Integer', 'String', 'Boolean', 'JsonRaw'] as const;

/** Names one resource applied by a work: group, resource (plural), name, namespace. */
export const ResourceIdentifierSchema = Type.Object({
  group: Type.Optional(Type.String()),
  resource: Type.String(),
  name: Type.String(),
  namespace: Type.Optional(Type.String()),
});
export type ResourceIdentifier = Static<typeof ResourceIdentifierSchema>;

export const FeedbackRuleSchema = Type.Object({
  type: stringEnum(FEEDBACK_RULE_TYPES),
  jsonPaths: Type.Optional(
    listMap(
      Type.Object({
        name: Type.String(),
        version: Type.Optional(Type.String()),
        path: Type.String({ description: 'JSONPath from the object root, e.g. .status.replicas.' }),
      }),
      ['name'],
    ),
  ),
});
export type FeedbackRule = Static<typeof FeedbackRuleSchema>;

export const ServerSideApplyConfigSchema = Type.Object({
  force: Type.Optional(Type.Boolean()),
  fieldManager: Type.Optional(Type.String({ default: 'work-agent', pattern: '^work-agent' })),
  ignoreFields: Type.Optional(
    listMap(
      Type.Object({
        condition: stringEnum(['OnSpokePresent', 'OnSpokeChange'], { default: 'OnSpokePresent' }),
        jsonPaths: Type.Optional(Type.Array(Type.String())),
        jsonPointers: Type.Optional(Type.Array(Type.String())),
        jqPathExpressions: Type.Optional(Type.Array(Type.String())),
      }),
      ['condition'],
    ),
  ),
});

export const ConditionRuleSchema = Type.Object(
  {
    condition: Type.String(),
    type: stringEnum(['WellKnownConditions', 'CEL']),
    celExpressions: Type.Optional(Type.Array(Type.String())),
    message: Type.Optional(Type.String()),
    messageExpression: Type.Optional(Type.String()),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: `self.type != 'CEL' || self.condition != ""`,
        message: 'Condition is required for CEL rules',
      },
    ],
  },
);

export const ManifestConfigOptionSchema = Type.Object({
  resourceIdentifier: ResourceIdentifierSchema,
  feedbackRules: Type.Optional(Type.Array(FeedbackRuleSchema)),
  updateStrategy: Type.Optional(
    Type.Object({
      type: stringEnum(UPDATE_STRATEGY_TYPES, { default: 'Update' }),
      serverSideApply: Type.Optional(ServerSideApplyConfigSchema),
    }),
  ),
  conditionRules: Type.Optional(listMap(ConditionRuleSchema, ['condition'])),
  feedbackScrapeType: Type.Optional(stringEnum(['Poll', 'Watch'], { default: 'Poll' })),
});
export type ManifestConfigOption = Static<typeof ManifestConfigOptionSchema>;

const SA_NAME = { minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN_PATTERN };

export const ManifestWorkSpecSchema = Type.Object({
  workload: Type.Optional(Type.Object({ manifests: Type.Optional(Type.Array(embeddedObject())) })),
  deleteOption: Type.Optional(
    Type.Object({
      propagationPolicy: Type.Optional(stringEnum(PROPAGATION_POLICIES, { default: 'Foreground' })),
      selectivelyOrphans: Type.Optional(
        Type.Object({ orphaningRules: Type.Optional(Type.Array(ResourceIdentifierSchema)) }),
      ),
      ttlSecondsAfterFinished: Type.Optional(int64()),
    }),
  ),
  manifestConfigs: Type.Optional(Type.Array(ManifestConfigOptionSchema)),
  executor: Type.Optional(
    Type.Object({
      subject: Type.Optional(
        Type.Object({
          type: stringEnum(['ServiceAccount']),
          serviceAccount: Type.Optional(
            Type.Object({ namespace: Type.String(SA_NAME), name: Type.String(SA_NAME) }),
          ),
        }),
      ),
    }),
  ),
});
export type ManifestWorkSpec = Static<typeof ManifestWorkSpecSchema>;

export const FeedbackValueSchema = Type.Object({
  name: Type.String(),
  fieldValue: Type.Object({
    type: stringEnum(FEEDBACK_VALUE_TYPES),
    integer: Type.Optional(int64()),
    string: Type.Optional(Type.String()),
    boolean: Type.Optional(Type.Boolean()),
    jsonRaw: Type.Optional(Type.String({ maxLength: 1024 })),
  }),
});
export type FeedbackValue = Static<typeof FeedbackValueSchema>;

export const ManifestConditionSchema = Type.Object({
  resourceMeta: Type.Object({
    ordinal: int32({ description: 'Index of the manifest in spec.workload.manifests.' }),
    group: Type.Optional(Type.String()),
    version: Type.Optional(Type.String()),
    kind: Type.Optional(Type.String()),
    resource: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
  }),
  statusFeedback: Type.Optional(
    Type.Object({ values: Type.Optional(listMap(FeedbackValueSchema, ['name'])) }),
  ),
  conditions: conditionList(true),
});
export type ManifestCondition = Static<typeof ManifestConditionSchema>;

export const ManifestWorkStatusSchema = Type.Object({
  conditions: Type.Optional(conditionList(true)),
  resourceStatus: Type.Optional(
    Type.Object({ manifests: Type.Optional(Type.Array(ManifestConditionSchema)) }),
  ),
});
export type ManifestWorkStatus = Static<typeof ManifestWorkStatusSchema>;

export const ManifestWorkSchema = resourceSchema(
  'Kubernetes objects for the work agent to apply on the cluster of this namespace.',
  {
    spec: Type.Optional(ManifestWorkSpecSchema),
    status: Type.Optional(ManifestWorkStatusSchema),
  },
);
export type ManifestWork = Static<typeof ManifestWorkSchema>;

export const manifestWorkCrd: CrdDefinition = {
  group: WORK_GROUP,
  kind: 'ManifestWork',
  plural: 'manifestworks',
  singular: 'manifestwork',
  shortNames: [],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: ManifestWorkSchema,
      hasStatusSubresource: true,
    },
  ],
};

export const AppliedManifestWorkSpecSchema = Type.Object({
  hubHash: Type.String({ description: 'Hex SHA-256 of the hub API server URL.' }),
  agentID: Type.Optional(Type.String()),
  manifestWorkName: Type.String(),
});
export type AppliedManifestWorkSpec = Static<typeof AppliedManifestWorkSpecSchema>;

export const AppliedManifestWorkStatusSchema = Type.Object({
  appliedResources: Type.Optional(
    Type.Array(
      Type.Object({
        group: Type.Optional(Type.String()),
        version: Type.String(),
        resource: Type.String(),
        namespace: Type.Optional(Type.String()),
        name: Type.String(),
        uid: Type.Optional(Type.String()),
      }),
    ),
  ),
  evictionStartTime: Type.Optional(dateTime()),
});
export type AppliedManifestWorkStatus = Static<typeof AppliedManifestWorkStatusSchema>;

export const AppliedManifestWorkSchema = resourceSchema(
  "A spoke's record of what one hub ManifestWork applied; applied objects are owned by it.",
  {
    spec: Type.Optional(AppliedManifestWorkSpecSchema),
    status: Type.Optional(AppliedManifestWorkStatusSchema),
  },
);
export type AppliedManifestWork = Static<typeof AppliedManifestWorkSchema>;

export const appliedManifestWorkCrd: CrdDefinition = {
  group: WORK_GROUP,
  kind: 'AppliedManifestWork',
  plural: 'appliedmanifestworks',
  singular: 'appliedmanifestwork',
  shortNames: [],
  categories: [],
  scope: 'Cluster',
  installOn: 'spoke',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: AppliedManifestWorkSchema,
      hasStatusSubresource: true,
    },
  ],
};

const SummarySchema = Type.Object({
  total: Type.Optional(Type.Integer()),
  progressing: Type.Optional(Type.Integer()),
  available: Type.Optional(Type.Integer()),
  degraded: Type.Optional(Type.Integer()),
  applied: Type.Optional(Type.Integer()),
  desiredTotal: Type.Optional(Type.Integer()),
  updated: Type.Optional(Type.Integer()),
});

export const ManifestWorkReplicaSetSpecSchema = Type.Object({
  manifestWorkTemplate: Type.Optional(ManifestWorkSpecSchema),
  placementRefs: Type.Array(
    Type.Object({
      name: Type.String({ minLength: 1 }),
      rolloutStrategy: Type.Optional(
        rolloutStrategySchema({ type: 'All', all: { progressDeadline: 'None' } }),
      ),
    }),
    { minItems: 1 },
  ),
  cascadeDeletionPolicy: stringEnum(['Background', 'Foreground'], { default: 'Background' }),
});
export type ManifestWorkReplicaSetSpec = Static<typeof ManifestWorkReplicaSetSpecSchema>;

export const ManifestWorkReplicaSetStatusSchema = Type.Object({
  conditions: Type.Optional(conditionList(true)),
  summary: Type.Optional(SummarySchema),
  placementSummary: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.Optional(Type.String()),
        availableDecisionGroups: Type.Optional(Type.String()),
        summary: Type.Optional(SummarySchema),
      }),
    ),
  ),
});
export type ManifestWorkReplicaSetStatus = Static<typeof ManifestWorkReplicaSetStatusSchema>;

export const ManifestWorkReplicaSetSchema = resourceSchema(
  'A ManifestWork template stamped into every cluster a placement selects.',
  {
    spec: Type.Optional(ManifestWorkReplicaSetSpecSchema),
    status: Type.Optional(ManifestWorkReplicaSetStatusSchema),
  },
);
export type ManifestWorkReplicaSet = Static<typeof ManifestWorkReplicaSetSchema>;

export const manifestWorkReplicaSetCrd: CrdDefinition = {
  group: WORK_GROUP,
  kind: 'ManifestWorkReplicaSet',
  plural: 'manifestworkreplicasets',
  singular: 'manifestworkreplicaset',
  shortNames: ['mwrs'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1alpha1',
      served: true,
      storage: true,
      schema: ManifestWorkReplicaSetSchema,
      hasStatusSubresource: true,
      printerColumns: [
        {
          name: 'Placement',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="PlacementVerified")].reason',
          description: 'Reason',
        },
        {
          name: 'Found',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="PlacementVerified")].status',
          description: 'Configured',
        },
        {
          name: 'ManifestWorks',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="ManifestworkApplied")].reason',
          description: 'Reason',
        },
        {
          name: 'Applied',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="ManifestworkApplied")].status',
          description: 'Applied',
        },
      ],
    },
  ],
};
