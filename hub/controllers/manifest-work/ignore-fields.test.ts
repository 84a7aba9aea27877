// serverSideApply.ignoreFields: OnSpokePresent keeps the spoke's value once the object exists;
// OnSpokeChange keeps it until the manifest changes; paths outside the subset are refused.
import { describe, expect, it } from 'vitest';

import { WorkError } from './errors.ts';
import {
  CONFIG_SPEC_HASH_ANNOTATION as HASH_KEY,
  ignoreFieldsBody,
  parseJsonPath,
  parseJsonPointer,
  type IgnoreField,
} from './ignore-fields.ts';

const manifest = (data: Record<string, string>, replicas = 2) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'ns', annotations: { a: 'b' } },
  data,
  spec: { replicas },
});

/** The live object after the body was applied, then edited on the spoke by `edit`. */
function liveAfter(body: Record<string, unknown>, edit: (o: Record<string, unknown>) => void) {
  const live = structuredClone(body);
  edit(live);
  return live;
}

const annotationOf = (o: Record<string, unknown>) =>
  ((o.metadata as { annotations: Record<string, string> }).annotations ?? {})[HASH_KEY];

describe('ignoreFieldsBody', () => {
  const both: IgnoreField[] = [
    { condition: 'OnSpokePresent', jsonPaths: ['.data.present'] },
    { condition: 'OnSpokeChange', jsonPointers: ['/data/change'] },
  ];
  const hub = manifest({ present: 'hub', change: 'hub', other: 'hub' });

  it('creates with every field and the hash annotation', () => {
    const body = ignoreFieldsBody(hub, undefined, both);
    expect(body.data).toEqual({ present: 'hub', change: 'hub', other: 'hub' });
    expect(annotationOf(body)).toMatch(/^[0-9a-f]{32}$/);
    expect((body.metadata as { annotations: object }).annotations).toMatchObject({ a: 'b' });
    expect(hub.metadata.annotations).toEqual({ a: 'b' }); // inputs unchanged
  });

  it('keeps spoke edits of ignored fields and puts every other field back', () => {
    const created = ignoreFieldsBody(hub, undefined, both);
    const live = liveAfter(created, (o) => {
      o.data = { present: 'spoke', change: 'spoke', other: 'spoke' };
    });
    expect(ignoreFieldsBody(hub, live, both).data).toEqual({
      present: 'spoke',
      change: 'spoke',
      other: 'hub',
    });
  });

  it('on a manifest change writes OnSpokeChange fields again, never OnSpokePresent ones', () => {
    const created = ignoreFieldsBody(hub, undefined, both);
    const live = liveAfter(created, (o) => {
      o.data = { present: 'spoke', change: 'spoke', other: 'hub' };
    });
    const changed = manifest({ present: 'hub2', change: 'hub2', other: 'hub' });
    const body = ignoreFieldsBody(changed, live, both);
    expect(body.data).toEqual({ present: 'spoke', change: 'hub2', other: 'hub' });
    expect(annotationOf(body)).not.toBe(annotationOf(created));
  });

  it('a change of an OnSpokePresent field alone does not change the hash', () => {
    const a = ignoreFieldsBody(manifest({ present: '1' }), undefined, both);
    const b = ignoreFieldsBody(manifest({ present: '2' }), undefined, both);
    expect(annotationOf(a)).toBe(annotationOf(b));
  });

  it('leaves out an ignored field the live object lacks (the spoke removed it)', () => {
    const created = ignoreFieldsBody(hub, undefined, both);
    const live = liveAfter(created, (o) => {
      o.data = { other: 'hub' };
    });
    expect(ignoreFieldsBody(hub, live, both).data).toEqual({ other: 'hub' });
  });

  it('defaults to OnSpokePresent and reaches nested and quoted keys', () => {
    const fields: IgnoreField[] = [{ jsonPaths: ['.spec.replicas', ".metadata.annotations['a']"] }];
    const created = ignoreFieldsBody(manifest({}, 2), undefined, fields);
    const live = liveAfter(created, (o) => {
      (o.spec as { replicas: number }).replicas = 5;
      (o.metadata as { annotations: Record<string, string> }).annotations.a = 'spoke';
    });
    const body = ignoreFieldsBody(manifest({}, 3), live, fields);
    expect(body.spec).toEqual({ replicas: 5 });
    expect((body.metadata as { annotations: object }).annotations).toMatchObject({ a: 'spoke' });
  });

  it.each<{ name: string; field: IgnoreField; message: RegExp }>([
    {
      name: 'a wildcard',
      field: { jsonPaths: ['.spec.containers[*].image'] },
      message: /jsonPath ".spec.containers\[\*\].image" is not supported at "\[\*\].image"/,
    },
    { name: 'an empty path', field: { jsonPaths: ['$'] }, message: /names no field/ },
    {
      name: 'a pointer without /',
      field: { jsonPointers: ['data'] },
      message: /jsonPointer "data" must start with \//,
    },
    {
      name: 'a jq expression',
      field: { jqPathExpressions: ['.data'] },
      message: /jqPathExpressions are not supported/,
    },
  ])('refuses $name with HUB_ERR_WORK_IGNORE_FIELD', ({ field, message }) => {
    const err = (() => {
      try {
        ignoreFieldsBody(hub, undefined, [field]);
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(WorkError);
    expect(err).toMatchObject({ code: 'HUB_ERR_WORK_IGNORE_FIELD' });
    expect((err as Error).message).toMatch(message);
  });
});

describe('paths', () => {
  it.each([
    ['.spec.replicas', ['spec', 'replicas']],
    ['{.data.key}', ['data', 'key']],
    ['$.metadata.annotations["x.io/y"]', ['metadata', 'annotations', 'x.io/y']],
    ['.spec.containers[0].image', ['spec', 'containers', 0, 'image']],
  ])('jsonPath %s', (path, segments) => {
    expect(parseJsonPath(path)).toEqual(segments);
  });

  it('jsonPointer escapes and indexes', () => {
    expect(parseJsonPointer('/metadata/annotations/a~1b~0c')).toEqual([
      'metadata',
      'annotations',
      'a/b~c',
    ]);
    expect(parseJsonPointer('/spec/containers/0')).toEqual(['spec', 'containers', 0]);
  });
});
