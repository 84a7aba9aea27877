/**
 * In-memory stand-ins for the unit tests of the reconcile flow: a spoke (objects by identity,
 * uids and resourceVersions, a fixed discovery table, a recorded list of verbs) and a hub
 * ManifestWork store. Pure logic only; the e2e tests use the real API servers.
 */
import type { ManifestWork } from '../../../api/index.ts';
import { isJsonObject, type JsonObject } from '../apply-decision.ts';
import { WorkError } from '../errors.ts';
import { identityKey, splitApiVersion, type ResourceRef } from '../resource-ref.ts';
import type { ResolvedKind, SpokeApi } from '../spoke-client.ts';
import type { WorkStore } from '../work-store.ts';

const KINDS: Record<string, { resource: string; namespaced: boolean }> = {
  ConfigMap: { resource: 'configmaps', namespaced: true },
  Namespace: { resource: 'namespaces', namespaced: false },
  AppliedManifestWork: { resource: 'appliedmanifestworks', namespaced: false },
};

function meta(object: JsonObject): JsonObject {
  if (!isJsonObject(object.metadata)) object.metadata = {};
  return object.metadata as JsonObject;
}

/** A fake spoke; `isDown` makes every call fail as an unreachable cluster. */
export class FakeSpoke implements SpokeApi {
  readonly objects = new Map<string, JsonObject>();
  readonly verbs: string[] = [];
  /** Every `get`, as `get <identityKey>` (writes are in `verbs`). */
  readonly reads: string[] = [];
  isDown = false;
  /** Answers SubjectAccessReviews (default: allowed); `reviews` records `verb identity` asked. */
  allow: (spec: JsonObject) => boolean = () => true;
  readonly reviews: string[] = [];
  #next = 1;

  #check(verb: string, ref?: ResourceRef): void {
    if (this.isDown) {
      throw new WorkError(
        'HUB_ERR_WORK_SPOKE_UNREACHABLE',
        `${verb}: the cluster could not be reached`,
      );
    }
    if (verb !== 'get' && ref !== undefined) this.verbs.push(`${verb} ${identityKey(ref)}`);
  }

  #stamp(object: JsonObject, isNew: boolean): JsonObject {
    const m = meta(object);
    if (isNew) m.uid = `uid-${this.#next++}`;
    m.resourceVersion = String(this.#next++);
    return structuredClone(object);
  }

  /** The stored object of `ref`, for assertions. */
  object(ref: ResourceRef): JsonObject | undefined {
    return this.objects.get(identityKey(ref));
  }

  async resolve(apiVersion: string, kind: string): Promise<ResolvedKind> {
    this.#check('resolve');
    const found = KINDS[kind];
    if (found === undefined) {
      throw new WorkError(
        'HUB_ERR_WORK_UNKNOWN_KIND',
        `no matches for kind "${kind}" in version "${apiVersion}" on the cluster`,
      );
    }
    return { ...splitApiVersion(apiVersion), kind, ...found };
  }

  async get(ref: ResourceRef): Promise<JsonObject | undefined> {
    this.#check('get', ref);
    this.reads.push(`get ${identityKey(ref)}`);
    const found = this.objects.get(identityKey(ref));
    return found === undefined ? undefined : structuredClone(found);
  }

  async create(ref: ResourceRef, body: JsonObject): Promise<JsonObject> {
    if (ref.resource === 'subjectaccessreviews') {
      this.#check('review');
      const spec = body.spec as JsonObject;
      const attrs = spec.resourceAttributes as Record<string, string>;
      this.reviews.push(`${attrs.verb} ${identityKey(attrs as unknown as ResourceRef)}`);
      return { ...body, status: { allowed: this.allow(spec) } };
    }
    this.#check('create', ref);
    if (this.objects.has(identityKey(ref))) {
      throw new WorkError('HUB_ERR_WORK_SPOKE_API', 'already exists', { status: 409 });
    }
    if (isJsonObject(body.data) && Object.values(body.data).some((v) => typeof v !== 'string')) {
      throw new WorkError('HUB_ERR_WORK_SPOKE_API', 'data values must be strings', { status: 400 });
    }
    const stored = this.#stamp(structuredClone(body), true);
    this.objects.set(identityKey(ref), stored);
    return structuredClone(stored);
  }

  async replace(ref: ResourceRef, body: JsonObject): Promise<JsonObject> {
    this.#check('replace', ref);
    const current = this.objects.get(identityKey(ref));
    if (current === undefined)
      throw new WorkError('HUB_ERR_WORK_SPOKE_API', 'not found', { status: 404 });
    if (meta(body).resourceVersion !== meta(current).resourceVersion) {
      throw new WorkError('HUB_ERR_WORK_SPOKE_API', 'conflict', { status: 409 });
    }
    const stored = this.#stamp({ ...structuredClone(body), status: current.status }, false);
    this.objects.set(identityKey(ref), stored);
    return structuredClone(stored);
  }

  async replaceStatus(ref: ResourceRef, body: JsonObject): Promise<JsonObject> {
    this.#check('replaceStatus', ref);
    const current = this.objects.get(identityKey(ref));
    if (current === undefined)
      throw new WorkError('HUB_ERR_WORK_SPOKE_API', 'not found', { status: 404 });
    const stored = this.#stamp({ ...current, status: structuredClone(body.status) }, false);
    this.objects.set(identityKey(ref), stored);
    return structuredClone(stored);
  }

  async apply(ref: ResourceRef, body: JsonObject): Promise<JsonObject> {
    this.#check('apply', ref);
    const current = this.objects.get(identityKey(ref));
    const merged = { ...(current ?? {}), ...structuredClone(body) };
    if (current !== undefined) meta(merged).uid = meta(current).uid;
    const stored = this.#stamp(merged, current === undefined);
    this.objects.set(identityKey(ref), stored);
    return structuredClone(stored);
  }

  async mergePatch(ref: ResourceRef, patch: JsonObject): Promise<JsonObject | undefined> {
    this.#check('mergePatch', ref);
    const current = this.objects.get(identityKey(ref));
    if (current === undefined) return undefined;
    const patchMeta = isJsonObject(patch.metadata) ? patch.metadata : {};
    const m = { ...meta(current) };
    for (const [key, value] of Object.entries(patchMeta)) {
      if (value === null) delete m[key];
      else m[key] = value;
    }
    const stored = this.#stamp({ ...current, metadata: m }, false);
    this.objects.set(identityKey(ref), stored);
    return structuredClone(stored);
  }

  async delete(ref: ResourceRef): Promise<boolean> {
    this.#check('delete', ref);
    return this.objects.delete(identityKey(ref));
  }

  async list(): Promise<JsonObject> {
    return { metadata: { resourceVersion: '1' } };
  }

  watch() {
    return { abort: () => undefined };
  }
}

/** A hub store holding ManifestWorks by `namespace/name`, recording its writes. */
export class FakeWorkStore implements WorkStore {
  readonly works = new Map<string, ManifestWork>();
  readonly writes: string[] = [];
  #rv = 1;

  put(work: ManifestWork): void {
    const stored = structuredClone(work);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.#rv++) };
    this.works.set(`${work.metadata?.namespace}/${work.metadata?.name}`, stored);
  }

  work(namespace: string, name: string): ManifestWork | undefined {
    return this.works.get(`${namespace}/${name}`);
  }

  async get(namespace: string, name: string): Promise<ManifestWork | undefined> {
    const found = this.work(namespace, name);
    return found === undefined ? undefined : structuredClone(found);
  }

  #write(work: ManifestWork, what: string, change: (stored: ManifestWork) => void) {
    const key = `${work.metadata?.namespace}/${work.metadata?.name}`;
    const stored = this.works.get(key);
    if (
      stored === undefined ||
      stored.metadata?.resourceVersion !== work.metadata?.resourceVersion
    ) {
      return undefined;
    }
    this.writes.push(`${what} ${key}`);
    const next = structuredClone(stored);
    change(next);
    next.metadata = { ...next.metadata, resourceVersion: String(this.#rv++) };
    // A deleting object whose last finalizer goes is gone.
    if (next.metadata.deletionTimestamp != null && (next.metadata.finalizers ?? []).length === 0) {
      this.works.delete(key);
      return next;
    }
    this.works.set(key, next);
    return structuredClone(next);
  }

  async setFinalizers(work: ManifestWork, finalizers: readonly string[]) {
    return this.#write(work, 'finalizers', (w) => {
      w.metadata = { ...w.metadata, finalizers: [...finalizers] };
    });
  }

  async delete(work: ManifestWork): Promise<boolean> {
    const key = `${work.metadata?.namespace}/${work.metadata?.name}`;
    const stored = this.works.get(key);
    if (stored === undefined) return false;
    this.writes.push(`delete ${key}`);
    if ((stored.metadata?.finalizers ?? []).length === 0) this.works.delete(key);
    else {
      stored.metadata = {
        ...stored.metadata,
        deletionTimestamp: new Date(0).toISOString(),
        resourceVersion: String(this.#rv++),
      };
    }
    return true;
  }

  async replaceStatus(work: ManifestWork) {
    return this.#write(work, 'status', (w) => {
      if (work.status === undefined) delete w.status;
      else w.status = structuredClone(work.status);
    });
  }
}
