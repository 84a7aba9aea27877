import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import {
  APPS_GROUP,
  AppsAnnotations,
  CLUSTER_GROUP,
  Labels,
  WORK_GROUP,
  type Channel,
  type ManifestWork,
  type PlacementDecision,
  type Subscription,
} from '../../api/index.ts';
import { createKeyQueue, startInformer, type RunningInformer } from '../../kube/index.ts';
import { ensureSubscriptionAdmissionPolicy } from './admission-policy.ts';
import {
  desiredWork,
  HOSTING_SUBSCRIPTION_LABEL,
  prepareObjects,
  scopeKey,
  workName,
} from './delivery.ts';
import { kubeChannelRefReader, type ChannelRefReader } from './channel-access.ts';
import { isSubscriptionError, SubscriptionError } from './errors.ts';
import { PLACEMENT_RULE_LABEL, placedClusters } from './placement-clusters.ts';
import { GitSource } from './git-source.ts';
import { readSource, type SourceRead } from './resolve-source.ts';
import { hubScopeResolver, type KindScope, type ScopeResolver } from './resource-scopes.ts';
import type { RenderTools } from './render.ts';
import {
  clusterReport,
  clusterResult,
  decideStatus,
  resourceRefs,
  type Outcome,
} from './subscription-status.ts';
import { kubeSubscriptionStore, type SubscriptionStore } from './subscription-store.ts';
import { writeSubscriptionReports } from './report-writer.ts';

/** How often a source is read again, by `reconcile-rate` (OCM's Git loop periods), ms. */
export const RECONCILE_RATE_MS = {
  low: 60 * 60_000,
  medium: 3 * 60_000,
  high: 2 * 60_000,
} as const;
/** A source that failed is read again after this long, ms (OCM retries after 90 s). */
export const FAILED_SOURCE_RETRY_MS = 90_000;
/** Full resync period (status from works, decisions), ms. */
export const DEFAULT_SUBSCRIPTION_RESYNC_MS = 60_000;
export { PLACEMENT_RULE_LABEL };

/** Options of {@link createSubscriptionController}. */
export interface SubscriptionControllerOptions {
  /** The hub API server (no tunnel: the works are delivered by the work controller). */
  readonly hub: KubeConfig;
  /** `kubectl` (kustomize) and `helm` (template) binaries. */
  readonly tools: RenderTools;
  /** Folder for Git repositories; default a new temporary folder, removed by `stop()`. */
  readonly cacheDir?: string;
  /** Developer option: accept `file://` and local-path Git channels. Default false. */
  readonly allowLocalRepositories?: boolean;
  /** Overrides of {@link RECONCILE_RATE_MS} (tests use short ones). */
  readonly reconcileRateMs?: Partial<Record<keyof typeof RECONCILE_RATE_MS, number>>;
  readonly failedSourceRetryMs?: number;
  readonly resyncIntervalMs?: number;
  /** Whether `start()` installs the admission policy guarding privileged subscriptions (default true). */
  readonly installAdmissionPolicy?: boolean;
  /** Failures the controller retries on its own, never with payloads. */
  readonly onError?: (what: string, err: unknown) => void;
  /** Seams for tests. */
  readonly store?: SubscriptionStore;
  readonly scopes?: ScopeResolver;
  readonly channelRefs?: ChannelRefReader;
  readonly now?: () => Date;
}

/**
 * The application subscription controller (issue 8): for every Subscription
 * (`apps.open-cluster-management.io/v1`) it reads the Channel's source on the hub (Git,
 * HelmRepo; Namespace as OCM's legacy no-op), renders it, applies the delivery rules
 * (delivery.ts) and writes one ManifestWork per cluster of its placement, named
 * `<namespace>-<name>` and labelled `apps.open-cluster-management.io/hosting-subscription`;
 * resources that left the source leave the work (and the work controller deletes them); works of
 * clusters no longer placed, or of deleted subscriptions, are deleted. Status: `Propagated` /
 * `PropagationFailed` with per-cluster `Subscribed` / `Failed` from the works' conditions, an
 * Application SubscriptionReport beside the subscription and an entry in each cluster's report.
 * A source that cannot be read changes no work.
 */
export interface SubscriptionController {
  /**
   * Installs the admission policy, starts the watches (subscriptions, channels, their works,
   * PlacementDecisions); once their first lists are in, reconciles every subscription, then
   * again when it, its channel, one of its works or a decision of its placement changes, when
   * its reconcile rate comes round, and every `resyncIntervalMs`. A second call is a no-op.
   */
  start(): void;
  /** Resolves once the watches' first lists are in (after `start()`). */
  readonly synced: Promise<void>;
  /** Ends watches and timers, waits for reconciles in flight, removes the Git cache. Idempotent. */
  stop(): Promise<void>;
}

const RESOURCES = {
  subscriptions: { group: APPS_GROUP, version: 'v1', plural: 'subscriptions' },
  channels: { group: APPS_GROUP, version: 'v1', plural: 'channels' },
  works: { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' },
  decisions: { group: CLUSTER_GROUP, version: 'v1beta1', plural: 'placementdecisions' },
} as const;

type ReadResult = { ok: true; read: SourceRead } | { ok: false; error: SubscriptionError };

export function createSubscriptionController(
  options: SubscriptionControllerOptions,
): SubscriptionController {
  const store = options.store ?? kubeSubscriptionStore(options.hub);
  const scopes = options.scopes ?? hubScopeResolver(options.hub);
  const refs = options.channelRefs ?? kubeChannelRefReader(options.hub);
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => undefined);
  const rates = { ...RECONCILE_RATE_MS, ...options.reconcileRateMs };
  const failedRetryMs = options.failedSourceRetryMs ?? FAILED_SOURCE_RETRY_MS;
  const api = options.hub.makeApiClient(CustomObjectsApi);
  const cacheDir = options.cacheDir ?? mkdtempSync(join(tmpdir(), 'spokelink-subscriptions-'));
  const git = new GitSource({
    cacheDir,
    ...(options.allowLocalRepositories === undefined
      ? {}
      : { allowLocalRepositories: options.allowLocalRepositories }),
  });
  /** Clusters whose report has an entry of the subscription key (this process's writes). */
  const reported = new Map<string, Set<string>>();
  /** Last read per subscription key: reused until its fingerprint changes or it is due. */
  const reads = new Map<string, { fingerprint: string; at: number; result: ReadResult }>();
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let isStarted = false;
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  const informers: Partial<Record<keyof typeof RESOURCES, RunningInformer<KubernetesObject>>> = {};
  const listOf = <T>(which: keyof typeof RESOURCES) =>
    (informers[which]?.list() ?? []) as unknown as readonly T[];

  /** The period at which the subscription's source is read again; undefined: `off`. */
  const periodOf = (sub: Subscription, channel: Channel | undefined): number | undefined => {
    if (sub.metadata?.annotations?.[AppsAnnotations.ReconcileRate] === 'off') return undefined;
    const rate = (
      channel?.metadata?.annotations?.[AppsAnnotations.ReconcileRate] ?? 'medium'
    ).toLowerCase();
    if (rate === 'off') return undefined;
    return rate === 'low' || rate === 'high' ? rates[rate] : rates.medium;
  };

  const readCached = async (
    key: string,
    sub: Subscription,
    channel: Channel,
    period: number | undefined,
  ): Promise<ReadResult> => {
    const fingerprint = JSON.stringify([
      sub.metadata?.uid,
      sub.metadata?.generation,
      sub.metadata?.annotations ?? {},
      channel.metadata?.uid,
      channel.metadata?.generation,
    ]);
    const at = now().getTime();
    const cached = reads.get(key);
    if (cached !== undefined && cached.fingerprint === fingerprint) {
      const ttl = cached.result.ok ? period : Math.min(period ?? failedRetryMs, failedRetryMs);
      if (ttl === undefined || at - cached.at < ttl) return cached.result;
    }
    let result: ReadResult;
    try {
      result = {
        ok: true,
        read: await readSource({ git, tools: options.tools, refs }, sub, channel),
      };
    } catch (err: unknown) {
      if (!isSubscriptionError(err)) throw err;
      result = { ok: false, error: err };
    }
    reads.set(key, { fingerprint, at, result });
    return result;
  };

  const resolveScopes = async (objects: SourceRead['objects']) => {
    const map = new Map<string, KindScope | undefined>();
    for (const o of objects) {
      const k = scopeKey(o.apiVersion, o.kind);
      if (!map.has(k)) map.set(k, await scopes(o.apiVersion, o.kind));
    }
    return map;
  };

  const writeReports = (sub: Subscription, outcome: Outcome, previous: readonly string[]) =>
    writeSubscriptionReports(store, reported, sub, outcome, previous, now());

  const reconcile = async (key: string): Promise<{ again?: boolean; requeueAfterMs?: number }> => {
    await synced;
    if (isStopped) return {};
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const hosting = `${namespace}/${name}`;
    const owned = listOf<ManifestWork>('works').filter(
      (w) => w.metadata?.annotations?.[AppsAnnotations.HostingSubscription] === hosting,
    );
    const sub = informers.subscriptions?.get(name, namespace) as Subscription | undefined;
    if (sub === undefined || sub.metadata?.deletionTimestamp != null) {
      reads.delete(key);
      for (const w of owned)
        if (w.metadata?.deletionTimestamp == null)
          await store.deleteWork(w.metadata?.namespace ?? '', w.metadata?.name ?? '');
      // Drop this subscription's entries from the clusters' reports (the Application report
      // goes with the subscription through its owner reference).
      const clusters = new Set([
        ...owned.map((w) => w.metadata?.namespace ?? ''),
        ...(reported.get(key) ?? []),
      ]);
      for (const cluster of clusters) {
        const report = await store.getReport(cluster, cluster);
        if (report?.results?.some((r) => r.source === hosting) === true)
          if (!(await store.writeReport(clusterReport(cluster, report, hosting, undefined, now()))))
            return { again: true };
      }
      reported.delete(key);
      return {};
    }
    const [channelNamespace, channelName, ...rest] = sub.spec.channel.split('/');
    const channel =
      rest.length === 0 && channelNamespace && channelName
        ? (informers.channels?.get(channelName, channelNamespace) as Channel | undefined)
        : undefined;
    const period = periodOf(sub, channel);
    const previousClusters = [
      ...owned.map((w) => w.metadata?.namespace ?? ''),
      ...(reported.get(key) ?? []),
    ];
    let outcome: Outcome;
    let requeueAfterMs = period;
    let clusters: string[] = [];
    try {
      clusters = placedClusters(sub, listOf<PlacementDecision>('decisions'));
      if (rest.length > 0 || !channelNamespace || !channelName) {
        throw new SubscriptionError(
          'HUB_ERR_SUB_INVALID',
          `spec.channel "${sub.spec.channel}" is not <namespace>/<name>`,
        );
      }
      if (channel === undefined) {
        throw new SubscriptionError(
          'HUB_ERR_SUB_CHANNEL_NOT_FOUND',
          `channel ${sub.spec.channel} does not exist`,
        );
      }
      const read = await readCached(key, sub, channel, period);
      if (!read.ok) throw read.error;
      const delivered = prepareObjects(
        sub,
        read.read.objects,
        await resolveScopes(read.read.objects),
      );
      const desired = new Map<string, ManifestWork>();
      if (read.read.note === undefined)
        for (const c of clusters) desired.set(c, desiredWork(sub, c, delivered));
      for (const [cluster, work] of desired) {
        const existing = owned.find((w) => w.metadata?.namespace === cluster);
        if (existing?.metadata?.deletionTimestamp != null) continue; // written again once gone
        if (existing === undefined) {
          if (!(await store.createWork(work))) return { again: true };
        } else if (
          !isDeepStrictEqual(existing.spec, work.spec) ||
          !isDeepStrictEqual(existing.metadata?.labels, work.metadata?.labels)
        ) {
          const body = {
            ...work,
            metadata: {
              ...existing.metadata,
              labels: work.metadata?.labels ?? {},
              annotations: { ...existing.metadata?.annotations, ...work.metadata?.annotations },
            },
          };
          if (!(await store.replaceWork(body))) return { again: true };
        }
      }
      for (const w of owned)
        if (!desired.has(w.metadata?.namespace ?? '') && w.metadata?.deletionTimestamp == null)
          await store.deleteWork(w.metadata?.namespace ?? '', w.metadata?.name ?? '');
      const results = [...desired.keys()].map((c) =>
        clusterResult(
          c,
          owned.find(
            (w) => w.metadata?.namespace === c && w.metadata.name === workName(namespace, name),
          ),
        ),
      );
      outcome = {
        ok: true,
        results,
        revision: read.read.revision,
        resources: resourceRefs(delivered.map((d) => d.manifest)),
        ...(read.read.note === undefined
          ? {}
          : { reason: read.read.note.reason, message: read.read.note.message }),
      };
    } catch (err: unknown) {
      if (!isSubscriptionError(err)) throw err;
      outcome = { ok: false, reason: err.reason, message: err.message, clusters };
      requeueAfterMs = Math.min(period ?? failedRetryMs, failedRetryMs);
    }
    const status = decideStatus(sub, outcome, now());
    if (!isDeepStrictEqual(status, sub.status ?? {})) {
      if (!(await store.replaceStatus({ ...sub, status }))) return { again: true };
    }
    if (!(await writeReports(sub, outcome, previousClusters))) return { again: true };
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  };

  const queue = createKeyQueue({
    process: reconcile,
    onError: (key, err) => onError(`Subscription ${key}`, err),
  });
  const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
    `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const requeueAll = (): void => {
    for (const s of informers.subscriptions?.list() ?? []) queue.add(keyOf(s));
    // Works whose subscription is gone (deleted while the controller was down).
    for (const w of listOf<ManifestWork>('works')) onWork(w);
  };
  const onWork = (work: { metadata?: { annotations?: Record<string, string> } }): void => {
    const hosting = work.metadata?.annotations?.[AppsAnnotations.HostingSubscription];
    if (hosting !== undefined && hosting.includes('/')) queue.add(hosting);
  };
  const onChannel = (channel: KubernetesObject): void => {
    const ref = keyOf(channel);
    for (const s of listOf<Subscription>('subscriptions'))
      if (s.spec?.channel === ref) queue.add(keyOf(s));
  };
  const onDecision = (decision: KubernetesObject): void => {
    const labels = decision.metadata?.labels ?? {};
    const names = [labels[Labels.Placement], labels[PLACEMENT_RULE_LABEL]];
    for (const s of listOf<Subscription>('subscriptions'))
      if (
        s.metadata?.namespace === decision.metadata?.namespace &&
        s.spec?.placement?.placementRef?.name !== undefined &&
        names.includes(s.spec.placement.placementRef.name)
      )
        queue.add(keyOf(s));
  };
  const informerOf = (
    which: keyof typeof RESOURCES,
    onChange: (o: KubernetesObject) => void,
    labelSelector?: string,
  ) => {
    const { group, version, plural } = RESOURCES[which];
    return startInformer<KubernetesObject>({
      kubeConfig: options.hub,
      path: `/apis/${group}/${version}/${plural}`,
      list: async () =>
        (await api.listCustomObjectForAllNamespaces({
          group,
          version,
          resourcePlural: plural,
          ...(labelSelector === undefined ? {} : { labelSelector }),
        })) as KubernetesListObject<KubernetesObject>,
      ...(labelSelector === undefined ? {} : { labelSelector }),
      onChange,
      onError: (err) => onError(`${plural} watch`, err),
    });
  };

  return {
    synced,
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      const policy =
        options.installAdmissionPolicy === false
          ? Promise.resolve()
          : ensureSubscriptionAdmissionPolicy(options.hub).catch((err: unknown) =>
              onError('subscription admission policy', err),
            );
      informers.subscriptions = informerOf('subscriptions', (o) => queue.add(keyOf(o)));
      informers.channels = informerOf('channels', onChannel);
      informers.works = informerOf('works', onWork, HOSTING_SUBSCRIPTION_LABEL);
      informers.decisions = informerOf('decisions', onDecision);
      void Promise.all([policy, ...Object.values(informers).map((i) => i.synced)]).then(() => {
        markSynced();
        requeueAll();
      });
      timer = setInterval(requeueAll, options.resyncIntervalMs ?? DEFAULT_SUBSCRIPTION_RESYNC_MS);
      timer.unref();
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      clearInterval(timer);
      markSynced(); // reconciles waiting for the caches end (the queue drops them)
      await Promise.all(Object.values(informers).map((i) => i.stop()));
      await queue.stop();
      git.close();
    },
  };
}
