import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

import { crdsYaml, writeCrdFiles } from './crd-files.ts';
import {
  allCrds,
  crdName,
  findStructuralProblems,
  hubCrds,
  renderCrd,
  spokeCrds,
  storageApiVersion,
  toCrdSchema,
  type CrdDefinition,
  type JsonSchema,
} from './index.ts';
import { embeddedObject, intOrString, nullableDateTime, resourceSchema } from './schema-kit.ts';

/** Resolves a printer column's simple JSONPath (`.a.b[*].c`, filters allowed) in a schema. */
function resolveColumn(schema: JsonSchema, jsonPath: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const part of jsonPath
    .replace(/\[[^\]]*\]/g, '[]')
    .split('.')
    .slice(1)) {
    const isList = part.endsWith('[]');
    const field = isList ? part.slice(0, -2) : part;
    node = (node?.['properties'] as Record<string, JsonSchema> | undefined)?.[field];
    if (isList) node = node?.['items'] as JsonSchema | undefined;
  }
  return node;
}

/** Every schema node carrying a default, with its path. */
function nodesWithDefaults(node: unknown, path: string, out: [string, object][] = []) {
  if (typeof node !== 'object' || node === null) return out;
  const record = node as Record<string, unknown>;
  if ('default' in record) out.push([path, record]);
  for (const [name, child] of Object.entries((record['properties'] as object) ?? {})) {
    nodesWithDefaults(child, `${path}.${name}`, out);
  }
  nodesWithDefaults(record['items'], `${path}[]`, out);
  nodesWithDefaults(record['additionalProperties'], `${path}{}`, out);
  return out;
}

describe.each(allCrds().map((def) => ({ kind: def.kind, def })))('$kind', ({ def }) => {
  const crd = renderCrd(def);

  it('renders to a structurally valid apiextensions.k8s.io/v1 CRD', () => {
    expect(crd.metadata.name).toBe(`${def.plural}.${def.group}`);
    expect(crd.spec.names).toMatchObject({ kind: def.kind, listKind: `${def.kind}List` });
    expect(crd.spec.versions.filter((v) => v.storage)).toHaveLength(1);
    for (const version of crd.spec.versions) {
      const schema = version.schema.openAPIV3Schema;
      expect(findStructuralProblems(schema), version.name).toEqual([]);
      expect((schema['properties'] as JsonSchema)['metadata']).toEqual({ type: 'object' });
      expect(schema['required'] ?? []).not.toContain('apiVersion');
      // JSON round trip: nothing but plain data (no TypeBox markers, no undefined).
      expect(JSON.parse(JSON.stringify(crd))).toEqual(crd);
    }
  });

  it('has a status subresource exactly when the kind has a status', () => {
    for (const version of crd.spec.versions) {
      const properties = version.schema.openAPIV3Schema['properties'] as JsonSchema;
      expect(version.subresources !== undefined, version.name).toBe(
        properties['status'] !== undefined,
      );
    }
  });

  it('prints columns that name fields of its own schema', () => {
    for (const version of crd.spec.versions) {
      for (const column of version.additionalPrinterColumns ?? []) {
        if (column.jsonPath === '.metadata.creationTimestamp') continue;
        const field = resolveColumn(version.schema.openAPIV3Schema, column.jsonPath);
        expect(field, `${column.name}: ${column.jsonPath}`).toBeDefined();
        // A string column may show any scalar; other column types must match the field's.
        if (column.type !== 'string') expect(field?.['type'], column.name).toBe(column.type);
      }
    }
  });

  it('has defaults that satisfy their own schemas', () => {
    for (const version of def.versions) {
      for (const [path, node] of nodesWithDefaults(version.schema, def.kind)) {
        const value = (node as { default: unknown }).default;
        expect(Value.Check(node as never, value), `${path} = ${JSON.stringify(value)}`).toBe(true);
      }
    }
  });
});

describe('the CRD registry', () => {
  const kinds = (defs: readonly CrdDefinition[]) => defs.map((d) => d.kind).sort();

  it('installs ClusterClaim and AppliedManifestWork on spokes and the rest on the hub', () => {
    expect(kinds(spokeCrds())).toEqual(['AppliedManifestWork', 'ClusterClaim']);
    expect(kinds(hubCrds())).toEqual(
      kinds(allCrds()).filter((k) => k !== 'AppliedManifestWork' && k !== 'ClusterClaim'),
    );
    expect(new Set(allCrds().map(crdName)).size).toBe(allCrds().length);
  });

  it.each([
    ['ManagedCluster', 'cluster.open-cluster-management.io/v1', 'Cluster', ['mcl', 'mcls']],
    ['ClusterClaim', 'cluster.open-cluster-management.io/v1alpha1', 'Cluster', []],
    [
      'ManagedClusterSet',
      'cluster.open-cluster-management.io/v1beta2',
      'Cluster',
      ['mclset', 'mclsets'],
    ],
    [
      'ManagedClusterSetBinding',
      'cluster.open-cluster-management.io/v1beta2',
      'Namespaced',
      ['mclsetbinding', 'mclsetbindings'],
    ],
    ['Placement', 'cluster.open-cluster-management.io/v1beta1', 'Namespaced', []],
    ['PlacementDecision', 'cluster.open-cluster-management.io/v1beta1', 'Namespaced', []],
    ['ManifestWork', 'work.open-cluster-management.io/v1', 'Namespaced', []],
    ['AppliedManifestWork', 'work.open-cluster-management.io/v1', 'Cluster', []],
    ['ManifestWorkReplicaSet', 'work.open-cluster-management.io/v1alpha1', 'Namespaced', ['mwrs']],
    [
      'ManagedServiceAccount',
      'authentication.open-cluster-management.io/v1beta1',
      'Namespaced',
      [],
    ],
    ['Policy', 'policy.open-cluster-management.io/v1', 'Namespaced', ['plc']],
    ['PlacementBinding', 'policy.open-cluster-management.io/v1', 'Namespaced', ['pb']],
    ['PolicySet', 'policy.open-cluster-management.io/v1beta1', 'Namespaced', ['plcset']],
    ['ConfigurationPolicy', 'policy.open-cluster-management.io/v1', 'Namespaced', []],
    [
      'ClusterManagementAddOn',
      'addon.open-cluster-management.io/v1alpha1',
      'Cluster',
      ['cma', 'cmas'],
    ],
    [
      'ManagedClusterAddOn',
      'addon.open-cluster-management.io/v1alpha1',
      'Namespaced',
      ['mca', 'mcas'],
    ],
  ])('%s is stored as %s, %s-scoped, short names %j', (kind, apiVersion, scope, shortNames) => {
    const def = allCrds().find((d) => d.kind === kind);
    expect(def && storageApiVersion(def)).toBe(apiVersion);
    expect(def?.scope).toBe(scope);
    expect(def?.shortNames).toEqual(shortNames);
  });

  it('serves ManagedServiceAccount v1alpha1 as deprecated with the same schema as v1beta1', () => {
    const versions = renderCrd(allCrds().find((d) => d.kind === 'ManagedServiceAccount')!).spec
      .versions;
    expect(versions.map((v) => [v.name, v.served, v.storage, v.deprecated ?? false])).toEqual([
      ['v1alpha1', true, false, true],
      ['v1beta1', true, true, false],
    ]);
    expect(versions[0]?.schema).toEqual(versions[1]?.schema);
  });
});

describe('toCrdSchema', () => {
  it.each([
    {
      name: 'a nullable time becomes nullable: true',
      schema: nullableDateTime(),
      expected: { type: 'string', format: 'date-time', nullable: true },
    },
    {
      name: 'a numeric exclusiveMinimum becomes the OpenAPI v3.0 boolean form',
      schema: Type.Integer({ exclusiveMinimum: 0 }),
      expected: { type: 'integer', minimum: 0, exclusiveMinimum: true },
    },
    {
      name: 'int-or-string keeps its anyOf',
      schema: intOrString({ default: '100%' }),
      expected: {
        default: '100%',
        'x-kubernetes-int-or-string': true,
        anyOf: [{ type: 'integer' }, { type: 'string' }],
      },
    },
    {
      name: 'an embedded object keeps unknown fields',
      schema: embeddedObject(),
      expected: {
        type: 'object',
        required: ['apiVersion', 'kind'],
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { type: 'object' },
        },
        'x-kubernetes-preserve-unknown-fields': true,
        'x-kubernetes-embedded-resource': true,
      },
    },
  ])('$name', ({ schema, expected }) => {
    expect(toCrdSchema(schema)).toEqual(expected);
  });

  it.each([
    {
      name: 'a Record',
      schema: Type.Object({ m: Type.Record(Type.String(), Type.String()) }),
      message: '$.m: keyword "patternProperties" cannot appear in a CRD schema',
    },
    {
      name: 'a Literal',
      schema: Type.Object({ k: Type.Literal('x') }),
      message: '$.k: keyword "const" cannot appear in a CRD schema',
    },
    {
      name: 'a closed object',
      schema: Type.Object({}, { additionalProperties: false }),
      message: '$.additionalProperties: boolean schemas are not allowed in a CRD',
    },
  ])('refuses $name', ({ schema, message }) => {
    expect(() => toCrdSchema(schema)).toThrow(new TypeError(message));
  });
});

describe('findStructuralProblems', () => {
  const root = (spec: JsonSchema): JsonSchema => ({
    type: 'object',
    properties: { metadata: { type: 'object' }, spec },
  });

  it.each([
    {
      name: 'a node without a type',
      spec: { properties: {} },
      problem: '$.spec: type is required',
    },
    {
      name: 'an array without items',
      spec: { type: 'array' },
      problem: '$.spec: arrays need items',
    },
    {
      name: 'properties with additionalProperties',
      spec: { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
      problem: '$.spec: properties and additionalProperties are mutually exclusive',
    },
    {
      name: 'a type inside a junctor',
      spec: { type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ type: 'object' }] },
      problem: '$.spec.oneOf[0]: type is not allowed inside a junctor',
    },
    {
      name: 'a junctor naming an undeclared field',
      spec: {
        type: 'object',
        properties: { a: { type: 'string' } },
        anyOf: [{ properties: { b: { maxLength: 1 } } }],
      },
      problem: '$.spec.anyOf[0].b: not declared outside the junctor',
    },
    {
      name: 'a list-map key that is neither required nor defaulted',
      spec: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', properties: { name: { type: 'string' } } },
      },
      problem: '$.spec: map key name must be required or have a default',
    },
  ])('reports $name', ({ spec, problem }) => {
    expect(findStructuralProblems(root(spec as JsonSchema))).toEqual([problem]);
  });

  it('reports a root metadata schema other than {type: object}', () => {
    const schema = { type: 'object', properties: { metadata: { type: 'object', properties: {} } } };
    expect(findStructuralProblems(schema)).toEqual([
      '$.metadata: only {type: object} is allowed at the root',
    ]);
  });
});

describe('renderCrd', () => {
  const base: CrdDefinition = {
    group: 'example.spokelink.dev',
    kind: 'Thing',
    plural: 'things',
    singular: 'thing',
    shortNames: [],
    categories: ['all-things'],
    scope: 'Namespaced',
    installOn: 'hub',
    versions: [],
  };
  const schema = resourceSchema('A thing.', { spec: Type.Object({ size: Type.Integer() }) });

  it('keeps spec required but leaves apiVersion and kind to the API server', () => {
    const crd = renderCrd({
      ...base,
      versions: [{ name: 'v1', served: true, storage: true, schema, hasStatusSubresource: false }],
    });
    expect(crd.spec.versions[0]?.schema.openAPIV3Schema['required']).toEqual(['spec']);
    expect(crd.spec.names.categories).toEqual(['all-things']);
    expect(crd.spec.versions[0]?.subresources).toBeUndefined();
  });

  it('refuses a definition without exactly one storage version', () => {
    const v = { name: 'v1', served: true, storage: true, schema, hasStatusSubresource: false };
    expect(() => renderCrd({ ...base, versions: [v, { ...v, name: 'v2' }] })).toThrow(
      new TypeError('Thing: exactly one version must be the storage version'),
    );
  });

  it('refuses a schema the API server would reject, naming the rule', () => {
    const bad = resourceSchema('Bad.', { spec: Type.Unsafe({ properties: {} }) });
    const v = { name: 'v1', served: true, storage: true, schema: bad, hasStatusSubresource: false };
    expect(() => renderCrd({ ...base, versions: [v] })).toThrow(
      new TypeError('Thing v1 is not structural:\n  $.spec: type is required'),
    );
  });
});

describe('CRD YAML', () => {
  it('round-trips every CRD through one multi-document stream', () => {
    const docs = parseAllDocuments(crdsYaml(allCrds())).map((d) => d.toJS() as unknown);
    expect(docs).toEqual(allCrds().map(renderCrd));
  });

  it('writes one file per CRD, named <plural>.<group>.yaml', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crds-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const paths = await writeCrdFiles(join(dir, 'spoke'), spokeCrds());
    expect(paths).toEqual(spokeCrds().map((d) => join(dir, 'spoke', `${crdName(d)}.yaml`)));
    expect((await readdir(join(dir, 'spoke'))).sort()).toEqual([
      'appliedmanifestworks.work.open-cluster-management.io.yaml',
      'clusterclaims.cluster.open-cluster-management.io.yaml',
    ]);
    const first = await readFile(paths[0] as string, 'utf8');
    expect(first.startsWith('# Generated by hub/api/write-crds.ts')).toBe(true);
    expect(parse(first)).toEqual(renderCrd(spokeCrds()[0] as CrdDefinition));
  });
});
