import type { TSchema } from 'typebox';

import { findStructuralProblems, toCrdSchema, type JsonSchema } from './structural-schema.ts';

/** Where a CRD is installed: the hub's API server or each spoke's. */
export type CrdCluster = 'hub' | 'spoke';

/** One `additionalPrinterColumns` entry (what `kubectl get` shows). */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** One served (or stored) version of a kind. */
export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  /** The whole object's schema (apiVersion, kind, metadata, spec, status, …), a TypeBox schema. */
  schema: TSchema;
  /** Whether `status` is a subresource (writes to the object ignore it, and vice versa). */
  hasStatusSubresource: boolean;
  printerColumns?: readonly PrinterColumn[];
  deprecated?: boolean;
  deprecationWarning?: string;
}

/**
 * Everything needed to install one kind: the registry entry renderCrd() turns into a
 * CustomResourceDefinition. Definitions are plain immutable data; share them freely.
 */
export interface CrdDefinition {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  categories: readonly string[];
  scope: 'Cluster' | 'Namespaced';
  /** Extra labels on the CRD object itself (e.g. the policy framework's template marker). */
  labels?: Readonly<Record<string, string>>;
  installOn: CrdCluster;
  versions: readonly CrdVersion[];
}

/** The apiextensions.k8s.io/v1 CustomResourceDefinition renderCrd() produces, as plain JSON. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: 'Cluster' | 'Namespaced';
    conversion: { strategy: 'None' };
    versions: RenderedVersion[];
  };
}

/** One entry of a rendered CRD's `spec.versions`. */
export interface RenderedVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema: { openAPIV3Schema: JsonSchema };
  subresources?: { status: Record<string, never> };
  additionalPrinterColumns?: PrinterColumn[];
}

/** The label every CRD we render carries, so that installers can find their own. */
export const CRD_PART_OF_LABEL = 'app.kubernetes.io/part-of';
const PART_OF = 'spokelink';

/** `<plural>.<group>`, the CRD's object name. */
export function crdName(def: CrdDefinition): string {
  return `${def.plural}.${def.group}`;
}

/** `<group>/<version>` of the storage version. */
export function storageApiVersion(def: CrdDefinition): string {
  const storage = def.versions.find((v) => v.storage);
  if (!storage) throw new TypeError(`${def.kind}: no storage version`);
  return `${def.group}/${storage.name}`;
}

/**
 * Renders a definition as the apiextensions.k8s.io/v1 object to apply. Conversion is `None`:
 * versions served together are field-identical (a kind whose versions differ serves only one).
 * Throws a TypeError when a schema breaks the structural-schema rules or a definition is
 * inconsistent (no or several storage versions): both are bugs in our definitions. Pure.
 */
export function renderCrd(def: CrdDefinition): CustomResourceDefinition {
  if (def.versions.filter((v) => v.storage).length !== 1) {
    throw new TypeError(`${def.kind}: exactly one version must be the storage version`);
  }
  const versions = def.versions.map((v) => renderVersion(def, v));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(def), labels: { [CRD_PART_OF_LABEL]: PART_OF, ...def.labels } },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        ...(def.shortNames.length > 0 ? { shortNames: [...def.shortNames] } : {}),
        ...(def.categories.length > 0 ? { categories: [...def.categories] } : {}),
      },
      scope: def.scope,
      conversion: { strategy: 'None' },
      versions,
    },
  };
}

function renderVersion(def: CrdDefinition, v: CrdVersion): RenderedVersion {
  const schema = toCrdSchema(v.schema, `${def.kind}.${v.name}`);
  // The API server owns metadata's schema and fills in apiVersion and kind.
  const properties = schema['properties'] as JsonSchema | undefined;
  if (properties?.['metadata'] !== undefined) properties['metadata'] = { type: 'object' };
  const required = (schema['required'] as string[] | undefined)?.filter(
    (f) => f !== 'apiVersion' && f !== 'kind',
  );
  if (required === undefined || required.length === 0) delete schema['required'];
  else schema['required'] = required;
  const problems = findStructuralProblems(schema);
  if (problems.length > 0) {
    throw new TypeError(`${def.kind} ${v.name} is not structural:\n  ${problems.join('\n  ')}`);
  }
  return {
    name: v.name,
    served: v.served,
    storage: v.storage,
    ...(v.deprecated === undefined ? {} : { deprecated: v.deprecated }),
    ...(v.deprecationWarning === undefined ? {} : { deprecationWarning: v.deprecationWarning }),
    schema: { openAPIV3Schema: schema },
    ...(v.hasStatusSubresource ? { subresources: { status: {} } } : {}),
    ...(v.printerColumns === undefined
      ? {}
      : { additionalPrinterColumns: v.printerColumns.map((c) => ({ ...c })) }),
  };
}
