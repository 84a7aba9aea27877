// cluster.open-cluster-management.io/v1beta1 Placement and PlacementDecision.
import { Type, type Static } from 'typebox';

import { CLUSTER_GROUP, TAINT_EFFECTS } from './cluster.ts';
import type { CrdDefinition } from './crd-definition.ts';
import {
  atomicList,
  conditionList,
  dateTime,
  int32,
  int64,
  intOrString,
  LabelSelectorSchema,
  QUALIFIED_NAME_PATTERN,
  resourceSchema,
  stringEnum,
} from './schema-kit.ts';

/** Selects clusters by their claims (`status.clusterClaims`), like a label selector. */
export const ClaimSelectorSchema = Type.Object({
  matchExpressions: Type.Optional(
    Type.Array(
      Type.Object({
        key: Type.String(),
        operator: Type.String(),
        values: Type.Optional(atomicList(Type.String())),
      }),
    ),
  ),
});
export type ClaimSelector = Static<typeof ClaimSelectorSchema>;

export const ClusterPredicateSchema = Type.Object({
  requiredClusterSelector: Type.Optional(
    Type.Object({
      labelSelector: Type.Optional(LabelSelectorSchema),
      claimSelector: Type.Optional(ClaimSelectorSchema),
      celSelector: Type.Optional(
        Type.Object({ celExpressions: Type.Optional(Type.Array(Type.String())) }),
      ),
    }),
  ),
});
export type ClusterPredicate = Static<typeof ClusterPredicateSchema>;

export const PRIORITIZER_MODES = ['Additive', 'Exact'] as const;
export const SCORE_COORDINATE_TYPES = ['BuiltIn', 'AddOn'] as const;
/** Built-in prioritizers a BuiltIn score coordinate names (the schema does not enforce them). */
export const BUILTIN_PRIORITIZERS = [
  'Balance',
  'Steady',
  'ResourceAllocatableCPU',
  'ResourceAllocatableMemory',
  'Spread',
] as const;

export const PrioritizerConfigSchema = Type.Object({
  scoreCoordinate: Type.Object({
    type: stringEnum(SCORE_COORDINATE_TYPES, { default: 'BuiltIn' }),
    builtIn: Type.Optional(Type.String()),
    addOn: Type.Optional(Type.Object({ resourceName: Type.String(), scoreName: Type.String() })),
  }),
  weight: Type.Optional(int32({ default: 1, minimum: -10, maximum: 10 })),
});

export const TolerationSchema = Type.Object({
  key: Type.Optional(Type.String({ maxLength: 316, pattern: QUALIFIED_NAME_PATTERN })),
  operator: Type.Optional(Type.String({ default: 'Equal', description: 'Equal or Exists.' })),
  value: Type.Optional(Type.String({ maxLength: 1024 })),
  effect: Type.Optional(stringEnum(TAINT_EFFECTS)),
  tolerationSeconds: Type.Optional(int64()),
});
export type Toleration = Static<typeof TolerationSchema>;

export const SpreadConstraintSchema = Type.Object({
  topologyKey: Type.String({ maxLength: 316, pattern: QUALIFIED_NAME_PATTERN }),
  topologyKeyType: stringEnum(['Label', 'Claim']),
  maxSkew: Type.Optional(int32({ default: 1, minimum: 1 })),
  whenUnsatisfiable: Type.Optional(
    stringEnum(['DoNotSchedule', 'ScheduleAnyway'], { default: 'ScheduleAnyway' }),
  ),
});

export const DecisionGroupSchema = Type.Object({
  groupName: Type.String({ pattern: '^[a-zA-Z0-9][-A-Za-z0-9_.]{0,61}[a-zA-Z0-9]$' }),
  groupClusterSelector: Type.Object({
    labelSelector: Type.Optional(LabelSelectorSchema),
    claimSelector: Type.Optional(ClaimSelectorSchema),
  }),
});

export const PlacementSpecSchema = Type.Object({
  clusterSets: Type.Optional(Type.Array(Type.String())),
  numberOfClusters: Type.Optional(int32({ description: 'Unset selects every match.' })),
  predicates: Type.Optional(Type.Array(ClusterPredicateSchema, { description: 'ORed.' })),
  prioritizerPolicy: Type.Optional(
    Type.Object({
      // OCM's schema defaults the mode but does not enumerate it.
      mode: Type.Optional(Type.String({ default: 'Additive', description: 'Additive or Exact.' })),
      configurations: Type.Optional(Type.Array(PrioritizerConfigSchema)),
    }),
  ),
  spreadPolicy: Type.Optional(
    Type.Object({
      spreadConstraints: Type.Optional(Type.Array(SpreadConstraintSchema, { maxItems: 8 })),
    }),
  ),
  tolerations: Type.Optional(Type.Array(TolerationSchema)),
  decisionStrategy: Type.Optional(
    Type.Object({
      groupStrategy: Type.Optional(
        Type.Object({
          decisionGroups: Type.Optional(Type.Array(DecisionGroupSchema)),
          clustersPerDecisionGroup: Type.Optional(
            intOrString({ default: '100%', pattern: '^((100|[1-9][0-9]{0,1})%|[1-9][0-9]*)$' }),
          ),
        }),
      ),
    }),
  ),
  sortBy: Type.Optional(stringEnum(['ClusterName', 'Score'], { default: 'ClusterName' })),
  scoreRateLimit: Type.Optional(Type.String({ default: '1m', pattern: '^[0-9]+[hms]$' })),
});
export type PlacementSpec = Static<typeof PlacementSpecSchema>;

export const PlacementStatusSchema = Type.Object({
  numberOfSelectedClusters: Type.Optional(int32()),
  decisionGroups: Type.Optional(
    Type.Array(
      Type.Object({
        decisionGroupIndex: Type.Optional(int32()),
        decisionGroupName: Type.Optional(Type.String()),
        decisions: Type.Optional(Type.Array(Type.String())),
        clusterCount: Type.Optional(int32({ default: 0 })),
      }),
    ),
  ),
  conditions: Type.Optional(conditionList(true)),
  lastScoreUpdateTime: Type.Optional(dateTime()),
});
export type PlacementStatus = Static<typeof PlacementStatusSchema>;

export const PlacementSchema = resourceSchema('Chooses managed clusters from bound cluster sets.', {
  spec: PlacementSpecSchema,
  status: Type.Optional(PlacementStatusSchema),
});
export type Placement = Static<typeof PlacementSchema>;

export const placementCrd: CrdDefinition = {
  group: CLUSTER_GROUP,
  kind: 'Placement',
  plural: 'placements',
  singular: 'placement',
  shortNames: [],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1beta1',
      served: true,
      storage: true,
      schema: PlacementSchema,
      hasStatusSubresource: true,
      printerColumns: [
        {
          name: 'Succeeded',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="PlacementSatisfied")].status',
        },
        {
          name: 'Reason',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="PlacementSatisfied")].reason',
        },
        { name: 'SelectedClusters', type: 'integer', jsonPath: '.status.numberOfSelectedClusters' },
      ],
    },
  ],
};

export const ClusterDecisionSchema = Type.Object({
  clusterName: Type.String(),
  reason: Type.String(),
  score: Type.Optional(int64()),
});
export type ClusterDecision = Static<typeof ClusterDecisionSchema>;

export const PlacementDecisionStatusSchema = Type.Object({
  decisions: Type.Array(ClusterDecisionSchema),
});
export type PlacementDecisionStatus = Static<typeof PlacementDecisionStatusSchema>;

export const PlacementDecisionSchema = resourceSchema(
  'One page (at most 100) of the clusters a placement chose.',
  { status: Type.Optional(PlacementDecisionStatusSchema) },
);
export type PlacementDecision = Static<typeof PlacementDecisionSchema>;

export const placementDecisionCrd: CrdDefinition = {
  group: CLUSTER_GROUP,
  kind: 'PlacementDecision',
  plural: 'placementdecisions',
  singular: 'placementdecision',
  shortNames: [],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1beta1',
      served: true,
      storage: true,
      schema: PlacementDecisionSchema,
      hasStatusSubresource: true,
    },
  ],
};
