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
