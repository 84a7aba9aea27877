/**
 * Writing a subscription's SubscriptionReports after a reconcile: its Application report (only
 * when its content changed) and its entry in each cluster's report, for the clusters it reports
 * on now and those it reported on before (whose entry goes). Cluster reports are shared by every
 * subscription placed on the cluster, so each is read just before it is replaced, guarded by its
 * resourceVersion.
 */
import { isDeepStrictEqual } from 'node:util';

import type { Subscription, SubscriptionReport } from '../../api/index.ts';
import {
  applicationReport,
  clusterReport,
  reportedResults,
  type Outcome,
} from './subscription-status.ts';
import type { SubscriptionStore } from './subscription-store.ts';

/**
 * Writes the reports; resolves false on a write conflict (the caller reconciles again).
 * `reported` maps `<namespace>/<name>` to the clusters whose report holds its entry; it is
 * updated once every write succeeded. `previous`: clusters that may hold an entry (works).
 */
export async function writeSubscriptionReports(
  store: SubscriptionStore,
  reported: Map<string, Set<string>>,
  sub: Subscription,
  outcome: Outcome,
  previous: readonly string[],
  at: Date,
): Promise<boolean> {
  const namespace = sub.metadata?.namespace ?? '';
  const name = sub.metadata?.name ?? '';
  const existing = await store.getReport(namespace, name);
  const app = applicationReport(sub, outcome, existing, at);
  const body = (r: SubscriptionReport) => [r.reportType, r.summary, r.results, r.resources];
  if (existing === undefined || !isDeepStrictEqual(body(app), body(existing))) {
    if (!(await store.writeReport(app))) return false;
  }
  const source = `${namespace}/${name}`;
  const results = new Map(reportedResults(outcome).map((r) => [r.cluster, r.result]));
  for (const cluster of new Set([
    ...previous,
    ...(reported.get(source) ?? []),
    ...results.keys(),
  ])) {
    const report = await store.getReport(cluster, cluster);
    const result = results.get(cluster);
    const had = report?.results?.find((r) => r.source === source);
    if (had?.result === result) continue;
    if (report === undefined && result === undefined) continue;
    if (!(await store.writeReport(clusterReport(cluster, report, source, result, at))))
      return false;
  }
  reported.set(source, new Set(results.keys()));
  return true;
}
