/**
 * The writes of the ManifestWorkReplicaSet controller on the hub API server (its reads come from
 * watched caches). Updates carry the resourceVersion the controller read, so a write from a
 * stale cache is refused (409) and the controller reads again. Stateless; safe to use
 * concurrently.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import { WORK_GROUP, type ManifestWork, type ManifestWorkReplicaSet } from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';

const WORKS = { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' };
const REPLICA_SETS = { group: WORK_GROUP, version: 'v1alpha1', plural: 'manifestworkreplicasets' };
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** See the module comment. Methods resolve false on a write conflict (409). */
export interface ReplicaSetStore {
  /** Creates `work`; one of its name that exists is a conflict. */
  createWork(work: ManifestWork): Promise<boolean>;
  /** Replaces `work` (its resourceVersion guards the write). */
  replaceWork(work: ManifestWork): Promise<boolean>;
  /** Deletes a work (background); a missing one is no error. */
  deleteWork(namespace: string, name: string): Promise<void>;
  /** Sets the replica set's finalizers (guarded by its resourceVersion); missing: no error. */
  setFinalizers(mwrs: ManifestWorkReplicaSet, finalizers: readonly string[]): Promise<boolean>;
  /** Replaces the replica set's status (status subresource); missing: no error. */
  replaceStatus(mwrs: ManifestWorkReplicaSet): Promise<boolean>;
}

function conflictOr404(err: unknown, ifMissing: boolean): boolean {
  const code = apiStatus(err);
  if (code === 409) return false;
  if (code === 404) return ifMissing;
  throw err;
}

/** A {@link ReplicaSetStore} on the hub API server of `kubeConfig`. */
export function kubeReplicaSetStore(kubeConfig: KubeConfig): ReplicaSetStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const where = (o: { metadata?: { namespace?: string; name?: string } }) => ({
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
  });
  return {
    async createWork(work) {
      try {
        await api.createNamespacedCustomObject({
          ...WORKS,
          namespace: where(work).namespace,
          body: work,
        });
        return true;
      } catch (err: unknown) {
        return conflictOr404(err, false);
      }
    },
    async replaceWork(work) {
      try {
        await api.replaceNamespacedCustomObject({ ...WORKS, ...where(work), body: work });
        return true;
      } catch (err: unknown) {
        return conflictOr404(err, false);
      }
    },
    async deleteWork(namespace, name) {
      try {
        await api.deleteNamespacedCustomObject({ ...WORKS, namespace, name });
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw err;
      }
    },
    async setFinalizers(mwrs, finalizers) {
      try {
        await api.patchNamespacedCustomObject(
          {
            ...REPLICA_SETS,
            ...where(mwrs),
            body: {
              metadata: {
                finalizers: [...finalizers],
                resourceVersion: mwrs.metadata?.resourceVersion,
              },
            },
          },
          MERGE_PATCH,
        );
        return true;
      } catch (err: unknown) {
        return conflictOr404(err, true);
      }
    },
    async replaceStatus(mwrs) {
      try {
        await api.replaceNamespacedCustomObjectStatus({
          ...REPLICA_SETS,
          ...where(mwrs),
          body: mwrs,
        });
        return true;
      } catch (err: unknown) {
        return conflictOr404(err, true);
      }
    },
  };
}
