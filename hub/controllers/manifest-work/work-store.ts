import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import { WORK_GROUP, type ManifestWork } from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';

const KIND = { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' };

/**
 * The hub's ManifestWorks as the work controller reads and writes them. Stateless: each call is
 * one API request; safe to use concurrently.
 */
export interface WorkStore {
  /** The work, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<ManifestWork | undefined>;
  /**
   * Sets `metadata.finalizers` (JSON merge patch guarded by the work's resourceVersion).
   * Resolves the updated work, or undefined on a conflict or when the work is gone.
   */
  setFinalizers(
    work: ManifestWork,
    finalizers: readonly string[],
  ): Promise<ManifestWork | undefined>;
  /**
   * Writes `work.status` through the status subresource (resourceVersion guard). Resolves the
   * updated work, or undefined on a conflict or when the work is gone.
   */
  replaceStatus(work: ManifestWork): Promise<ManifestWork | undefined>;
  /**
   * Deletes the work (uid precondition, so a new work of the same name is never hit); its
   * finalizer then holds it until the spoke is cleaned up. Resolves false when it was gone.
   */
  delete(work: ManifestWork): Promise<boolean>;
}

/** A {@link WorkStore} on the hub API server of `kubeConfig`. */
export function kubeWorkStore(kubeConfig: KubeConfig): WorkStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const tolerate = (err: unknown): undefined => {
    const code = apiStatus(err);
    if (code === 409 || code === 404) return undefined;
    throw err;
  };
  const where = (work: ManifestWork) => ({
    ...KIND,
    namespace: work.metadata?.namespace ?? '',
    name: work.metadata?.name ?? '',
  });
  return {
    async get(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...KIND, namespace, name })) as ManifestWork;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async setFinalizers(work, finalizers) {
      try {
        return (await api.patchNamespacedCustomObject(
          {
            ...where(work),
            body: {
              metadata: { finalizers, resourceVersion: work.metadata?.resourceVersion },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )) as ManifestWork;
      } catch (err: unknown) {
        return tolerate(err);
      }
    },
    async delete(work) {
      try {
        await api.deleteNamespacedCustomObject({
          ...where(work),
          body: {
            ...(work.metadata?.uid === undefined
              ? {}
              : { preconditions: { uid: work.metadata.uid } }),
            propagationPolicy: 'Background',
          },
        });
        return true;
      } catch (err: unknown) {
        return tolerate(err) ?? false;
      }
    },
    async replaceStatus(work) {
      try {
        return (await api.replaceNamespacedCustomObjectStatus({
          ...where(work),
          body: work,
        })) as ManifestWork;
      } catch (err: unknown) {
        return tolerate(err);
      }
    },
  };
}

/** What {@link CachingWorkStore.observe} reads of an object. */
interface ObjectRef {
  readonly metadata?: {
    readonly namespace?: string;
    readonly name?: string;
    readonly resourceVersion?: string;
  };
}

/** The cache a {@link cachingWorkStore} reads: the controller's informer on ManifestWorks. */
export interface WorkCache {
  /** Whether the cache has been filled by a first list. */
  isSynced(): boolean;
  get(namespace: string, name: string): ManifestWork | undefined;
}

/** A {@link WorkStore} that reads from a cache, and what the cache's informer must tell it. */
export interface CachingWorkStore {
  readonly store: WorkStore;
  /** Call with every object the informer delivers (before the work is queued). */
  observe(work: ObjectRef): void;
}

/**
 * `live`, with `get` answered from `cache` where that is safe: a reconcile then costs no GET of
 * the work it was queued for. Not safe, and read live instead: before the cache has synced;
 * while a write of ours has not come back through the informer yet (the cache would hold the
 * work as it was before our write); after a write of ours lost to a conflict (someone else's
 * write, which the cache may not hold yet). A live read that finds a version the cache does not
 * hold yet waits for that version instead. Cached objects are cloned: callers may change what
 * they get.
 */
export function cachingWorkStore(live: WorkStore, cache: WorkCache): CachingWorkStore {
  /** Works whose cached copy is behind: the resourceVersion the cache must reach first. */
  const awaited = new Map<string, string | undefined>();
  const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
  const keyOfWork = (work: ObjectRef) =>
    keyOf(work.metadata?.namespace ?? '', work.metadata?.name ?? '');
  /** After a write: `written` is what the cache must reach, undefined (conflict) reads live. */
  const wrote = (work: ManifestWork, written: ManifestWork | undefined): void => {
    awaited.set(keyOfWork(work), written?.metadata?.resourceVersion);
  };
  return {
    store: {
      async get(namespace, name) {
        const key = keyOf(namespace, name);
        if (cache.isSynced() && !awaited.has(key)) {
          const cached = cache.get(namespace, name);
          if (cached !== undefined) return structuredClone(cached);
        }
        const found = await live.get(namespace, name);
        const version = found?.metadata?.resourceVersion;
        if (
          found === undefined ||
          cache.get(namespace, name)?.metadata?.resourceVersion === version
        )
          awaited.delete(key);
        else awaited.set(key, version);
        return found;
      },
      async setFinalizers(work, finalizers) {
        const written = await live.setFinalizers(work, finalizers);
        wrote(work, written);
        return written;
      },
      async replaceStatus(work) {
        const written = await live.replaceStatus(work);
        wrote(work, written);
        return written;
      },
      delete: (work) => live.delete(work),
    },
    observe(work) {
      const key = keyOfWork(work);
      const version = awaited.get(key);
      if (version !== undefined && version === work.metadata?.resourceVersion) awaited.delete(key);
    },
  };
}
