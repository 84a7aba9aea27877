// policy.open-cluster-management.io: Policy and PlacementBinding (v1), PolicySet (v1beta1).
import { Type, type Static, type TSchemaOptions } from 'typebox';

import type { CrdDefinition } from './crd-definition.ts';
import { dateTime, freeForm, ObjectMetaSchema, resourceSchema, stringEnum } from './schema-kit.ts';

/** The API group of the policy framework. */
export const POLICY_GROUP = 'policy.open-cluster-management.io';

export const REMEDIATION_ACTIONS = ['Inform', 'inform', 'Enforce', 'enforce'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];
export const COMPLIANCE_STATES = ['Compliant', 'Pending', 'NonCompliant'] as const;
export type ComplianceState = (typeof COMPLIANCE_STATES)[number];

/** Templates of these kinds live in the cluster namespace: a dependency on them names none. */
const dependencyNamespaceRule: TSchemaOptions = {
  oneOf: [
    {
      properties: {
        kind: { enum: ['CertificatePolicy', 'ConfigurationPolicy'] },
        namespace: { maxLength: 0 },
      },
    },
    { not: { properties: { kind: { pattern: '^(?:(?:Certificate|Configuration)Policy)$' } } } },
  ],
};

export const PolicyDependencySchema = Type.Object(
  {
    apiVersion: Type.String(),
    kind: Type.String(),
    name: Type.String(),
    namespace: Type.Optional(Type.String()),
    compliance: stringEnum(COMPLIANCE_STATES),
  },
  dependencyNamespaceRule,
);
export type PolicyDependency = Static<typeof PolicyDependencySchema>;

export const PolicyTemplateSchema = Type.Object({
  objectDefinition: freeForm({ description: 'The policy object, e.g. a ConfigurationPolicy.' }),
  extraDependencies: Type.Optional(Type.Array(PolicyDependencySchema)),
  ignorePending: Type.Optional(Type.Boolean()),
});
export type PolicyTemplate = Static<typeof PolicyTemplateSchema>;

export const PolicySpecSchema = Type.Object({
  disabled: Type.Boolean(),
  remediationAction: Type.Optional(
    stringEnum(REMEDIATION_ACTIONS, { description: 'Overrides every template when set.' }),
  ),
  'policy-templates': Type.Array(PolicyTemplateSchema),
  dependencies: Type.Optional(Type.Array(PolicyDependencySchema)),
  copyPolicyMetadata: Type.Optional(Type.Boolean()),
  hubTemplateOptions: Type.Optional(
    Type.Object({ serviceAccountName: Type.Optional(Type.String()) }),
  ),
});
export type PolicySpec = Static<typeof PolicySpecSchema>;

export const PolicyStatusSchema = Type.Object({
  compliant: Type.Optional(stringEnum(COMPLIANCE_STATES)),
  placement: Type.Optional(
    Type.Array(
      Type.Object({
        placementBinding: Type.Optional(Type.String()),
        placement: Type.Optional(Type.String()),
        placementRule: Type.Optional(Type.String()),
        policySet: Type.Optional(Type.String()),
        decisions: Type.Optional(
          Type.Array(
            Type.Object({
              clusterName: Type.Optional(Type.String()),
              clusterNamespace: Type.Optional(Type.String()),
            }),
          ),
        ),
        exclusions: Type.Optional(
          Type.Array(Type.Object({ clusterName: Type.Optional(Type.String()) })),
        ),
      }),
    ),
  ),
  status: Type.Optional(
    Type.Array(
      Type.Object({
        clustername: Type.Optional(Type.String()),
        clusternamespace: Type.Optional(Type.String()),
        compliant: Type.Optional(stringEnum(COMPLIANCE_STATES)),
        remainingBindings: Type.Optional(
          Type.Array(Type.Object({ placementBinding: Type.Optional(Type.String()) })),
        ),
      }),
    ),
  ),
  details: Type.Optional(
    Type.Array(
      Type.Object({
        compliant: Type.Optional(stringEnum(COMPLIANCE_STATES)),
        templateMeta: Type.Optional(freeForm()),
        history: Type.Optional(
          Type.Array(
            Type.Object({
              lastTimestamp: Type.Optional(dateTime()),
              message: Type.Optional(Type.String()),
              eventName: Type.Optional(Type.String()),
            }),
          ),
        ),
      }),
    ),
  ),
});
export type PolicyStatus = Static<typeof PolicyStatusSchema>;

export const PolicySchema = resourceSchema('Policy templates to enforce or check on clusters.', {
  metadata: ObjectMetaSchema,
  spec: PolicySpecSchema,
  status: Type.Optional(PolicyStatusSchema),
});
export type Policy = Static<typeof PolicySchema>;

export const policyCrd: CrdDefinition = {
  group: POLICY_GROUP,
  kind: 'Policy',
  plural: 'policies',
  singular: 'policy',
  shortNames: ['plc'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: PolicySchema,
      hasStatusSubresource: true,
      printerColumns: [
        { name: 'Remediation action', type: 'string', jsonPath: '.spec.remediationAction' },
        { name: 'Compliance state', type: 'string', jsonPath: '.status.compliant' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  ],
};

export const PlacementRefSchema = Type.Object(
  {
    apiGroup: stringEnum(
      ['apps.open-cluster-management.io', 'cluster.open-cluster-management.io'],
      {
        minLength: 1,
      },
    ),
    kind: stringEnum(['PlacementRule', 'Placement'], { minLength: 1 }),
    name: Type.String({ minLength: 1 }),
  },
  {
    oneOf: [
      {
        properties: {
          apiGroup: { enum: ['cluster.open-cluster-management.io'] },
          kind: { enum: ['Placement'] },
        },
      },
      {
        properties: {
          apiGroup: { enum: ['apps.open-cluster-management.io'] },
          kind: { enum: ['PlacementRule'] },
        },
      },
    ],
  },
);
export type PlacementRef = Static<typeof PlacementRefSchema>;

export const PlacementSubjectSchema = Type.Object({
  apiGroup: stringEnum([POLICY_GROUP], { minLength: 1 }),
  kind: stringEnum(['Policy', 'PolicySet'], { minLength: 1 }),
  name: Type.String({ minLength: 1 }),
});
export type PlacementSubject = Static<typeof PlacementSubjectSchema>;

/** PlacementBinding has no spec: its fields sit at the top level. */
export const PlacementBindingSchema = resourceSchema(
  'Binds policies or policy sets to a placement in the same namespace.',
  {
    placementRef: PlacementRefSchema,
    subjects: Type.Array(PlacementSubjectSchema, { minItems: 1 }),
    bindingOverrides: Type.Optional(
      Type.Object({ remediationAction: Type.Optional(stringEnum(['Enforce', 'enforce'])) }),
    ),
    subFilter: Type.Optional(stringEnum(['restricted'])),
    status: Type.Optional(Type.Object({})),
  },
);
export type PlacementBinding = Static<typeof PlacementBindingSchema>;

export const placementBindingCrd: CrdDefinition = {
  group: POLICY_GROUP,
  kind: 'PlacementBinding',
  plural: 'placementbindings',
  singular: 'placementbinding',
  shortNames: ['pb'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: PlacementBindingSchema,
      hasStatusSubresource: true,
    },
  ],
};

export const PolicySetSpecSchema = Type.Object({
  description: Type.Optional(Type.String()),
  policies: Type.Array(Type.String({ minLength: 1 }), { description: 'Policy names.' }),
  exclusions: Type.Optional(
    Type.Array(
      Type.Object({
        policyName: Type.String({ minLength: 1 }),
        clusterNames: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
        reason: Type.Optional(Type.String()),
      }),
    ),
  ),
});
export type PolicySetSpec = Static<typeof PolicySetSpecSchema>;

export const PolicySetStatusSchema = Type.Object({
  compliant: Type.Optional(stringEnum(COMPLIANCE_STATES)),
  placement: Type.Optional(
    Type.Array(
      Type.Object({
        placementBinding: Type.Optional(Type.String()),
        placement: Type.Optional(Type.String()),
        placementRule: Type.Optional(Type.String()),
      }),
    ),
  ),
  exclusions: Type.Optional(
    Type.Array(
      Type.Object({
        policyName: Type.String({ minLength: 1 }),
        clusters: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      }),
    ),
  ),
  statusMessage: Type.Optional(Type.String()),
});
export type PolicySetStatus = Static<typeof PolicySetStatusSchema>;

export const PolicySetSchema = resourceSchema('A named group of policies in one namespace.', {
  spec: PolicySetSpecSchema,
  status: Type.Optional(PolicySetStatusSchema),
});
export type PolicySet = Static<typeof PolicySetSchema>;

export const policySetCrd: CrdDefinition = {
  group: POLICY_GROUP,
  kind: 'PolicySet',
  plural: 'policysets',
  singular: 'policyset',
  shortNames: ['plcset'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1beta1',
      served: true,
      storage: true,
      schema: PolicySetSchema,
      hasStatusSubresource: true,
      printerColumns: [
        { name: 'Compliance state', type: 'string', jsonPath: '.status.compliant' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  ],
};
