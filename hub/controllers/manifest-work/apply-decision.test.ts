// What each update strategy decides from a manifest and the live object.
import { describe, expect, it } from 'vitest';

import {
  decideCreateOnly,
  decideUpdate,
  isSubset,
  mergeRequired,
  ownerRefsWithout,
  requiredObject,
  serverSideApplyBody,
  type JsonObject,
  type OwnerReference,
} from './apply-decision.ts';

const owner: OwnerReference = {
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'AppliedManifestWork',
  name: 'hash-work',
  uid: 'amw-uid',
};
const ownerRef = { ...owner };

function configMap(data: Record<string, string>, metadata: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', namespace: 'ns', ...metadata },
    data,
  };
}

/** A live object as the API server returns it: server fields, defaults, our ownerReference. */
function live(data: Record<string, string>, extra: JsonObject = {}): JsonObject {
  return configMap(data, {
    uid: 'cm-uid',
    resourceVersion: '7',
    creationTimestamp: '2026-01-01T00:00:00Z',
    ownerReferences: [ownerRef],
    ...extra,
  });
}

describe('requiredObject', () => {
  it('drops status and server-owned metadata and sets the namespace of namespaced kinds', () => {
    const manifest: JsonObject = {
      ...configMap({ a: '1' }, { resourceVersion: '1', uid: 'x', creationTimestamp: null }),
      status: { phase: 'x' },
    };
    expect(requiredObject(manifest, 'other')).toEqual(
      configMap({ a: '1' }, { namespace: 'other' }),
    );
    expect(manifest.metadata).toMatchObject({ resourceVersion: '1' });
  });

  it('drops the namespace of cluster-scoped kinds', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'x' } };
    expect(requiredObject(ns, undefined)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'n' },
    });
  });
});

describe('Update', () => {
  it.each<{
    name: string;
    live: JsonObject | undefined;
    required: JsonObject;
    expected: ReturnType<typeof decideUpdate>;
  }>([
    {
      name: 'creates a missing object with the ownerReference',
      live: undefined,
      required: configMap({ a: '1' }),
      expected: {
        action: 'create',
        body: configMap({ a: '1' }, { ownerReferences: [ownerRef] }),
      },
    },
    {
      name: 'writes nothing when every stated field holds (extra live fields are fine)',
      live: live({ a: '1', b: 'theirs' }, { labels: { x: 'y' } }),
      required: configMap({ a: '1' }),
      expected: { action: 'none' },
    },
    {
      name: 'puts a drifted field back and keeps fields the manifest does not state',
      live: live({ a: 'drifted', b: 'theirs' }, { labels: { x: 'y' } }),
      required: configMap({ a: '1' }, { labels: { app: 'a' } }),
      expected: {
        action: 'update',
        body: live({ a: '1', b: 'theirs' }, { labels: { x: 'y', app: 'a' } }),
      },
    },
    {
      name: 'adds the ownerReference to an object it did not own, keeping the others',
      live: configMap({ a: '1' }, { resourceVersion: '3', ownerReferences: [{ uid: 'other' }] }),
      required: configMap({ a: '1' }),
      expected: {
        action: 'update',
        body: configMap(
          { a: '1' },
          { resourceVersion: '3', ownerReferences: [{ uid: 'other' }, ownerRef] },
        ),
      },
    },
  ])('$name', ({ live: current, required, expected }) => {
    expect(decideUpdate(current, required, owner)).toEqual(expected);
  });

  it('keeps defaults the API server added inside list items', () => {
    const required = {
      spec: { containers: [{ name: 'c', image: 'i:2' }] },
    };
    const current = {
      metadata: { ownerReferences: [ownerRef] },
      spec: { containers: [{ name: 'c', image: 'i:1', imagePullPolicy: 'IfNotPresent' }] },
    };
    const decision = decideUpdate(current, required, owner);
    expect(decision).toMatchObject({
      action: 'update',
      body: {
        spec: { containers: [{ name: 'c', image: 'i:2', imagePullPolicy: 'IfNotPresent' }] },
      },
    });
    const corrected = (decision as { body: JsonObject }).body;
    expect(decideUpdate(corrected, required, owner)).toEqual({ action: 'none' });
  });
});

describe('CreateOnly and ServerSideApply', () => {
  it('CreateOnly creates a missing object and never writes an existing one', () => {
    expect(decideCreateOnly(undefined, configMap({ a: '1' }), owner)).toEqual({
      action: 'create',
      body: configMap({ a: '1' }, { ownerReferences: [ownerRef] }),
    });
    expect(decideCreateOnly(live({ a: 'edited' }), configMap({ a: '1' }), owner)).toEqual({
      action: 'none',
    });
  });

  it('ServerSideApply sends the manifest with only our ownerReference', () => {
    expect(serverSideApplyBody(configMap({ a: '1' }), owner)).toEqual(
      configMap({ a: '1' }, { ownerReferences: [ownerRef] }),
    );
  });
});

describe('subset, merge and ownerReferences', () => {
  it.each<{ name: string; required: unknown; live: unknown; is: boolean }>([
    { name: 'equal scalars', required: 1, live: 1, is: true },
    { name: 'different scalars', required: '1', live: 1, is: false },
    { name: 'a required null matches a missing field', required: { a: null }, live: {}, is: true },
    { name: 'lists of another length', required: [1], live: [1, 2], is: false },
    { name: 'list items as subsets', required: [{ a: 1 }], live: [{ a: 1, b: 2 }], is: true },
    { name: 'a missing key', required: { a: { b: 1 } }, live: { a: {} }, is: false },
  ])('isSubset: $name', ({ required, live: current, is }) => {
    expect(isSubset(required, current)).toBe(is);
  });

  it('mergeRequired replaces lists of another length and scalars, merges objects', () => {
    expect(mergeRequired({ a: [1, 2], b: { c: 1, d: 2 }, e: 1 }, { a: [3], b: { c: 9 } })).toEqual({
      a: [3],
      b: { c: 9, d: 2 },
      e: 1,
    });
  });

  it('ownerRefsWithout removes our reference, or says there is nothing to do', () => {
    expect(ownerRefsWithout(live({}), owner.uid)).toEqual([]);
    expect(ownerRefsWithout(configMap({}, { ownerReferences: [{ uid: 'x' }] }), owner.uid)).toBe(
      undefined,
    );
  });
});
