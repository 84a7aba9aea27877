/**
 * `updateStrategy.serverSideApply.ignoreFields` (pure): the apply body that leaves some fields to
 * the spoke, with OCM's two conditions (its docs, "Ignore fields in Server Side Apply"):
 *
 * - `OnSpokePresent` (the default): once the object exists, the field is never written again,
 *   whoever changed it (an actor on the spoke, or this or another ManifestWork). It is written
 *   when the object is created.
 * - `OnSpokeChange`: a change made on the spoke is kept until the work's own manifest changes;
 *   then the manifest's value is written again.
 *
 * How: the manifest without its `OnSpokePresent` fields is hashed into the annotation
 * `open-cluster-management.io/config-spec-hash` (OCM's key). On an existing object, every
 * `OnSpokePresent` field, and every `OnSpokeChange` field while the live hash equals the new one,
 * is sent with the live object's value (or left out when the live object lacks it). Sending the
 * live value, rather than leaving the field out as OCM does, keeps the field manager's ownership,
 * so server-side apply never deletes an ignored field that only the work owned. Every other field
 * is still applied and its drift corrected.
 *
 * Paths: `jsonPaths` in the subset `.a.b`, `['k']` / `["k"]` and `[n]` (a leading `$` and `{…}`
 * are accepted), and RFC 6901 `jsonPointers`. `jqPathExpressions` and other JSONPath forms are
 * refused with `HUB_ERR_WORK_IGNORE_FIELD` (the manifest's `Applied=False` with reason
 * `AppliedManifestSSAIgnoreFieldError`): a field silently not ignored would be overwritten.
 */
import { createHash } from 'node:crypto';

import { isJsonObject, type JsonObject } from './apply-decision.ts';
import { WorkError } from './errors.ts';

/** The annotation holding the hash of what the manifest asks for (OCM's key). */
export const CONFIG_SPEC_HASH_ANNOTATION = 'open-cluster-management.io/config-spec-hash';

/** One `ignoreFields` entry, as the ManifestWork schema declares it. */
export interface IgnoreField {
  readonly condition?: 'OnSpokePresent' | 'OnSpokeChange';
  readonly jsonPaths?: readonly string[];
  readonly jsonPointers?: readonly string[];
  readonly jqPathExpressions?: readonly string[];
}

type Segment = string | number;

function refuse(message: string): never {
  throw new WorkError('HUB_ERR_WORK_IGNORE_FIELD', message);
}

/** `.spec.replicas`, `.metadata.annotations['a/b']`, `.spec.containers[0].image` → segments. */
export function parseJsonPath(path: string): Segment[] {
  let text = path.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (text.startsWith('$')) text = text.slice(1);
  const segments: Segment[] = [];
  const pattern = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  while (pattern.lastIndex < text.length) {
    const at = pattern.lastIndex;
    const m = pattern.exec(text);
    if (m === null) {
      refuse(`ignoreFields jsonPath "${path}" is not supported at "${text.slice(at)}"`);
    }
    segments.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3] ?? m[4] ?? ''));
  }
  if (segments.length === 0) refuse(`ignoreFields jsonPath "${path}" names no field`);
  return segments;
}

/** RFC 6901: `/spec/replicas`, `~1` for `/`, `~0` for `~`; all-digit tokens index lists. */
export function parseJsonPointer(pointer: string): Segment[] {
  if (!pointer.startsWith('/')) refuse(`ignoreFields jsonPointer "${pointer}" must start with /`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
      return /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key;
    });
}

function child(value: unknown, segment: Segment): unknown {
  if (typeof segment === 'number') return Array.isArray(value) ? value[segment] : undefined;
  return isJsonObject(value) ? value[segment] : undefined;
}

function valueAt(object: unknown, path: readonly Segment[]): unknown {
  return path.reduce<unknown>((value, segment) => child(value, segment), object);
}

function removeAt(object: JsonObject, path: readonly Segment[]): void {
  const parent = valueAt(object, path.slice(0, -1));
  const last = path[path.length - 1] as Segment;
  if (typeof last === 'number' && Array.isArray(parent)) parent.splice(last, 1);
  else if (typeof last === 'string' && isJsonObject(parent)) delete parent[last];
}

/** Sets `value` at `path`, making the missing objects on the way (not lists). */
function setAt(object: JsonObject, path: readonly Segment[], value: unknown): void {
  let cursor: unknown = object;
  for (const [i, segment] of path.entries()) {
    const isLast = i === path.length - 1;
    if (typeof segment === 'number') {
      if (!Array.isArray(cursor) || segment >= cursor.length) return;
      if (isLast) cursor[segment] = structuredClone(value);
      else cursor = cursor[segment];
    } else if (isJsonObject(cursor)) {
      if (isLast) cursor[segment] = structuredClone(value);
      else {
        if (cursor[segment] === undefined) cursor[segment] = {};
        cursor = cursor[segment];
      }
    } else return;
  }
}

/** JSON with object keys sorted, so equal objects hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The paths of `ignoreFields` by condition; throws `HUB_ERR_WORK_IGNORE_FIELD` on bad input. */
export function ignoredPaths(ignoreFields: readonly IgnoreField[]): {
  readonly onSpokePresent: Segment[][];
  readonly onSpokeChange: Segment[][];
} {
  const onSpokePresent: Segment[][] = [];
  const onSpokeChange: Segment[][] = [];
  for (const field of ignoreFields) {
    if ((field.jqPathExpressions ?? []).length > 0) {
      refuse('ignoreFields jqPathExpressions are not supported by this hub; use jsonPaths');
    }
    const paths = [
      ...(field.jsonPaths ?? []).map(parseJsonPath),
      ...(field.jsonPointers ?? []).map(parseJsonPointer),
    ];
    (field.condition === 'OnSpokeChange' ? onSpokeChange : onSpokePresent).push(...paths);
  }
  return { onSpokePresent, onSpokeChange };
}

/**
 * The server-side apply body for `required` given the `live` object (undefined: not there) and
 * `ignoreFields`; see the file comment. A new object; inputs unchanged. Throws
 * `HUB_ERR_WORK_IGNORE_FIELD` for a path outside the subset.
 */
export function ignoreFieldsBody(
  required: JsonObject,
  live: JsonObject | undefined,
  ignoreFields: readonly IgnoreField[],
): JsonObject {
  const { onSpokePresent, onSpokeChange } = ignoredPaths(ignoreFields);
  const hashed = structuredClone(required);
  for (const path of onSpokePresent) removeAt(hashed, path);
  const hash = createHash('sha256').update(canonical(hashed)).digest('hex').slice(0, 32);
  const body = structuredClone(required);
  const meta = isJsonObject(body.metadata) ? body.metadata : {};
  const annotations = isJsonObject(meta.annotations) ? meta.annotations : {};
  body.metadata = { ...meta, annotations: { ...annotations, [CONFIG_SPEC_HASH_ANNOTATION]: hash } };
  if (live === undefined) return body;
  const liveAnnotations = valueAt(live, ['metadata', 'annotations']);
  const liveHash = isJsonObject(liveAnnotations)
    ? liveAnnotations[CONFIG_SPEC_HASH_ANNOTATION]
    : undefined;
  const kept = liveHash === hash ? [...onSpokePresent, ...onSpokeChange] : onSpokePresent;
  for (const path of kept) {
    const value = valueAt(live, path);
    if (value === undefined) removeAt(body, path);
    else setAt(body, path, value);
  }
  return body;
}
