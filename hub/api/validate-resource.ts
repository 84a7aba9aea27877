// Checks an object against the schema of its kind before it reaches an API server: the same
// rules the CRD enforces (types, enums, patterns, bounds, required fields) plus, like kubectl's
// default `--validate=strict`, unknown fields.
import type { TSchema } from 'typebox';
import { Format } from 'typebox/format';
import { Value } from 'typebox/value';

import type { CrdDefinition } from './crd-definition.ts';
import { allCrds } from './registry.ts';

// `format: byte` (base64) is checked by the API server; teach TypeBox the same check. The format
// registry is process-wide; setting it again is harmless.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
if (!Format.Has('byte')) Format.Set('byte', (value) => BASE64.test(value));

/** One thing wrong with an object; `path` is dotted from the root (`spec.taints[0].effect`). */
export interface ResourceProblem {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** `reject` (default) reports fields the schema does not declare, as kubectl does. */
  unknownFields?: 'reject' | 'ignore';
  /** Where to look the kind up; defaults to allCrds(). */
  definitions?: readonly CrdDefinition[];
}

/**
 * Validates `object` against the served version its apiVersion and kind name, after filling in
 * schema defaults as the API server does (on a copy: `object` is not changed). Returns the
 * problems found, empty when the object is valid; an unknown kind or version is a problem at
 * `apiVersion`. Pure and synchronous.
 */
export function validateResource(
  object: unknown,
  options: ValidateOptions = {},
): ResourceProblem[] {
  if (!isRecord(object)) return [{ path: '', message: 'must be an object' }];
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return [{ path: 'apiVersion', message: 'apiVersion and kind must be strings' }];
  }
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const def = (options.definitions ?? allCrds()).find((d) => d.group === group && d.kind === kind);
  const served = def?.versions.find((v) => v.name === version && v.served);
  if (served === undefined) {
    return [{ path: 'apiVersion', message: `no served kind ${kind} in ${apiVersion}` }];
  }
  // The API server fills in defaults before it validates: a required field with a default may
  // be left out.
  const problems = schemaProblems(
    served.schema,
    Value.Default(served.schema, structuredClone(object)),
  );
  if ((options.unknownFields ?? 'reject') === 'reject') {
    for (const [field, value] of Object.entries(object)) {
      // The API server owns metadata and drops unknown metadata fields itself.
      if (field === 'metadata' || field === 'apiVersion' || field === 'kind') continue;
      const properties = (served.schema as { properties?: Record<string, unknown> }).properties;
      const child = properties?.[field];
      if (child === undefined) problems.push({ path: field, message: 'unknown field' });
      else findUnknownFields(child, value, field, problems);
    }
  }
  return problems;
}

/** Value.Errors, reshaped: dotted paths, missing fields named, allowed enum values listed. */
export function schemaProblems(schema: TSchema, value: unknown): ResourceProblem[] {
  // Our maps' additionalProperties are schemas, never `false`: the entry's own error says more.
  const errors = Value.Errors(schema, value).filter((e) => e.keyword !== 'additionalProperties');
  return errors.map((error) => {
    const path = pointerToPath(error.instancePath);
    if (error.keyword === 'required') {
      const missing = error.params.requiredProperties;
      return {
        path: missing.map((p) => joinPath(path, p)).join(', '),
        message: 'required field missing',
      };
    }
    if (error.keyword === 'enum') {
      const allowed = error.params.allowedValues.map((v) => JSON.stringify(v)).join(', ');
      return { path, message: `unsupported value; supported values: ${allowed}` };
    }
    return { path, message: error.message };
  });
}

function findUnknownFields(
  schema: unknown,
  value: unknown,
  path: string,
  problems: ResourceProblem[],
): void {
  if (!isRecord(schema)) return;
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => findUnknownFields(schema['items'], item, `${path}[${i}]`, problems));
    return;
  }
  if (!isRecord(value)) return;
  const properties = schema['properties'];
  if (isRecord(properties)) {
    for (const [field, child] of Object.entries(value)) {
      const childSchema = properties[field];
      if (childSchema === undefined)
        problems.push({ path: joinPath(path, field), message: 'unknown field' });
      else findUnknownFields(childSchema, child, joinPath(path, field), problems);
    }
  } else if (isRecord(schema['additionalProperties'])) {
    for (const [field, child] of Object.entries(value)) {
      findUnknownFields(schema['additionalProperties'], child, joinPath(path, field), problems);
    }
  }
}

/** `/spec/taints/0/effect` → `spec.taints[0].effect`. */
function pointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(token) ? `${path}[${token}]` : joinPath(path, token);
  }
  return path;
}

function joinPath(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
