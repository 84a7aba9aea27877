// From a TypeBox (JSON Schema 2020-12) schema to the OpenAPI v3.0 subset a CustomResourceDefinition
// accepts, and a check of the structural-schema rules the API server enforces
// (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema).

/** A JSON value as it appears in a schema. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A schema node as plain JSON. */
export type JsonSchema = { [key: string]: Json };

/** Keywords copied as they are. */
const PLAIN_KEYWORDS = new Set([
  'type',
  'format',
  'description',
  'title',
  'required',
  'enum',
  'default',
  'minimum',
  'maximum',
  'exclusiveMaximum',
  'pattern',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);
/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = new Set(['items', 'additionalProperties', 'not']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf']);
/** Keywords a logical junctor (anyOf, allOf, oneOf, not) may not carry, per the API server. */
const JUNCTOR_FORBIDDEN = [
  'type',
  'description',
  'default',
  'additionalProperties',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Copies a TypeBox schema into the CRD dialect: only enumerable JSON keywords (TypeBox's own
 * `~kind` markers are not enumerable), `type: [T, 'null']` → `type: T, nullable: true`, a numeric
 * `exclusiveMinimum` → `minimum` + `exclusiveMinimum: true`. Throws a TypeError naming the path
 * for any keyword a CRD cannot carry (`const`, `patternProperties`, `$ref`, …): that is a bug in
 * our schema, not an input error. Pure; safe to call repeatedly.
 */
export function toCrdSchema(schema: unknown, path = '$'): JsonSchema {
  if (!isObject(schema)) throw new TypeError(`${path}: a schema must be an object`);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (value === undefined) continue;
    if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t) => t !== 'null');
      if (types.length !== 1 || value.length !== 2) {
        throw new TypeError(`${path}: only [T, 'null'] type lists are supported`);
      }
      out['type'] = types[0] as string;
      out['nullable'] = true;
    } else if (key === 'exclusiveMinimum' && typeof value === 'number') {
      out['minimum'] = value;
      out['exclusiveMinimum'] = true;
    } else if (key === 'properties') {
      if (!isObject(value)) throw new TypeError(`${path}.properties must be an object`);
      const props: JsonSchema = {};
      for (const [name, child] of Object.entries(value)) {
        props[name] = toCrdSchema(child, `${path}.${name}`);
      }
      out['properties'] = props;
    } else if (SCHEMA_KEYWORDS.has(key)) {
      if (typeof value === 'boolean') {
        throw new TypeError(`${path}.${key}: boolean schemas are not allowed in a CRD`);
      }
      out[key] = toCrdSchema(value, `${path}.${key}`);
    } else if (SCHEMA_LIST_KEYWORDS.has(key)) {
      if (!Array.isArray(value)) throw new TypeError(`${path}.${key} must be a list`);
      out[key] = value.map((child, i) => toCrdSchema(child, `${path}.${key}[${i}]`));
    } else if (PLAIN_KEYWORDS.has(key)) {
      out[key] = structuredClone(value) as Json;
    } else {
      throw new TypeError(`${path}: keyword ${JSON.stringify(key)} cannot appear in a CRD schema`);
    }
  }
  return out;
}

/** int-or-string's `anyOf: [{type: integer}, {type: string}]` is the one junctor allowed a type. */
function isIntOrStringAnyOf(node: JsonSchema, key: string): boolean {
  return key === 'anyOf' && node['x-kubernetes-int-or-string'] === true;
}

/**
 * Lists every structural-schema rule `schema` (a CRD version's openAPIV3Schema) breaks, as
 * `path: problem` strings; empty means the API server will accept it. Checks: a type on every
 * node (unless int-or-string or preserve-unknown-fields), items on arrays, no
 * properties+additionalProperties, junctors without types/defaults/descriptions and naming only
 * fields the outer schema declares, list-map keys required or defaulted, embedded resources
 * shaped as objects, and a bare `metadata` at the root.
 */
export function findStructuralProblems(schema: JsonSchema): string[] {
  const problems: string[] = [];
  const metadata = (schema['properties'] as JsonSchema | undefined)?.['metadata'];
  if (metadata !== undefined && JSON.stringify(metadata) !== '{"type":"object"}') {
    problems.push('$.metadata: only {type: object} is allowed at the root');
  }
  if (schema['type'] !== 'object') problems.push('$: the root must be type object');
  walk(schema, '$', false, problems);
  return problems;
}

/**
 * Checks `node` and everything under it. Inside a junctor (anyOf, allOf, oneOf, not),
 * `structural` is the node of the surrounding schema at the same position: a junctor may only
 * name fields that one declares.
 */
function walk(
  node: JsonSchema,
  path: string,
  inJunctor: boolean,
  problems: string[],
  structural?: JsonSchema,
): void {
  const freeForm =
    node['x-kubernetes-int-or-string'] === true ||
    node['x-kubernetes-preserve-unknown-fields'] === true;
  if (inJunctor) {
    for (const key of JUNCTOR_FORBIDDEN) {
      if (node[key] !== undefined) problems.push(`${path}: ${key} is not allowed inside a junctor`);
    }
  } else if (typeof node['type'] !== 'string' && !freeForm) {
    problems.push(`${path}: type is required`);
  }
  if (node['type'] === 'array' && node['items'] === undefined && !inJunctor) {
    problems.push(`${path}: arrays need items`);
  }
  if (node['properties'] !== undefined && node['additionalProperties'] !== undefined) {
    problems.push(`${path}: properties and additionalProperties are mutually exclusive`);
  }
  if (node['x-kubernetes-embedded-resource'] === true && node['type'] !== 'object') {
    problems.push(`${path}: an embedded resource must be type object`);
  }
  if (node['x-kubernetes-int-or-string'] === true) {
    const anyOf = JSON.stringify(node['anyOf']);
    if (anyOf !== undefined && anyOf !== '[{"type":"integer"},{"type":"string"}]') {
      problems.push(`${path}: int-or-string allows only anyOf [integer, string]`);
    }
  }
  if (node['x-kubernetes-list-type'] === 'map') checkListMap(node, path, problems);
  const properties = node['properties'] as Record<string, JsonSchema> | undefined;
  const declared = (inJunctor ? structural : node)?.['properties'] as
    Record<string, JsonSchema> | undefined;
  for (const [name, child] of Object.entries(properties ?? {})) {
    const at = `${path}.${name}`;
    if (inJunctor && declared?.[name] === undefined) {
      problems.push(`${at}: not declared outside the junctor`);
    }
    walk(child, at, inJunctor, problems, inJunctor ? declared?.[name] : undefined);
  }
  for (const key of ['items', 'additionalProperties']) {
    const child = node[key];
    const counterpart = inJunctor ? (structural?.[key] as JsonSchema | undefined) : undefined;
    if (isObject(child))
      walk(child as JsonSchema, `${path}.${key}`, inJunctor, problems, counterpart);
  }
  // A junctor constrains the same value as the schema it sits on.
  const reference = inJunctor ? structural : node;
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const list = node[key];
    if (!Array.isArray(list) || isIntOrStringAnyOf(node, key)) continue;
    list.forEach((child, i) => {
      walk(child as JsonSchema, `${path}.${key}[${i}]`, true, problems, reference);
    });
  }
  if (isObject(node['not']))
    walk(node['not'] as JsonSchema, `${path}.not`, true, problems, reference);
}

function checkListMap(node: JsonSchema, path: string, problems: string[]): void {
  const items = node['items'] as JsonSchema | undefined;
  const keys = node['x-kubernetes-list-map-keys'];
  if (!Array.isArray(keys) || keys.length === 0) {
    problems.push(`${path}: a map list needs x-kubernetes-list-map-keys`);
    return;
  }
  if (items?.['type'] !== 'object') {
    problems.push(`${path}: a map list needs object items`);
    return;
  }
  const required = (items['required'] as string[] | undefined) ?? [];
  const props = (items['properties'] as Record<string, JsonSchema> | undefined) ?? {};
  for (const key of keys as string[]) {
    if (props[key] === undefined) problems.push(`${path}: map key ${key} is not a property`);
    else if (!required.includes(key) && props[key]['default'] === undefined) {
      problems.push(`${path}: map key ${key} must be required or have a default`);
    }
  }
}
