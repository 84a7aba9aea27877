// addon.open-cluster-management.io/v1alpha1: ClusterManagementAddOn and ManagedClusterAddOn.
// OCM also serves v1beta1 (renamed and reshaped fields) through a conversion webhook; without a
// webhook the two cannot share storage, so only v1alpha1, OCM's storage version, is served.
import { Type, type Static } from 'typebox';

import type { CrdDefinition } from './crd-definition.ts';
import { rolloutStrategySchema } from './rollout-strategy.ts';
import {
  conditionList,
  DNS1123_LABEL_PATTERN,
  int64,
  listMap,
  resourceSchema,
  stringEnum,
} from './schema-kit.ts';

/** The API group of add-ons. */
export const ADDON_GROUP = 'addon.open-cluster-management.io';

const AddOnMetaSchema = Type.Object({
  displayName: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
});

/** Deprecated in OCM but still in the schema. */
const AddOnConfigurationSchema = Type.Object({
  crdName: Type.Optional(Type.String()),
  crName: Type.Optional(Type.String()),
  lastObservedGeneration: Type.Optional(int64()),
});

const configGroup = () => Type.Optional(Type.String({ default: '' }));

/** A config object of some resource type, by name. */
export const AddOnConfigSchema = Type.Object({
  group: configGroup(),
  resource: Type.String({ minLength: 1 }),
  namespace: Type.Optional(Type.String()),
  name: Type.String({ minLength: 1 }),
});
export type AddOnConfig = Static<typeof AddOnConfigSchema>;

const ConfigSpecHashSchema = Type.Object({
  namespace: Type.Optional(Type.String()),
  name: Type.String({ minLength: 1 }),
  specHash: Type.Optional(Type.String()),
});

export const ClusterManagementAddOnSpecSchema = Type.Object({
  addOnMeta: Type.Optional(AddOnMetaSchema),
  addOnConfiguration: Type.Optional(AddOnConfigurationSchema),
  supportedConfigs: Type.Optional(
    listMap(
      Type.Object({
        group: configGroup(),
        resource: Type.String({ minLength: 1 }),
        defaultConfig: Type.Optional(
          Type.Object({
            namespace: Type.Optional(Type.String()),
            name: Type.String({ minLength: 1 }),
          }),
        ),
      }),
      ['group', 'resource'],
    ),
  ),
  installStrategy: Type.Optional(
    Type.Object(
      {
        type: Type.Optional(stringEnum(['Manual', 'Placements'], { default: 'Manual' })),
        placements: Type.Optional(
          listMap(
            Type.Object({
              namespace: Type.String({ minLength: 1 }),
              name: Type.String({ minLength: 1 }),
              configs: Type.Optional(Type.Array(AddOnConfigSchema)),
              rolloutStrategy: Type.Optional(rolloutStrategySchema({ type: 'All' })),
            }),
            ['namespace', 'name'],
          ),
        ),
      },
      { default: { type: 'Manual' } },
    ),
  ),
});
export type ClusterManagementAddOnSpec = Static<typeof ClusterManagementAddOnSpecSchema>;

export const ClusterManagementAddOnStatusSchema = Type.Object({
  // Lower-case "c" on the wire in v1alpha1.
  defaultconfigReferences: Type.Optional(
    Type.Array(
      Type.Object({
        group: configGroup(),
        resource: Type.String({ minLength: 1 }),
        desiredConfig: Type.Optional(ConfigSpecHashSchema),
      }),
    ),
  ),
  installProgressions: Type.Optional(
    Type.Array(
      Type.Object({
        namespace: Type.String({ minLength: 1 }),
        name: Type.String({ minLength: 1 }),
        configReferences: Type.Optional(
          Type.Array(
            Type.Object({
              group: configGroup(),
              resource: Type.String({ minLength: 1 }),
              desiredConfig: Type.Optional(ConfigSpecHashSchema),
              lastAppliedConfig: Type.Optional(ConfigSpecHashSchema),
              lastKnownGoodConfig: Type.Optional(ConfigSpecHashSchema),
            }),
          ),
        ),
        conditions: Type.Optional(conditionList(true)),
      }),
    ),
  ),
});
export type ClusterManagementAddOnStatus = Static<typeof ClusterManagementAddOnStatusSchema>;

export const ClusterManagementAddOnSchema = resourceSchema(
  'An add-on the hub offers; its name is the add-on name.',
  {
    spec: ClusterManagementAddOnSpecSchema,
    status: Type.Optional(ClusterManagementAddOnStatusSchema),
  },
);
export type ClusterManagementAddOn = Static<typeof ClusterManagementAddOnSchema>;

export const clusterManagementAddOnCrd: CrdDefinition = {
  group: ADDON_GROUP,
  kind: 'ClusterManagementAddOn',
  plural: 'clustermanagementaddons',
  singular: 'clustermanagementaddon',
  shortNames: ['cma', 'cmas'],
  categories: [],
  scope: 'Cluster',
  installOn: 'hub',
  versions: [
    {
      name: 'v1alpha1',
      served: true,
      storage: true,
      schema: ClusterManagementAddOnSchema,
      hasStatusSubresource: true,
      printerColumns: [
        { name: 'DISPLAY NAME', type: 'string', jsonPath: '.spec.addOnMeta.displayName' },
        { name: 'CRD NAME', type: 'string', jsonPath: '.spec.addOnConfiguration.crdName' },
      ],
    },
  ],
};

export const ManagedClusterAddOnSpecSchema = Type.Object({
  installNamespace: Type.Optional(
    Type.String({
      default: 'open-cluster-management-agent-addon',
      maxLength: 63,
      pattern: DNS1123_LABEL_PATTERN,
      description: 'Namespace on the managed cluster for the add-on agent.',
    }),
  ),
  configs: Type.Optional(Type.Array(AddOnConfigSchema)),
});
export type ManagedClusterAddOnSpec = Static<typeof ManagedClusterAddOnSpecSchema>;

export const ManagedClusterAddOnStatusSchema = Type.Object({
  conditions: Type.Optional(conditionList(true)),
  relatedObjects: Type.Optional(
    Type.Array(
      Type.Object({
        group: Type.String(),
        resource: Type.String(),
        namespace: Type.Optional(Type.String()),
        name: Type.String(),
      }),
    ),
  ),
  addOnMeta: Type.Optional(AddOnMetaSchema),
  addOnConfiguration: Type.Optional(AddOnConfigurationSchema),
  supportedConfigs: Type.Optional(
    listMap(Type.Object({ group: configGroup(), resource: Type.String({ minLength: 1 }) }), [
      'group',
      'resource',
    ]),
  ),
  configReferences: Type.Optional(
    Type.Array(
      Type.Object({
        group: configGroup(),
        resource: Type.String({ minLength: 1 }),
        namespace: Type.Optional(Type.String()),
        name: Type.String({ minLength: 1 }),
        lastObservedGeneration: Type.Optional(int64()),
        desiredConfig: Type.Optional(ConfigSpecHashSchema),
        lastAppliedConfig: Type.Optional(ConfigSpecHashSchema),
      }),
    ),
  ),
  namespace: Type.Optional(Type.String()),
  registrations: Type.Optional(
    Type.Array(
      Type.Object({
        signerName: Type.String({
          minLength: 5,
          maxLength: 571,
          pattern: '^([a-z0-9][a-z0-9-]*[a-z0-9]\\.)+[a-z]+\\/[a-z0-9-\\.]+$',
        }),
        subject: Type.Optional(
          Type.Object({
            user: Type.Optional(Type.String()),
            groups: Type.Optional(Type.Array(Type.String())),
            organizationUnit: Type.Optional(Type.Array(Type.String())),
          }),
        ),
      }),
    ),
  ),
  healthCheck: Type.Optional(
    Type.Object({
      mode: Type.Optional(stringEnum(['Lease', 'Customized'], { default: 'Lease' })),
    }),
  ),
  kubeClientDriver: Type.Optional(stringEnum(['csr', 'token'])),
});
export type ManagedClusterAddOnStatus = Static<typeof ManagedClusterAddOnStatusSchema>;

export const ManagedClusterAddOnSchema = resourceSchema(
  'An add-on enabled on the cluster of this namespace; its name is the add-on name.',
  {
    spec: ManagedClusterAddOnSpecSchema,
    status: Type.Optional(ManagedClusterAddOnStatusSchema),
  },
);
export type ManagedClusterAddOn = Static<typeof ManagedClusterAddOnSchema>;

export const managedClusterAddOnCrd: CrdDefinition = {
  group: ADDON_GROUP,
  kind: 'ManagedClusterAddOn',
  plural: 'managedclusteraddons',
  singular: 'managedclusteraddon',
  shortNames: ['mca', 'mcas'],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1alpha1',
      served: true,
      storage: true,
      schema: ManagedClusterAddOnSchema,
      hasStatusSubresource: true,
      printerColumns: [
        {
          name: 'Available',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Available")].status',
        },
        {
          name: 'Degraded',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Degraded")].status',
        },
        {
          name: 'Progressing',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Progressing")].status',
        },
      ],
    },
  ],
};
