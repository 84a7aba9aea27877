// Building blocks for OCM kinds: TypeBox schemas that are at the same time JSON Schema for
// runtime checks (Value.Check) and, through renderCrd(), Kubernetes structural schemas.
// Only the shapes the API server accepts are built here: no `const`, no unions with a
// `type` inside, maps through `additionalProperties`, int-or-string through the Kubernetes
// extension. Two spellings differ between JSON Schema 2020-12 and OpenAPI v3.0 and are
// translated by renderCrd(): `type: [T, 'null']` becomes `nullable: true`, and a numeric
// `exclusiveMinimum` becomes `minimum` + `exclusiveMinimum: true`.
import {
  Type,
  type Static,
  type TProperties,
  type TSchema,
  type TSchemaOptions,
  type TUnsafe,
} from 'typebox';

/** Kubernetes qualified name: an optional DNS-subdomain prefix and `/`, then a name. */
export const QUALIFIED_NAME_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';
/** DNS-1123 label (namespace names). */
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 subdomain (most object names). */
export const DNS1123_SUBDOMAIN_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$';
/** resource.Quantity in its string form (`100m`, `4Gi`, `1e3`). */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
/** metav1.Condition reason: CamelCase-ish, no spaces. */
export const CONDITION_REASON_PATTERN = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';

/** A string restricted to `values`; the TS type is their union. */
export function stringEnum<const V extends readonly string[]>(
  values: V,
  options: TSchemaOptions = {},
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A string-to-string map (labels, annotations, matchLabels). */
export function stringMap(options: TSchemaOptions = {}): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    ...options,
    type: 'object',
    additionalProperties: { type: 'string' },
  });
}

/** intstr.IntOrString: an integer or a string (e.g. `3` or `"30%"`). */
export function intOrString(options: TSchemaOptions = {}): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    ...options,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
  });
}

/** A map of resource name to resource.Quantity (capacity, allocatable). */
export function quantityMap(
  options: TSchemaOptions = {},
): TUnsafe<Record<string, number | string>> {
  return Type.Unsafe<Record<string, number | string>>({
    ...options,
    type: 'object',
    additionalProperties: {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: QUANTITY_PATTERN,
    },
  });
}

/** An RFC 3339 time as the API server writes it (metav1.Time). */
export function dateTime(options: TSchemaOptions = {}) {
  return Type.String({ ...options, format: 'date-time' });
}

/** A metav1.Time that may be `null` (a pointer in Go). */
export function nullableDateTime(options: TSchemaOptions = {}): TUnsafe<string | null> {
  return Type.Unsafe<string | null>({ ...options, type: ['string', 'null'], format: 'date-time' });
}

/** int32 (Go `int32`). */
export function int32(options: TSchemaOptions = {}) {
  return Type.Integer({ ...options, format: 'int32' });
}

/** int64 (Go `int64`). */
export function int64(options: TSchemaOptions = {}) {
  return Type.Integer({ ...options, format: 'int64' });
}

/** Free-form JSON object kept as written (`x-kubernetes-preserve-unknown-fields`). */
export function freeForm(options: TSchemaOptions = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    ...options,
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
  });
}

/** A complete Kubernetes object carried inside another (a ManifestWork manifest). */
export interface EmbeddedObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * A complete Kubernetes object embedded in a field: the API server validates its apiVersion,
 * kind and metadata and keeps every other field.
 */
export function embeddedObject(options: TSchemaOptions = {}): TUnsafe<EmbeddedObject> {
  return Type.Unsafe<EmbeddedObject>({
    ...options,
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
    },
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-embedded-resource': true,
  });
}

/** A list merged by key (`x-kubernetes-list-type: map`); each key must be required or defaulted. */
export function listMap<T extends TSchema>(
  item: T,
  keys: readonly string[],
  options: TSchemaOptions = {},
) {
  return Type.Array(item, {
    ...options,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': [...keys],
  });
}

/** A list replaced as a whole on apply (`x-kubernetes-list-type: atomic`). */
export function atomicList<T extends TSchema>(item: T, options: TSchemaOptions = {}) {
  return Type.Array(item, { ...options, 'x-kubernetes-list-type': 'atomic' });
}

/** metav1.Condition, with the API machinery's own validation. */
export const ConditionSchema = Type.Object({
  type: Type.String({ maxLength: 316, pattern: QUALIFIED_NAME_PATTERN }),
  status: stringEnum(['True', 'False', 'Unknown']),
  observedGeneration: Type.Optional(int64({ minimum: 0 })),
  lastTransitionTime: dateTime(),
  reason: Type.String({ minLength: 1, maxLength: 1024, pattern: CONDITION_REASON_PATTERN }),
  message: Type.String({ maxLength: 32768 }),
});
/** A status condition (metav1.Condition). */
export type Condition = Static<typeof ConditionSchema>;

/** `status.conditions`, keyed by type when `byType` (as most OCM kinds declare it). */
export function conditionList(byType: boolean) {
  return byType ? listMap(ConditionSchema, ['type']) : Type.Array(ConditionSchema);
}

/** One label-selector requirement: `key`, `operator` (In, NotIn, Exists, DoesNotExist), `values`. */
export const LabelSelectorRequirementSchema = Type.Object({
  key: Type.String(),
  operator: Type.String(),
  values: Type.Optional(atomicList(Type.String())),
});
export type LabelSelectorRequirement = Static<typeof LabelSelectorRequirementSchema>;

/** metav1.LabelSelector. */
export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(stringMap()),
    matchExpressions: Type.Optional(atomicList(LabelSelectorRequirementSchema)),
  },
  { 'x-kubernetes-map-type': 'atomic' },
);
export type LabelSelector = Static<typeof LabelSelectorSchema>;

/** metav1.OwnerReference. */
export const OwnerReferenceSchema = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  uid: Type.String(),
  controller: Type.Optional(Type.Boolean()),
  blockOwnerDeletion: Type.Optional(Type.Boolean()),
});

/**
 * metav1.ObjectMeta, the fields our code reads and writes. In a CRD the API server owns
 * metadata's schema, so renderCrd() emits `metadata: {type: object}` whatever this says.
 */
export const ObjectMetaSchema = Type.Object({
  name: Type.Optional(Type.String()),
  generateName: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  generation: Type.Optional(int64()),
  creationTimestamp: Type.Optional(nullableDateTime()),
  deletionTimestamp: Type.Optional(nullableDateTime()),
  deletionGracePeriodSeconds: Type.Optional(int64()),
  labels: Type.Optional(stringMap()),
  annotations: Type.Optional(stringMap()),
  finalizers: Type.Optional(Type.Array(Type.String())),
  ownerReferences: Type.Optional(Type.Array(OwnerReferenceSchema)),
  managedFields: Type.Optional(Type.Array(freeForm())),
});
export type ObjectMeta = Static<typeof ObjectMetaSchema>;

/**
 * The schema of a whole object of one kind: apiVersion, kind, optional metadata, and the
 * kind's own top-level fields (usually `spec` and `status`). Pass `metadata: ObjectMetaSchema`
 * in `fields` where the kind requires metadata. renderCrd() leaves apiVersion and kind out of
 * the CRD's `required` (the API server fills them in); the TS type keeps them required.
 * `options` may carry root-level CEL rules (`x-kubernetes-validations`), which can see
 * `metadata.name`; validateResource() does not evaluate CEL.
 */
export function resourceSchema<P extends TProperties>(
  description: string,
  fields: P,
  options: TSchemaOptions = {},
) {
  return Type.Object(
    {
      apiVersion: Type.String({ description: 'Versioned schema of this object.' }),
      kind: Type.String({ description: 'Kind of this object.' }),
      metadata: Type.Optional(ObjectMetaSchema),
      ...fields,
    },
    { ...options, description },
  );
}
