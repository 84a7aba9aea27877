// policy.open-cluster-management.io/v1 ConfigurationPolicy: objects that must (or must not)
// exist on a cluster, checked and optionally enforced there.
import { Type, type Static } from 'typebox';

import type { CrdDefinition } from './crd-definition.ts';
import { POLICY_GROUP, REMEDIATION_ACTIONS } from './policy.ts';
import {
  atomicList,
  dateTime,
  freeForm,
  int64,
  LabelSelectorRequirementSchema,
  LabelSelectorSchema,
  resourceSchema,
  stringEnum,
  stringMap,
} from './schema-kit.ts';

/** How an object template is compared with the cluster (case variants as OCM accepts them). */
export const COMPLIANCE_TYPES = [
  'MustHave',
  'Musthave',
  'musthave',
  'MustOnlyHave',
  'Mustonlyhave',
  'mustonlyhave',
  'MustNotHave',
  'Mustnothave',
  'mustnothave',
] as const;
export type ComplianceType = (typeof COMPLIANCE_TYPES)[number];
/** How labels and annotations are compared (defaults to the template's complianceType). */
export const METADATA_COMPLIANCE_TYPES = [
  'MustHave',
  'Musthave',
  'musthave',
  'MustOnlyHave',
  'Mustonlyhave',
  'mustonlyhave',
] as const;
export const SEVERITIES = [
  'low',
  'Low',
  'medium',
  'Medium',
  'high',
  'High',
  'critical',
  'Critical',
] as const;
export const CONFIGURATION_COMPLIANCE_STATES = [
  'Compliant',
  'Pending',
  'NonCompliant',
  'Terminating',
] as const;

/** A Go duration, `watch` or `never`. */
const INTERVAL_PATTERN =
  '^(?:(?:(?:[0-9]+(?:.[0-9])?)(?:h|m|s|(?:ms)|(?:us)|(?:ns)))|never|watch)+$';

export const ObjectTemplateSchema = Type.Object({
  complianceType: stringEnum(COMPLIANCE_TYPES),
  metadataComplianceType: Type.Optional(stringEnum(METADATA_COMPLIANCE_TYPES)),
  objectDefinition: freeForm({ description: 'The object (possibly partial) to compare.' }),
  objectSelector: Type.Optional(LabelSelectorSchema),
  recordDiff: Type.Optional(stringEnum(['Log', 'InStatus', 'None'])),
  recreateOption: Type.Optional(stringEnum(['None', 'IfRequired', 'Always'], { default: 'None' })),
});
export type ObjectTemplate = Static<typeof ObjectTemplateSchema>;

export const ConfigurationPolicySpecSchema = Type.Object(
  {
    remediationAction: stringEnum(REMEDIATION_ACTIONS, { default: 'inform' }),
    severity: Type.Optional(stringEnum(SEVERITIES)),
    namespaceSelector: Type.Optional(
      Type.Object(
        {
          include: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          exclude: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          matchLabels: Type.Optional(stringMap()),
          matchExpressions: Type.Optional(atomicList(LabelSelectorRequirementSchema)),
          terminatingInclusion: Type.Optional(
            stringEnum(['IfMatch', 'Never', 'Default'], { default: 'Default' }),
          ),
        },
        { 'x-kubernetes-map-type': 'atomic' },
      ),
    ),
    'object-templates': Type.Optional(Type.Array(ObjectTemplateSchema)),
    'object-templates-raw': Type.Optional(
      Type.String({ description: 'A Go template rendering to a list of object templates.' }),
    ),
    pruneObjectBehavior: Type.Optional(
      stringEnum(['DeleteAll', 'DeleteIfCreated', 'None'], { default: 'None' }),
    ),
    evaluationInterval: Type.Optional(
      Type.Object({
        compliant: Type.Optional(Type.String({ pattern: INTERVAL_PATTERN })),
        noncompliant: Type.Optional(Type.String({ pattern: INTERVAL_PATTERN })),
      }),
    ),
    customMessage: Type.Optional(
      Type.Object({
        compliant: Type.Optional(Type.String()),
        noncompliant: Type.Optional(Type.String()),
      }),
    ),
  },
  { oneOf: [{ required: ['object-templates'] }, { required: ['object-templates-raw'] }] },
);
export type ConfigurationPolicySpec = Static<typeof ConfigurationPolicySpecSchema>;

export const RelatedObjectSchema = Type.Object({
  object: Type.Optional(
    Type.Object({
      apiVersion: Type.Optional(Type.String()),
      kind: Type.Optional(Type.String()),
      metadata: Type.Optional(
        Type.Object({
          name: Type.Optional(Type.String()),
          namespace: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
  compliant: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  properties: Type.Optional(
    Type.Object({
      createdByPolicy: Type.Optional(Type.Boolean()),
      uid: Type.Optional(Type.String()),
      diff: Type.Optional(Type.String()),
      matchesAfterDryRun: Type.Optional(Type.Boolean()),
    }),
  ),
});
export type RelatedObject = Static<typeof RelatedObjectSchema>;

export const ConfigurationPolicyStatusSchema = Type.Object({
  compliant: Type.Optional(stringEnum(CONFIGURATION_COMPLIANCE_STATES)),
  compliancyDetails: Type.Optional(
    Type.Array(
      Type.Object({
        // Capitalised on the wire.
        Compliant: Type.Optional(stringEnum(CONFIGURATION_COMPLIANCE_STATES)),
        Validity: Type.Optional(
          Type.Object({
            valid: Type.Optional(Type.Boolean()),
            reason: Type.Optional(Type.String()),
          }),
        ),
        conditions: Type.Optional(
          Type.Array(
            Type.Object({
              type: Type.String({ description: 'violation or notification' }),
              status: Type.Optional(Type.String()),
              reason: Type.Optional(Type.String()),
              message: Type.Optional(Type.String()),
              lastTransitionTime: Type.Optional(dateTime()),
            }),
          ),
        ),
      }),
    ),
  ),
  relatedObjects: Type.Optional(Type.Array(RelatedObjectSchema)),
  history: Type.Optional(
    Type.Array(
      Type.Object({
        lastTimestamp: Type.Optional(dateTime()),
        message: Type.Optional(Type.String()),
      }),
    ),
  ),
  lastEvaluated: Type.Optional(Type.String()),
  lastEvaluatedGeneration: Type.Optional(int64()),
});
export type ConfigurationPolicyStatus = Static<typeof ConfigurationPolicyStatusSchema>;

export const ConfigurationPolicySchema = resourceSchema(
  'Objects that must, must only, or must not exist on the cluster.',
  {
    spec: ConfigurationPolicySpecSchema,
    status: Type.Optional(ConfigurationPolicyStatusSchema),
  },
);
export type ConfigurationPolicy = Static<typeof ConfigurationPolicySchema>;

export const configurationPolicyCrd: CrdDefinition = {
  group: POLICY_GROUP,
  kind: 'ConfigurationPolicy',
  plural: 'configurationpolicies',
  singular: 'configurationpolicy',
  shortNames: [],
  categories: [],
  scope: 'Namespaced',
  // The policy framework creates only kinds whose CRD carries this label.
  labels: { 'policy.open-cluster-management.io/policy-type': 'template' },
  installOn: 'hub',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: ConfigurationPolicySchema,
      hasStatusSubresource: true,
      printerColumns: [{ name: 'Compliance state', type: 'string', jsonPath: '.status.compliant' }],
    },
  ],
};
