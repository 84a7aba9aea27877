import { isDeepStrictEqual } from 'node:util';

import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import {
  CLUSTER_GROUP,
  Labels,
  WORK_GROUP,
  type ManifestWork,
  type ManifestWorkReplicaSet,
  type PlacementDecision,
} from '../../api/index.ts';
import { createKeyQueue, startInformer, type RunningInformer } from '../../kube/index.ts';
import {
  MWRS_FINALIZER,
  clusterRollout,
  desiredWork,
  isCurrent,
  parseReplicaSetKeyLabel,
  replicaSetKeyLabel,
  templateHash,
  updatedWork,
} from './replica-works.ts';
import { decideReplicaSetStatus, type PlacementObservation } from './replica-set-status.ts';
import { kubeReplicaSetStore, type ReplicaSetStore } from './replica-set-store.ts';
import { decideRollout, type RolloutCluster } from './rollout.ts';

/** Full resync period, ms. */
export const DEFAULT_REPLICA_SET_RESYNC_MS = 30_000;
/** While a Foreground deletion waits for its works, the replica set is looked at this often, ms. */
export const DELETION_POLL_MS = 1_000;

/** Options of {@link createManifestWorkReplicaSetController}. */
export interface ManifestWorkReplicaSetControllerOptions {
  /** The hub API server (no tunnel: the works are delivered by the work controller). */
  readonly hub: KubeConfig;
  /** Full resync period, ms; default {@link DEFAULT_REPLICA_SET_RESYNC_MS}. */
  readonly resyncIntervalMs?: number;
  /**
   * Failures the controller retries on its own, never with payloads: `what` names the replica
   * set (`ManifestWorkReplicaSet <namespace>/<name>`) or the watch.
   */
  readonly onError?: (what: string, err: unknown) => void;
  /** Seams for unit tests. */
  readonly store?: ReplicaSetStore;
  readonly now?: () => Date;
}

/**
 * The ManifestWorkReplicaSet controller (issue 5 item 4), as OCM's: for every replica set, one
 * ManifestWork per cluster its placements decided, in the cluster's namespace, named like the
 * replica set, labelled `work.open-cluster-management.io/manifestworkreplicaset:
 * <namespace>.<name>` and `…/placementname`, rolled out under each placement ref's strategy
 * (rollout.ts); works of clusters no longer decided are deleted; the finalizer
 * `work.open-cluster-management.io/manifest-work-cleanup` deletes every work before the
 * replica set goes (and waits for them with `cascadeDeletionPolicy: Foreground`); status
 * summary and conditions (replica-set-status.ts).
 */
export interface ManifestWorkReplicaSetController {
  /**
   * Starts the watches (replica sets, their works, PlacementDecisions) now; once their first
   * lists are in, reconciles every replica set, then again when it, one of its works or a
   * decision of its placements changes, when a rollout timer (minSuccessTime,
   * progressDeadline) runs out, and every `resyncIntervalMs`. A second call is a no-op.
   */
  start(): void;
  /** Resolves once the watches' first lists are in (after `start()`). */
  readonly synced: Promise<void>;
  /** Ends watches and timers; resolves once in-flight reconciles settled. Idempotent. */
  stop(): Promise<void>;
}

const LIST_VERSIONS = {
  replicaSets: { group: WORK_GROUP, version: 'v1alpha1', plural: 'manifestworkreplicasets' },
  works: { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' },
  decisions: { group: CLUSTER_GROUP, version: 'v1beta1', plural: 'placementdecisions' },
} as const;

export function createManifestWorkReplicaSetController(
  options: ManifestWorkReplicaSetControllerOptions,
): ManifestWorkReplicaSetController {
  const store = options.store ?? kubeReplicaSetStore(options.hub);
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => undefined);
  const api = options.hub.makeApiClient(CustomObjectsApi);
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let isStarted = false;
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let replicaSets: RunningInformer<KubernetesObject> | undefined;
  let works: RunningInformer<KubernetesObject> | undefined;
  let decisions: RunningInformer<KubernetesObject> | undefined;

  const listOf = <T>(informer: RunningInformer<KubernetesObject> | undefined) =>
    (informer?.list() ?? []) as unknown as readonly T[];

  const reconcile = async (key: string): Promise<{ again?: boolean; requeueAfterMs?: number }> => {
    await synced;
    if (isStopped) return {};
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const label = replicaSetKeyLabel(namespace, name);
    const owned = listOf<ManifestWork>(works).filter(
      (w) => w.metadata?.labels?.[Labels.ManifestWorkReplicaSet] === label,
    );
    const deleteAll = async () => {
      for (const w of owned)
        if (w.metadata?.deletionTimestamp == null)
          await store.deleteWork(w.metadata?.namespace ?? '', w.metadata?.name ?? '');
    };
    const mwrs = replicaSets?.get(name, namespace) as ManifestWorkReplicaSet | undefined;
    if (mwrs === undefined) {
      // Gone without its finalizer running (e.g. removed by hand): its works go too.
      await deleteAll();
      return {};
    }
    const finalizers = mwrs.metadata?.finalizers ?? [];
    if (mwrs.metadata?.deletionTimestamp != null) {
      if (!finalizers.includes(MWRS_FINALIZER)) return {};
      await deleteAll();
      if (mwrs.spec?.cascadeDeletionPolicy === 'Foreground' && owned.length > 0)
        return { requeueAfterMs: DELETION_POLL_MS };
      const ok = await store.setFinalizers(
        mwrs,
        finalizers.filter((f) => f !== MWRS_FINALIZER),
      );
      return ok ? {} : { again: true };
    }
    if (!finalizers.includes(MWRS_FINALIZER)) {
      // The watch brings the updated replica set back, which runs this again.
      const ok = await store.setFinalizers(mwrs, [...finalizers, MWRS_FINALIZER]);
      return ok ? {} : { again: true };
    }

    const at = now();
    const hash = templateHash(mwrs);
    const worksByCluster = new Map(owned.map((w) => [w.metadata?.namespace ?? '', w]));
    const assigned = new Set<string>();
    const placements: PlacementObservation[] = [];
    const writes: { cluster: string; placement: string }[] = [];
    let requeueAfterMs: number | undefined;
    for (const ref of mwrs.spec?.placementRefs ?? []) {
      const mine = listOf<PlacementDecision>(decisions)
        .filter(
          (d) =>
            d.metadata?.namespace === namespace &&
            d.metadata.labels?.[Labels.Placement] === ref.name,
        )
        .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
      const clusters: RolloutCluster[] = [];
      const groups = new Set<number>();
      for (const d of mine) {
        const groupIndex = Number(d.metadata?.labels?.[Labels.DecisionGroupIndex] ?? '0') || 0;
        const groupName = d.metadata?.labels?.[Labels.DecisionGroupName] ?? '';
        for (const decision of d.status?.decisions ?? []) {
          const cluster = decision.clusterName;
          if (cluster === '' || assigned.has(cluster)) continue;
          assigned.add(cluster);
          groups.add(groupIndex);
          clusters.push(
            clusterRollout(
              cluster,
              groupIndex,
              groupName,
              worksByCluster.get(cluster),
              hash,
              ref.name,
            ),
          );
        }
      }
      const rollout = decideRollout(clusters, ref.rolloutStrategy, at.getTime());
      for (const cluster of rollout.toApply) writes.push({ cluster, placement: ref.name });
      if (
        rollout.requeueAfterMs !== undefined &&
        (requeueAfterMs === undefined || rollout.requeueAfterMs < requeueAfterMs)
      )
        requeueAfterMs = rollout.requeueAfterMs;
      placements.push({
        name: ref.name,
        isFound: mine.length > 0,
        clusters: clusters.map((c) => c.name),
        groups: groups.size,
        rollout,
      });
    }

    for (const { cluster, placement } of writes) {
      const desired = desiredWork(mwrs, cluster, placement, at);
      const existing = worksByCluster.get(cluster);
      if (existing?.metadata?.deletionTimestamp != null) continue; // written again once gone
      const ok =
        existing === undefined
          ? await store.createWork(desired)
          : await store.replaceWork(updatedWork(existing, desired));
      if (!ok) return { again: true };
    }
    for (const [cluster, w] of worksByCluster)
      if (!assigned.has(cluster) && w.metadata?.deletionTimestamp == null)
        await store.deleteWork(cluster, w.metadata?.name ?? name);

    const kept = owned.filter((w) => assigned.has(w.metadata?.namespace ?? ''));
    const updated = new Set(
      placements.flatMap((p) =>
        p.clusters.filter((c) => {
          const w = worksByCluster.get(c);
          return w !== undefined && isCurrent(w, hash, p.name);
        }),
      ),
    );
    const status = decideReplicaSetStatus(mwrs, placements, kept, updated, at);
    if (!isDeepStrictEqual(status, mwrs.status ?? {})) {
      if (!(await store.replaceStatus({ ...mwrs, status }))) return { again: true };
    }
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  };

  const queue = createKeyQueue({
    process: reconcile,
    onError: (key, err) => onError(`ManifestWorkReplicaSet ${key}`, err),
  });
  const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
    `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const requeueAll = (): void => {
    for (const r of replicaSets?.list() ?? []) queue.add(keyOf(r));
  };
  const onWork = (work: KubernetesObject): void => {
    const parsed = parseReplicaSetKeyLabel(
      work.metadata?.labels?.[Labels.ManifestWorkReplicaSet] ?? '',
    );
    if (parsed !== undefined) queue.add(`${parsed.namespace}/${parsed.name}`);
  };
  const onDecision = (decision: KubernetesObject): void => {
    const placement = decision.metadata?.labels?.[Labels.Placement];
    const namespace = decision.metadata?.namespace;
    for (const r of listOf<ManifestWorkReplicaSet>(replicaSets))
      if (
        r.metadata?.namespace === namespace &&
        (r.spec?.placementRefs ?? []).some((ref) => ref.name === placement)
      )
        queue.add(keyOf(r));
  };
  const informerOf = (
    which: keyof typeof LIST_VERSIONS,
    onChange: (o: KubernetesObject) => void,
    labelSelector?: string,
  ) => {
    const { group, version, plural } = LIST_VERSIONS[which];
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
      replicaSets = informerOf('replicaSets', (o) => queue.add(keyOf(o)));
      works = informerOf('works', onWork, Labels.ManifestWorkReplicaSet);
      decisions = informerOf('decisions', onDecision);
      void Promise.all([replicaSets.synced, works.synced, decisions.synced]).then(() => {
        markSynced();
        requeueAll();
      });
      timer = setInterval(requeueAll, options.resyncIntervalMs ?? DEFAULT_REPLICA_SET_RESYNC_MS);
      timer.unref();
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      clearInterval(timer);
      markSynced(); // reconciles waiting for the caches end (the queue drops them)
      await Promise.all([replicaSets?.stop(), works?.stop(), decisions?.stop()]);
      await queue.stop();
    },
  };
}
