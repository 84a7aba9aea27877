/**
 * What an update strategy does with a manifest and the live object (pure): the object to
 * create, the object to write back, the server-side apply body, or nothing.
 *
 * `Update` (OCM's default) writes the fields the manifest states and keeps every other field of
 * the live object (defaults, fields other actors set, labels and annotations not in the
 * manifest): objects merge key by key, lists of the same length merge item by item (so the API
 * server's defaults inside containers stay), other lists and scalars are replaced. It writes only
 * when the manifest is not already a subset of the live object, so defaulting never causes a
 * write loop.
 */

/** A JSON object (a manifest or a live object). */
export type JsonObject = Record<string, unknown>;

/** A (non-controller) ownerReference to the AppliedManifestWork. */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** Metadata fields the API server owns: never sent from a manifest. */
const SERVER_METADATA = [
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function metadataOf(object: JsonObject): JsonObject {
  return isJsonObject(object.metadata) ? object.metadata : {};
}

/**
 * The object a manifest asks for: a deep copy without `status` and server-owned metadata, in
 * `namespace` (namespaced kinds) or without one (cluster-scoped kinds).
 */
export function requiredObject(manifest: JsonObject, namespace: string | undefined): JsonObject {
  const required = structuredClone(manifest);
  delete required.status;
  const metadata = { ...metadataOf(required) };
  for (const key of SERVER_METADATA) delete metadata[key];
  if (namespace === undefined) delete metadata.namespace;
  else metadata.namespace = namespace;
  required.metadata = metadata;
  return required;
}

/**
 * Whether every field `required` states has that value in `live` (objects key by key, lists
 * item by item with equal length, scalars equal; a required `null` matches a missing field).
 */
export function isSubset(required: unknown, live: unknown): boolean {
  if (required === null) return live === null || live === undefined;
  if (Array.isArray(required)) {
    return (
      Array.isArray(live) &&
      live.length === required.length &&
      required.every((item, i) => isSubset(item, live[i]))
    );
  }
  if (isJsonObject(required)) {
    return isJsonObject(live) && Object.keys(required).every((k) => isSubset(required[k], live[k]));
  }
  return required === live;
}

/** `live` with the fields `required` states (see the file comment); a new value, inputs unchanged. */
export function mergeRequired(live: unknown, required: unknown): unknown {
  if (isJsonObject(required) && isJsonObject(live)) {
    const merged: JsonObject = { ...live };
    for (const [key, value] of Object.entries(required))
      merged[key] = mergeRequired(live[key], value);
    return merged;
  }
  if (Array.isArray(required) && Array.isArray(live) && required.length === live.length) {
    return required.map((item, i) => mergeRequired(live[i], item));
  }
  return structuredClone(required);
}

function ownerRefsOf(object: JsonObject | undefined): JsonObject[] {
  const refs = object === undefined ? undefined : metadataOf(object).ownerReferences;
  return Array.isArray(refs) ? refs.filter(isJsonObject) : [];
}

/** Whether `object` has an ownerReference with `uid`. */
export function hasOwner(object: JsonObject, uid: string): boolean {
  return ownerRefsOf(object).some((ref) => ref.uid === uid);
}

/** `refs` lists joined, the first of each uid kept, then `owner` when no ref has its uid. */
function unionRefs(lists: JsonObject[][], owner: OwnerReference): JsonObject[] {
  const out: JsonObject[] = [];
  for (const ref of lists.flat()) {
    if (!out.some((r) => r.uid === ref.uid)) out.push(ref);
  }
  if (!out.some((r) => r.uid === owner.uid)) out.push({ ...owner });
  return out;
}

/** `object` (a copy) with `owner` among its ownerReferences. */
export function withOwner(object: JsonObject, owner: OwnerReference): JsonObject {
  const copy = structuredClone(object);
  copy.metadata = { ...metadataOf(copy), ownerReferences: unionRefs([ownerRefsOf(object)], owner) };
  return copy;
}

/**
 * The ownerReferences of `object` without the one of `uid`, or undefined when it has none
 * (nothing to write).
 */
export function ownerRefsWithout(object: JsonObject, uid: string): JsonObject[] | undefined {
  const refs = ownerRefsOf(object);
  return refs.some((ref) => ref.uid === uid) ? refs.filter((ref) => ref.uid !== uid) : undefined;
}

/** What to do for one manifest: create, write back (PUT with the live resourceVersion), nothing. */
export type WriteDecision =
  | { readonly action: 'create'; readonly body: JsonObject }
  | { readonly action: 'update'; readonly body: JsonObject }
  | { readonly action: 'none' };

/** `Update`: create when missing; else write the manifest's fields unless they all hold already. */
export function decideUpdate(
  live: JsonObject | undefined,
  required: JsonObject,
  owner: OwnerReference,
): WriteDecision {
  if (live === undefined) return { action: 'create', body: withOwner(required, owner) };
  const stated = structuredClone(required);
  const statedMeta = { ...metadataOf(stated) };
  delete statedMeta.ownerReferences;
  stated.metadata = statedMeta;
  const liveRefs = ownerRefsOf(live);
  const hasRefs =
    hasOwner(live, owner.uid) &&
    ownerRefsOf(required).every((ref) => liveRefs.some((l) => l.uid === ref.uid));
  if (hasRefs && isSubset(stated, live)) return { action: 'none' };
  const body = mergeRequired(live, stated) as JsonObject;
  const refs = unionRefs([liveRefs, ownerRefsOf(required)], owner);
  body.metadata = { ...metadataOf(body), ownerReferences: refs };
  return { action: 'update', body };
}

/** `CreateOnly`: create when missing; an existing object is never written. */
export function decideCreateOnly(
  live: JsonObject | undefined,
  required: JsonObject,
  owner: OwnerReference,
): WriteDecision {
  return live === undefined
    ? { action: 'create', body: withOwner(required, owner) }
    : { action: 'none' };
}

/**
 * `ServerSideApply`: the apply configuration, the manifest plus the ownerReference (a list keyed
 * by uid for server-side apply, so only this entry is claimed by the field manager).
 */
export function serverSideApplyBody(required: JsonObject, owner: OwnerReference): JsonObject {
  return withOwner(required, owner);
}
