/**
 * The writes of the subscription controller on the hub API server (its reads of subscriptions,
 * channels, works and decisions come from watched caches). Replaces carry the resourceVersion
 * read, so a write from a stale cache is refused (409) and the controller reads again. Stateless;
 * safe to use concurrently. A work the hub refuses as too large rejects with
 * `HUB_ERR_SUB_TOO_LARGE` (shown in the subscription's status).
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

import {
  APPS_GROUP,
  WORK_GROUP,
  type ManifestWork,
  type Subscription,
  type SubscriptionReport,
} from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';
import { SubscriptionError } from './errors.ts';

const WORKS = { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' };
const SUBSCRIPTIONS = { group: APPS_GROUP, version: 'v1', plural: 'subscriptions' };
const REPORTS = { group: APPS_GROUP, version: 'v1alpha1', plural: 'subscriptionreports' };

/** See the module comment. Methods resolve false on a write conflict (409). */
export interface SubscriptionStore {
  createWork(work: ManifestWork): Promise<boolean>;
  /** Replaces `work` (its resourceVersion guards the write). */
  replaceWork(work: ManifestWork): Promise<boolean>;
  /** Deletes a work; a missing one is no error. */
  deleteWork(namespace: string, name: string): Promise<void>;
  /** Replaces the subscription's status (status subresource); missing: no error. */
  replaceStatus(sub: Subscription): Promise<boolean>;
  /** Reads a report; undefined when missing. */
  getReport(namespace: string, name: string): Promise<SubscriptionReport | undefined>;
  /** Creates the report, or replaces it when it carries a resourceVersion. */
  writeReport(report: SubscriptionReport): Promise<boolean>;
}

/** A work the hub refuses as too large (the work admission policy answers 413). */
function tooLarge(err: unknown, work: ManifestWork): never | void {
  if (apiStatus(err) !== 413) return;
  throw new SubscriptionError(
    'HUB_ERR_SUB_TOO_LARGE',
    `the ManifestWork for cluster ${work.metadata?.namespace ?? ''} is larger than the hub accepts (ManifestWork's 500 KiB limit)`,
    { cause: err },
  );
}

function conflictOr(err: unknown, ifMissing: boolean): boolean {
  const code = apiStatus(err);
  if (code === 409) return false;
  if (code === 404) return ifMissing;
  throw err;
}

/** A {@link SubscriptionStore} on the hub API server of `kubeConfig`. */
export function kubeSubscriptionStore(kubeConfig: KubeConfig): SubscriptionStore {
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
        tooLarge(err, work);
        return conflictOr(err, false);
      }
    },
    async replaceWork(work) {
      try {
        await api.replaceNamespacedCustomObject({ ...WORKS, ...where(work), body: work });
        return true;
      } catch (err: unknown) {
        tooLarge(err, work);
        return conflictOr(err, false);
      }
    },
    async deleteWork(namespace, name) {
      try {
        await api.deleteNamespacedCustomObject({ ...WORKS, namespace, name });
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw err;
      }
    },
    async replaceStatus(sub) {
      try {
        await api.replaceNamespacedCustomObjectStatus({
          ...SUBSCRIPTIONS,
          ...where(sub),
          body: sub,
        });
        return true;
      } catch (err: unknown) {
        return conflictOr(err, true);
      }
    },
    async getReport(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({
          ...REPORTS,
          namespace,
          name,
        })) as SubscriptionReport;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async writeReport(report) {
      try {
        if (report.metadata?.resourceVersion === undefined)
          await api.createNamespacedCustomObject({
            ...REPORTS,
            namespace: where(report).namespace,
            body: report,
          });
        else
          await api.replaceNamespacedCustomObject({ ...REPORTS, ...where(report), body: report });
        return true;
      } catch (err: unknown) {
        // 404: the namespace (a cluster's, being removed) is gone; nothing to report into.
        return conflictOr(err, true);
      }
    },
  };
}
