/**
 * What a Subscription's status and its SubscriptionReports say (pure functions).
 *
 * Per cluster, from the cluster's ManifestWork (the work controller's conditions for the work's
 * current generation): Applied and Available True → `deployed` (shown as phase `Subscribed`);
 * Applied False or Degraded True → `failed` (`Failed`, with the condition's message); otherwise
 * in progress (phase empty). The hub phase is `Propagated` once the works are written and
 * `PropagationFailed` (with a reason and message) when the source could not be read, rendered
 * or delivered.
 */
import { isDeepStrictEqual } from 'node:util';

import {
  APPS_GROUP,
  AppsAnnotations,
  SubscriptionPhases,
  WorkConditionTypes,
  type Condition,
  type ManifestWork,
  type ObjectReference,
  type ReportResult,
  type Subscription,
  type SubscriptionReport,
  type SubscriptionReportResult,
  type SubscriptionStatus,
} from '../../api/index.ts';
import { hostingLabelValue } from './delivery.ts';

/** On a cluster's report: marks it as one (OCM's label). */
export const CLUSTER_REPORT_LABEL = `${APPS_GROUP}/cluster`;

/** One cluster's state. */
export interface ClusterResult {
  readonly cluster: string;
  readonly result: ReportResult | 'inProgress';
  readonly message?: string;
}

function current(work: ManifestWork, type: string): Condition | undefined {
  const c = work.status?.conditions?.find((x) => x.type === type);
  const generation = work.metadata?.generation;
  if (c === undefined) return undefined;
  if (
    generation !== undefined &&
    c.observedGeneration !== undefined &&
    c.observedGeneration !== generation
  )
    return undefined;
  return c;
}

/** The result of one cluster from its work (undefined: no work yet). */
export function clusterResult(cluster: string, work: ManifestWork | undefined): ClusterResult {
  if (work === undefined) return { cluster, result: 'inProgress' };
  const applied = current(work, WorkConditionTypes.Applied);
  const available = current(work, WorkConditionTypes.Available);
  const degraded = current(work, WorkConditionTypes.Degraded);
  if (applied?.status === 'False') return { cluster, result: 'failed', message: applied.message };
  if (degraded?.status === 'True') return { cluster, result: 'failed', message: degraded.message };
  if (applied?.status === 'True' && available?.status === 'True')
    return { cluster, result: 'deployed' };
  return { cluster, result: 'inProgress' };
}

/** The outcome of one reconcile, before it is written. */
export type Outcome =
  | {
      readonly ok: true;
      readonly results: readonly ClusterResult[];
      /** What was read: `commit <sha>`, `chart <name>-<version>`, or a legacy note. */
      readonly revision: string;
      readonly resources: readonly ObjectReference[];
      /** Overrides the default message (Namespace channels). */
      readonly message?: string;
      readonly reason?: string;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly message: string;
      /** The clusters the subscription is placed on (their results become propagationFailed). */
      readonly clusters: readonly string[];
    };

const PHASE_OF: Record<ClusterResult['result'], string> = {
  deployed: SubscriptionPhases.Subscribed,
  failed: SubscriptionPhases.Failed,
  propagationFailed: SubscriptionPhases.PropagationFailed,
  inProgress: '',
};

/** Counts of results. */
export function summarize(results: readonly ClusterResult[]) {
  const count = (r: ClusterResult['result']) => results.filter((x) => x.result === r).length;
  return {
    deployed: count('deployed'),
    inProgress: count('inProgress'),
    failed: count('failed'),
    propagationFailed: count('propagationFailed'),
    clusters: results.length,
  };
}

/**
 * The Subscription's new status. `lastUpdateTime` changes only when something else did, so an
 * unchanged state writes nothing.
 */
export function decideStatus(sub: Subscription, outcome: Outcome, now: Date): SubscriptionStatus {
  const name = sub.metadata?.name ?? '';
  let next: SubscriptionStatus;
  if (!outcome.ok) {
    next = {
      phase: SubscriptionPhases.PropagationFailed,
      reason: outcome.reason,
      message: outcome.message,
    };
  } else {
    const s = summarize(outcome.results);
    const statuses: Record<string, unknown> = {};
    for (const r of outcome.results) {
      statuses[r.cluster] = {
        packages: {
          [name]: { phase: PHASE_OF[r.result], ...(r.message ? { message: r.message } : {}) },
        },
      };
    }
    const counts =
      s.clusters === 0
        ? 'no cluster is placed'
        : `${s.clusters} cluster(s): ${s.deployed} subscribed, ${s.inProgress} in progress, ${s.failed} failed`;
    next = {
      phase: SubscriptionPhases.Propagated,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      message: outcome.message ?? `${outcome.revision} propagated to ${counts}`,
      statuses,
    };
  }
  const { lastUpdateTime: previousTime, ...previous } = sub.status ?? {};
  const keep = {
    ...(sub.status?.appstatusReference === undefined
      ? {}
      : { appstatusReference: sub.status.appstatusReference }),
  };
  const candidate = { ...keep, ...next };
  if (isDeepStrictEqual(candidate, previous) && previousTime !== undefined)
    return { ...candidate, lastUpdateTime: previousTime };
  return { ...candidate, lastUpdateTime: now.toISOString().replace(/\.\d+Z$/, 'Z') };
}

/** The per-cluster results an outcome reports (in progress ones are not reported, as in OCM). */
export function reportedResults(outcome: Outcome): { cluster: string; result: ReportResult }[] {
  if (!outcome.ok)
    return outcome.clusters.map((cluster) => ({ cluster, result: 'propagationFailed' }));
  return outcome.results.flatMap((r) =>
    r.result === 'inProgress' ? [] : [{ cluster: r.cluster, result: r.result }],
  );
}

function timestamp(now: Date) {
  return { seconds: Math.floor(now.getTime() / 1000), nanos: 0 };
}

/** Keeps an earlier result's timestamp when its result did not change. */
function withTimes(
  results: readonly { source: string; result: ReportResult }[],
  previous: readonly SubscriptionReportResult[] | undefined,
  now: Date,
): SubscriptionReportResult[] {
  return results.map((r) => {
    const old = previous?.find((p) => p.source === r.source && p.result === r.result);
    return { source: r.source, result: r.result, timestamp: old?.timestamp ?? timestamp(now) };
  });
}

/** The Application report of `sub` (in its namespace, its name, owned by it). */
export function applicationReport(
  sub: Subscription,
  outcome: Outcome,
  existing: SubscriptionReport | undefined,
  now: Date,
): SubscriptionReport {
  const namespace = sub.metadata?.namespace ?? '';
  const name = sub.metadata?.name ?? '';
  const s = outcome.ok
    ? summarize(outcome.results)
    : {
        ...summarize([]),
        propagationFailed: outcome.clusters.length,
        clusters: outcome.clusters.length,
      };
  const results = reportedResults(outcome).map((r) => ({ source: r.cluster, result: r.result }));
  return {
    apiVersion: `${APPS_GROUP}/v1alpha1`,
    kind: 'SubscriptionReport',
    metadata: {
      name,
      namespace,
      labels: { [AppsAnnotations.HostingSubscription]: hostingLabelValue(namespace, name) },
      ownerReferences: [
        {
          apiVersion: `${APPS_GROUP}/v1`,
          kind: 'Subscription',
          name,
          uid: sub.metadata?.uid ?? '',
          controller: true,
          blockOwnerDeletion: false,
        },
      ],
      ...(existing?.metadata?.resourceVersion === undefined
        ? {}
        : { resourceVersion: existing.metadata.resourceVersion }),
    },
    reportType: 'Application',
    summary: {
      deployed: String(s.deployed),
      inProgress: String(s.inProgress),
      failed: String(s.failed),
      propagationFailed: String(s.propagationFailed),
      clusters: String(s.clusters),
    },
    results: withTimes(results, existing?.results, now),
    resources: outcome.ok ? [...outcome.resources] : (existing?.resources ?? []),
  };
}

/**
 * A cluster's report with the entry of subscription `source` (`<ns>/<name>`) set to `result`,
 * or removed when `result` is undefined. Other subscriptions' entries are kept.
 */
export function clusterReport(
  cluster: string,
  existing: SubscriptionReport | undefined,
  source: string,
  result: ReportResult | undefined,
  now: Date,
): SubscriptionReport {
  const others = (existing?.results ?? []).filter((r) => r.source !== source);
  const mine = result === undefined ? [] : withTimes([{ source, result }], existing?.results, now);
  const na = 'n/a';
  return {
    apiVersion: `${APPS_GROUP}/v1alpha1`,
    kind: 'SubscriptionReport',
    metadata: {
      name: cluster,
      namespace: cluster,
      labels: { [CLUSTER_REPORT_LABEL]: 'true' },
      ...(existing?.metadata?.resourceVersion === undefined
        ? {}
        : { resourceVersion: existing.metadata.resourceVersion }),
    },
    reportType: 'Cluster',
    summary: { deployed: na, inProgress: na, failed: na, propagationFailed: na, clusters: na },
    results: [...others, ...mine].sort((a, b) => ((a.source ?? '') < (b.source ?? '') ? -1 : 1)),
  };
}

/** Object references of delivered manifests (the Application report's `resources`). */
export function resourceRefs(
  manifests: readonly {
    apiVersion: string;
    kind: string;
    metadata?: { name?: string; namespace?: string };
  }[],
): ObjectReference[] {
  return manifests.map((m) => ({
    apiVersion: m.apiVersion,
    kind: m.kind,
    name: m.metadata?.name ?? '',
    ...(m.metadata?.namespace === undefined ? {} : { namespace: m.metadata.namespace }),
  }));
}
