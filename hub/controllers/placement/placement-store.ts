/**
 * The writes of the placement controller on the hub API server (its reads come from watched
 * caches). The controller is the only writer of a Placement's status and of its
 * PlacementDecisions, so writes are merge patches without a resourceVersion guard: a write from
 * a slightly stale cache is simply repeated, never lost in a conflict loop. Stateless; safe to
 * use concurrently.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import {
  CLUSTER_GROUP,
  type PlacementDecision,
  type PlacementDecisionStatus,
  type PlacementStatus,
} from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';

const PLACEMENTS = { group: CLUSTER_GROUP, version: 'v1beta1', plural: 'placements' };
const DECISIONS = { group: CLUSTER_GROUP, version: 'v1beta1', plural: 'placementdecisions' };
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** See the module comment. */
export interface PlacementStore {
  /** Creates `decision` (its status is written separately); one that exists is no error. */
  createDecision(decision: PlacementDecision): Promise<void>;
  /** Writes a PlacementDecision's status (its whole decision list). */
  patchDecisionStatus(
    namespace: string,
    name: string,
    status: PlacementDecisionStatus,
  ): Promise<void>;
  /** Sets labels of a PlacementDecision, leaving others alone. */
  patchDecisionLabels(
    namespace: string,
    name: string,
    labels: Readonly<Record<string, string>>,
  ): Promise<void>;
  /** Deletes a PlacementDecision; a missing one is no error. */
  deleteDecision(namespace: string, name: string): Promise<void>;
  /** Writes a Placement's status; a missing placement is no error. */
  patchPlacementStatus(namespace: string, name: string, status: PlacementStatus): Promise<void>;
}

/** A {@link PlacementStore} on the hub API server of `kubeConfig`. */
export function kubePlacementStore(kubeConfig: KubeConfig): PlacementStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    async createDecision(decision) {
      const body: PlacementDecision = { ...decision };
      delete body.status;
      try {
        await api.createNamespacedCustomObject({
          ...DECISIONS,
          namespace: decision.metadata?.namespace ?? '',
          body,
        });
      } catch (err: unknown) {
        if (apiStatus(err) !== 409) throw err;
      }
    },
    async patchDecisionStatus(namespace, name, status) {
      await api.patchNamespacedCustomObjectStatus(
        { ...DECISIONS, namespace, name, body: { status } },
        MERGE_PATCH,
      );
    },
    async patchDecisionLabels(namespace, name, labels) {
      await api.patchNamespacedCustomObject(
        { ...DECISIONS, namespace, name, body: { metadata: { labels } } },
        MERGE_PATCH,
      );
    },
    async deleteDecision(namespace, name) {
      try {
        await api.deleteNamespacedCustomObject({ ...DECISIONS, namespace, name });
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw err;
      }
    },
    async patchPlacementStatus(namespace, name, status) {
      try {
        await api.patchNamespacedCustomObjectStatus(
          { ...PLACEMENTS, namespace, name, body: { status } },
          MERGE_PATCH,
        );
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw err;
      }
    },
  };
}
