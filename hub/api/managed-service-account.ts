// authentication.open-cluster-management.io ManagedServiceAccount: v1beta1 stored, v1alpha1
// still served (deprecated). The two versions are field-identical, so one schema serves both
// and conversion is None.
import { Type, type Static } from 'typebox';

import type { CrdDefinition } from './crd-definition.ts';
import { conditionList, dateTime, int32, resourceSchema } from './schema-kit.ts';

/** The API group of ManagedServiceAccount. */
export const AUTHENTICATION_GROUP = 'authentication.open-cluster-management.io';

export const ManagedServiceAccountSpecSchema = Type.Object({
  rotation: Type.Object(
    {
      enabled: Type.Optional(
        Type.Boolean({ default: true, description: 'Deprecated: tokens always rotate.' }),
      ),
      validity: Type.Optional(
        Type.String({ default: '8640h0m0s', description: 'Requested token lifetime (duration).' }),
      ),
    },
    { description: 'Token rotation; {} takes the defaults.' },
  ),
  ttlSecondsAfterCreation: Type.Optional(
    int32({ exclusiveMinimum: 0, description: 'Delete the account this long after creation.' }),
  ),
});
export type ManagedServiceAccountSpec = Static<typeof ManagedServiceAccountSpecSchema>;

export const ManagedServiceAccountStatusSchema = Type.Object({
  conditions: Type.Optional(conditionList(false)),
  expirationTimestamp: Type.Optional(dateTime()),
  tokenSecretRef: Type.Optional(
    Type.Object({
      name: Type.String({ description: 'Hub Secret holding the token; named after the account.' }),
      lastRefreshTimestamp: dateTime(),
    }),
  ),
});
export type ManagedServiceAccountStatus = Static<typeof ManagedServiceAccountStatusSchema>;

export const ManagedServiceAccountSchema = resourceSchema(
  'A ServiceAccount on the cluster of this namespace whose token is kept in a hub Secret.',
  {
    spec: Type.Optional(ManagedServiceAccountSpecSchema),
    status: Type.Optional(ManagedServiceAccountStatusSchema),
  },
);
export type ManagedServiceAccount = Static<typeof ManagedServiceAccountSchema>;

export const managedServiceAccountCrd: CrdDefinition = {
  group: AUTHENTICATION_GROUP,
  kind: 'ManagedServiceAccount',
  plural: 'managedserviceaccounts',
  singular: 'managedserviceaccount',
  shortNames: [],
  categories: [],
  scope: 'Namespaced',
  installOn: 'hub',
  versions: [
    {
      name: 'v1alpha1',
      served: true,
      storage: false,
      schema: ManagedServiceAccountSchema,
      hasStatusSubresource: true,
      deprecated: true,
      deprecationWarning:
        'authentication.open-cluster-management.io/v1alpha1 ManagedServiceAccount is deprecated; use authentication.open-cluster-management.io/v1beta1 ManagedServiceAccount',
    },
    {
      name: 'v1beta1',
      served: true,
      storage: true,
      schema: ManagedServiceAccountSchema,
      hasStatusSubresource: true,
    },
  ],
};
