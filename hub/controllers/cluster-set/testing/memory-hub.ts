/**
 * For unit tests of the cluster-set and placement controllers: an in-memory stand-in for the
 * watched caches (`StartCache`), holding objects by kind, that tells every cache of a kind about
 * each `put` and `remove` as a watch would. Tests' fake stores write through it so the
 * controllers see their own writes come back, as they do from a real API server. A label
 * selector is supported in its `key` (exists) form only.
 */
import type { CachedKind, CacheHandlers, HubCache, StartCache } from '../hub-caches.ts';

interface Meta {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
}

type Watcher = CacheHandlers<unknown> & { readonly isStopped: () => boolean };

const keyOf = (name: string, namespace = '') => `${namespace}/${name}`;

export class MemoryHub {
  readonly #objects = new Map<CachedKind, Map<string, Meta>>();
  readonly #watchers = new Map<CachedKind, Watcher[]>();
  #version = 0;

  #kind(kind: CachedKind): Map<string, Meta> {
    let objects = this.#objects.get(kind);
    if (objects === undefined) this.#objects.set(kind, (objects = new Map()));
    return objects;
  }

  /** Tells the caches on a later microtask: a watch event never arrives inside the write. */
  #notify(kind: CachedKind, object: Meta, isDeleted: boolean): void {
    const copy = structuredClone(object);
    queueMicrotask(() => {
      for (const watcher of this.#watchers.get(kind) ?? []) {
        if (watcher.isStopped() || !selects(watcher.labelSelector, copy)) continue;
        watcher.onChange(structuredClone(copy), isDeleted);
      }
    });
  }

  /** Stores `object` (a new resourceVersion) and tells the caches of `kind`; returns the copy stored. */
  put<T extends Meta>(kind: CachedKind, object: T): T {
    const stored = structuredClone(object);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.#version) };
    this.#kind(kind).set(keyOf(stored.metadata.name ?? '', stored.metadata.namespace), stored);
    this.#notify(kind, stored, false);
    return structuredClone(stored);
  }

  /** Removes an object and tells the caches; false when there was none. */
  remove(kind: CachedKind, name: string, namespace?: string): boolean {
    const objects = this.#kind(kind);
    const object = objects.get(keyOf(name, namespace));
    if (object === undefined) return false;
    objects.delete(keyOf(name, namespace));
    this.#notify(kind, object, true);
    return true;
  }

  get<T>(kind: CachedKind, name: string, namespace?: string): T | undefined {
    const object = this.#kind(kind).get(keyOf(name, namespace));
    return object === undefined ? undefined : (structuredClone(object) as T);
  }

  list<T>(kind: CachedKind): T[] {
    return [...this.#kind(kind).values()].map((o) => structuredClone(o) as T);
  }

  /** A `StartCache` over this hub: the first "list" arrives on a later tick, as a watch's does. */
  readonly startCache: StartCache = <T>(
    kind: CachedKind,
    handlers: CacheHandlers<T>,
  ): HubCache<T> => {
    const cache = new Map<string, T>();
    let isStopped = false;
    let isListed = false;
    const onChange = (object: unknown, isDeleted: boolean) => {
      const meta = (object as Meta).metadata;
      const key = keyOf(meta?.name ?? '', meta?.namespace);
      if (isDeleted) cache.delete(key);
      else cache.set(key, object as T);
      handlers.onChange(object as T, isDeleted);
    };
    const watcher: Watcher = {
      ...(handlers.labelSelector === undefined ? {} : { labelSelector: handlers.labelSelector }),
      onChange: (object, isDeleted) => {
        if (isListed) onChange(object, isDeleted);
      },
      isStopped: () => isStopped,
    };
    const watchers = this.#watchers.get(kind) ?? [];
    watchers.push(watcher);
    this.#watchers.set(kind, watchers);
    const synced = new Promise<void>((resolve) => {
      setTimeout(() => {
        isListed = true;
        for (const object of this.#kind(kind).values())
          if (selects(handlers.labelSelector, object)) onChange(structuredClone(object), false);
        resolve();
      }, 0);
    });
    return {
      synced,
      list: () => [...cache.values()],
      get: (name, namespace) => cache.get(keyOf(name, namespace)),
      async stop() {
        isStopped = true;
      },
    };
  };
}

function selects(labelSelector: string | undefined, object: Meta): boolean {
  if (labelSelector === undefined) return true;
  return Object.hasOwn(object.metadata?.labels ?? {}, labelSelector);
}
