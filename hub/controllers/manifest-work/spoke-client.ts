/**
 * A JSON client for one spoke's API server, through whatever transport its KubeConfig applies
 * (the proxy-server's `SpokeKubeConfig`: the tunnel and the agent API, as the hub controllers),
 * with kind → resource resolution from the spoke's discovery, cached.
 *
 * Why not client-node's `KubernetesObjectApi`: it serialises known kinds through its typed models,
 * which silently drops fields the models do not know (a newer API field, or a typo the spoke
 * should refuse) and turns timestamps into Dates. A work must reach the spoke exactly as written,
 * so this client sends and receives plain JSON.
 */
import { Buffer } from 'node:buffer';

import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { type Dispatcher, fetch, request as undiciRequest } from 'undici';

import type { JsonObject } from './apply-decision.ts';
import { WorkError } from './errors.ts';
import {
  collectionPath,
  groupVersionPath,
  objectPath,
  splitApiVersion,
  type Gvr,
  type ResourceRef,
} from './resource-ref.ts';

/** Deadline of one request (not of a watch), in ms. */
export const SPOKE_REQUEST_TIMEOUT_MS = 15_000;
/** Largest response body read, in bytes. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** A kind missing from a cached discovery document is looked up again after this, in ms. */
export const DISCOVERY_MISS_REFRESH_MS = 1_000;
/** Discovery documents are fetched again after this, in ms. */
export const DISCOVERY_TTL_MS = 10 * 60_000;

/** What discovery says about a kind. */
export interface ResolvedKind extends Gvr {
  readonly kind: string;
  readonly namespaced: boolean;
}

interface DiscoveryEntry {
  readonly fetchedAt: number;
  /** Kind → resource; undefined when the group/version is not served (404). */
  readonly kinds: Map<string, { resource: string; namespaced: boolean }> | undefined;
}

/** One watch event: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`. */
export interface WatchEvent {
  readonly type: string;
  readonly object: JsonObject;
}

/** A running watch request; `abort()` is idempotent and ends it without calling `onDone`. */
export interface WatchHandle {
  abort(): void;
}

/** A collection: a GVR in one namespace, or in all of them (namespace undefined). */
export type CollectionScope = Gvr & { readonly namespace?: string };

/**
 * What the work controller does on a spoke; {@link SpokeClient} is the implementation (unit tests
 * use an in-memory one). Rejections are {@link WorkError}s as described on SpokeClient.
 */
export interface SpokeApi {
  resolve(apiVersion: string, kind: string): Promise<ResolvedKind>;
  get(ref: ResourceRef): Promise<JsonObject | undefined>;
  create(ref: ResourceRef, body: JsonObject): Promise<JsonObject>;
  replace(ref: ResourceRef, body: JsonObject): Promise<JsonObject>;
  replaceStatus(ref: ResourceRef, body: JsonObject): Promise<JsonObject>;
  apply(
    ref: ResourceRef,
    body: JsonObject,
    fieldManager: string,
    force: boolean,
  ): Promise<JsonObject>;
  mergePatch(ref: ResourceRef, patch: JsonObject): Promise<JsonObject | undefined>;
  delete(ref: ResourceRef, uid?: string): Promise<boolean>;
  list(scope: CollectionScope, query: Record<string, string>): Promise<JsonObject>;
  watch(
    scope: CollectionScope,
    query: Record<string, string>,
    onEvent: (event: WatchEvent) => void,
    onDone: (err: unknown) => void,
  ): WatchHandle;
}

function statusMessage(body: string): { message?: string; reason?: string } {
  try {
    const status = JSON.parse(body) as { message?: unknown; reason?: unknown };
    return {
      ...(typeof status.message === 'string' ? { message: status.message } : {}),
      ...(typeof status.reason === 'string' ? { reason: status.reason } : {}),
    };
  } catch {
    return {};
  }
}

function unreachable(method: string, path: string, err: unknown): WorkError {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    if (!parts.includes(e.message)) parts.push(e.message);
  }
  const detail = parts.length > 0 ? parts.join(': ') : String(err);
  return new WorkError(
    'HUB_ERR_WORK_SPOKE_UNREACHABLE',
    `${method} ${path}: the cluster could not be reached: ${detail}`,
    { cause: err },
  );
}

/**
 * Stateless apart from the discovery cache; safe for concurrent use. Every method rejects with
 * {@link WorkError}: `HUB_ERR_WORK_SPOKE_API` (an answer other than 2xx, with the API server's
 * message), `HUB_ERR_WORK_SPOKE_UNREACHABLE` (no answer: dial failure, tunnel lost, timeout),
 * `HUB_ERR_WORK_UNKNOWN_KIND` (`resolve`). Nothing to close: connections belong to the
 * KubeConfig's transport.
 */
export class SpokeClient implements SpokeApi {
  readonly #kubeConfig: KubeConfig;
  readonly #timeoutMs: number;
  readonly #discovery = new Map<string, DiscoveryEntry>();

  constructor(kubeConfig: KubeConfig, options: { readonly timeoutMs?: number } = {}) {
    this.#kubeConfig = kubeConfig;
    this.#timeoutMs = options.timeoutMs ?? SPOKE_REQUEST_TIMEOUT_MS;
  }

  async #prepare(method: HttpMethod, path: string, query: Record<string, string>) {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error(`${method} ${path}: the kubeconfig has no cluster`);
    const url = new URL(`${cluster.server.replace(/\/+$/, '')}${path}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const context = new RequestContext(url.toString(), method);
    context.setHeaderParam('Accept', 'application/json');
    await this.#kubeConfig.applySecurityAuthentication(context);
    const dispatcher = context.getDispatcher() as Dispatcher | undefined;
    return { url, headers: context.getHeaders(), dispatcher };
  }

  /** One request; resolves the parsed body of a 2xx answer, or undefined for an allowed 404. */
  async request(
    method: HttpMethod,
    path: string,
    options: {
      readonly query?: Record<string, string>;
      readonly body?: unknown;
      readonly contentType?: string;
      readonly notFoundOk?: boolean;
    } = {},
  ): Promise<JsonObject | undefined> {
    let status: number;
    let text: string;
    try {
      const { url, headers, dispatcher } = await this.#prepare(method, path, options.query ?? {});
      // undici's request() rather than fetch(): the same dispatcher and connections, without
      // fetch's Request/Response and web-stream objects (a tenth of the hub's CPU per work).
      const answer = await undiciRequest(url, {
        method,
        headers: {
          ...headers,
          ...(options.body === undefined
            ? {}
            : { 'Content-Type': options.contentType ?? 'application/json' }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of answer.body) {
        size += (chunk as Buffer).byteLength;
        if (size > MAX_BODY_BYTES) throw new Error(`the answer exceeds ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk as Buffer);
      }
      status = answer.statusCode;
      text = Buffer.concat(chunks).toString('utf8');
    } catch (err: unknown) {
      throw unreachable(method, path, err);
    }
    if (status === 404 && options.notFoundOk === true) return undefined;
    if (status < 200 || status > 299) {
      const { message, reason } = statusMessage(text);
      throw new WorkError(
        'HUB_ERR_WORK_SPOKE_API',
        message ?? `${method} ${path}: HTTP ${status}`,
        {
          status,
          ...(reason === undefined ? {} : { reason }),
        },
      );
    }
    try {
      return JSON.parse(text) as JsonObject;
    } catch (err: unknown) {
      throw new WorkError('HUB_ERR_WORK_SPOKE_API', `${method} ${path}: the answer is not JSON`, {
        status,
        cause: err,
      });
    }
  }

  async #discover(group: string, version: string): Promise<DiscoveryEntry> {
    const list = await this.request(HttpMethod.GET, groupVersionPath(group, version), {
      notFoundOk: true,
    });
    const kinds =
      list === undefined ? undefined : new Map<string, { resource: string; namespaced: boolean }>();
    const resources = Array.isArray(list?.resources) ? (list.resources as JsonObject[]) : [];
    for (const r of resources) {
      if (typeof r.name !== 'string' || typeof r.kind !== 'string' || r.name.includes('/'))
        continue;
      kinds?.set(r.kind, { resource: r.name, namespaced: r.namespaced === true });
    }
    const entry = { fetchedAt: Date.now(), kinds };
    this.#discovery.set(`${group}/${version}`, entry);
    return entry;
  }

  /**
   * The resource of `kind` in `apiVersion`, from the spoke's discovery (cached per group/version;
   * a miss looks again at most every {@link DISCOVERY_MISS_REFRESH_MS}, so a kind whose CRD was
   * just created resolves as soon as the spoke serves it).
   */
  async resolve(apiVersion: string, kind: string): Promise<ResolvedKind> {
    const { group, version } = splitApiVersion(apiVersion);
    const key = `${group}/${version}`;
    let entry = this.#discovery.get(key);
    const age = entry === undefined ? Infinity : Date.now() - entry.fetchedAt;
    const isKnown = entry?.kinds?.has(kind) === true;
    if (age > DISCOVERY_TTL_MS || (!isKnown && age > DISCOVERY_MISS_REFRESH_MS)) {
      entry = await this.#discover(group, version);
    }
    const found = entry?.kinds?.get(kind);
    if (found === undefined) {
      throw new WorkError(
        'HUB_ERR_WORK_UNKNOWN_KIND',
        `no matches for kind "${kind}" in version "${apiVersion}" on the cluster`,
      );
    }
    return { group, version, kind, resource: found.resource, namespaced: found.namespaced };
  }

  /** The object, or undefined when it does not exist. */
  get(ref: ResourceRef): Promise<JsonObject | undefined> {
    return this.request(HttpMethod.GET, objectPath(ref), { notFoundOk: true });
  }

  async create(ref: ResourceRef, body: JsonObject): Promise<JsonObject> {
    return (await this.request(HttpMethod.POST, collectionPath(ref, ref.namespace), {
      body,
    })) as JsonObject;
  }

  /** PUT; the body's `metadata.resourceVersion` guards against concurrent writers (409). */
  async replace(ref: ResourceRef, body: JsonObject): Promise<JsonObject> {
    return (await this.request(HttpMethod.PUT, objectPath(ref), { body })) as JsonObject;
  }

  /** PUT on the status subresource. */
  async replaceStatus(ref: ResourceRef, body: JsonObject): Promise<JsonObject> {
    return (await this.request(HttpMethod.PUT, `${objectPath(ref)}/status`, {
      body,
    })) as JsonObject;
  }

  /** Server-side apply with `fieldManager`; conflicts are 409 with the API server's message. */
  async apply(
    ref: ResourceRef,
    body: JsonObject,
    fieldManager: string,
    force: boolean,
  ): Promise<JsonObject> {
    return (await this.request(HttpMethod.PATCH, objectPath(ref), {
      body,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, ...(force ? { force: 'true' } : {}) },
    })) as JsonObject;
  }

  /** JSON merge patch; undefined when the object does not exist. */
  mergePatch(ref: ResourceRef, patch: JsonObject): Promise<JsonObject | undefined> {
    return this.request(HttpMethod.PATCH, objectPath(ref), {
      body: patch,
      contentType: 'application/merge-patch+json',
      notFoundOk: true,
    });
  }

  /**
   * Deletes the object (Background propagation), only if its uid is still `uid` when given.
   * Resolves false when it was already gone or is another object of the same name (409).
   */
  async delete(ref: ResourceRef, uid?: string): Promise<boolean> {
    try {
      const answer = await this.request(HttpMethod.DELETE, objectPath(ref), {
        notFoundOk: true,
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Background',
          ...(uid === undefined || uid === '' ? {} : { preconditions: { uid } }),
        },
      });
      return answer !== undefined;
    } catch (err: unknown) {
      if (err instanceof WorkError && err.status === 409) return false;
      throw err;
    }
  }

  /**
   * A list of `scope` (its namespace, or all namespaces) with `query` (e.g. `limit=1` for a
   * resourceVersion).
   */
  async list(scope: CollectionScope, query: Record<string, string>): Promise<JsonObject> {
    const path = collectionPath(scope, scope.namespace);
    return (await this.request(HttpMethod.GET, path, { query })) as JsonObject;
  }

  /**
   * Watches `scope` (its namespace, or all namespaces) with `query` (from `resourceVersion`,
   * a `fieldSelector`); every event goes to `onEvent` in
   * order; `onDone(err)` is called once when the watch ends by itself (the server's timeout:
   * no error) or fails. Must not throw from the callbacks.
   */
  watch(
    scope: CollectionScope,
    query: Record<string, string>,
    onEvent: (event: WatchEvent) => void,
    onDone: (err: unknown) => void,
  ): WatchHandle {
    const controller = new AbortController();
    const path = collectionPath(scope, scope.namespace);
    const run = async (): Promise<void> => {
      const { url, headers, dispatcher } = await this.#prepare(HttpMethod.GET, path, {
        ...query,
        watch: 'true',
      });
      const answer = await fetch(url, {
        headers,
        signal: controller.signal,
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
      if (answer.status !== 200) {
        const { message } = statusMessage(await answer.text());
        throw new WorkError(
          'HUB_ERR_WORK_SPOKE_API',
          message ?? `watch ${path}: HTTP ${answer.status}`,
          {
            status: answer.status,
          },
        );
      }
      let pending = '';
      for await (const chunk of answer.body ?? []) {
        pending += Buffer.from(chunk as Uint8Array).toString('utf8');
        if (pending.length > MAX_BODY_BYTES)
          throw new Error(`watch ${path}: an event is too large`);
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line !== '') {
            const event = JSON.parse(line) as { type?: unknown; object?: unknown };
            if (typeof event.type === 'string' && typeof event.object === 'object') {
              onEvent({ type: event.type, object: event.object as JsonObject });
            }
          }
          newline = pending.indexOf('\n');
        }
      }
    };
    run().then(
      () => {
        if (!controller.signal.aborted) onDone(undefined);
      },
      (err: unknown) => {
        if (!controller.signal.aborted) onDone(err);
      },
    );
    return { abort: () => controller.abort() };
  }
}
