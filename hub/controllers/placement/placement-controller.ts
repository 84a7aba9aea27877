import { isDeepStrictEqual } from 'node:util';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  Annotations,
  Labels,
  type ManagedCluster,
  type ManagedClusterSet,
  type ManagedClusterSetBinding,
  type Placement,
  type PlacementDecision,
} from '../../api/index.ts';
import {
  clusterSetsOf,
  createReconcileLoop,
  kubeCaches,
  type HubCache,
  type StartCache,
} from '../cluster-set/index.ts';
import { clusterClaims } from './cluster-predicates.ts';
import { DecisionIndex } from './decision-index.ts';
import { decidePlacementStatus } from './placement-status.ts';
import { kubePlacementStore, type PlacementStore } from './placement-store.ts';
import { schedulePlacement } from './schedule.ts';

/** Added to a toleration's expiry before the placement is scheduled again, ms. */
export const REQUEUE_SLACK_MS = 100;

/** Options of {@link createPlacementController}. */
export interface PlacementControllerOptions {
  /** The hub API server. */
  readonly hub: KubeConfig;
  /** Full resync period, ms; default 10 s. */
  readonly intervalMs?: number;
  /**
   * Failures the controller retries on its own, never with payloads: `what` names the placement
   * (`Placement <namespace>/<name>`) or the watch (`PlacementDecision watch`).
   */
  readonly onError?: (what: string, err: unknown) => void;
  /** Seams for unit tests: the writes, the watched caches, the clock. */
  readonly store?: PlacementStore;
  readonly caches?: StartCache;
  readonly now?: () => Date;
}

/**
 * The placement scheduler (issue 5 item 3): keeps every Placement's PlacementDecisions
 * (`<placement>-decision-<n>`, at most 100 decisions each, labelled and owned as OCM does) and
 * status (`numberOfSelectedClusters`, `decisionGroups`, `PlacementSatisfied`,
 * `PlacementMisconfigured`) in line with the clusters its bound sets hold, its predicates,
 * tolerations, `numberOfClusters` and prioritizers (schedule.ts). Placements annotated
 * `cluster.open-cluster-management.io/experimental-scheduling-disable: "true"` are left alone.
 */
export interface PlacementController {
  /**
   * Starts the watches (ManagedClusters, sets, bindings, Placements, PlacementDecisions) now;
   * once their first lists are in, schedules every placement, then again whenever something it
   * reads changes (a cluster's labels, claims, taints or deletion; a set; a binding in its
   * namespace; the placement; its decisions), when a toleration runs out, and every
   * `intervalMs`. A second call is a no-op.
   */
  start(): void;
  /** Resolves once the watches' first lists are in (after `start()`). */
  readonly synced: Promise<void>;
  /** Ends watches and timers; resolves once in-flight writes settled. Idempotent. */
  stop(): Promise<void>;
  /**
   * Schedules one placement (`<namespace>/<name>`) now, or once more after the pass running;
   * rejects with its failure. Only after {@link synced}.
   */
  reconcile(key: string): Promise<void>;
}

/** What of a ManagedCluster placements read. */
interface ClusterFacts {
  readonly labels: Readonly<Record<string, string>>;
  readonly claims: string;
  readonly taints: string;
  readonly deleting: boolean;
}

function factsOf(cluster: ManagedCluster): ClusterFacts {
  return {
    labels: cluster.metadata?.labels ?? {},
    claims: JSON.stringify(clusterClaims(cluster)),
    taints: JSON.stringify(cluster.spec?.taints ?? []),
    deleting: cluster.metadata?.deletionTimestamp != null,
  };
}

const keyOf = (o: { metadata?: { name?: string; namespace?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '';

function sameDecisions(current: PlacementDecision, wanted: PlacementDecision): boolean {
  const strip = (d: PlacementDecision) =>
    (d.status?.decisions ?? []).map((c) => ({ clusterName: c.clusterName, reason: c.reason }));
  return current.status !== undefined && isDeepStrictEqual(strip(current), strip(wanted));
}

function missingLabels(
  current: PlacementDecision,
  wanted: PlacementDecision,
): Record<string, string> | undefined {
  const labels = Object.entries(wanted.metadata?.labels ?? {}).filter(
    ([key, value]) => current.metadata?.labels?.[key] !== value,
  );
  return labels.length === 0 ? undefined : Object.fromEntries(labels);
}

export function createPlacementController(
  options: PlacementControllerOptions,
): PlacementController {
  const store = options.store ?? kubePlacementStore(options.hub);
  const startCache = options.caches ?? kubeCaches(options.hub);
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => undefined);
  const index = new DecisionIndex();
  const facts = new Map<string, ClusterFacts>();
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let isStarted = false;
  /** The caches are filled and the loop runs: events schedule placements from now on. */
  let isRunning = false;
  let isStopped = false;

  let clusterCache: HubCache<ManagedCluster> | undefined;
  let setCache: HubCache<ManagedClusterSet> | undefined;
  let bindingCache: HubCache<ManagedClusterSetBinding> | undefined;
  let placementCache: HubCache<Placement> | undefined;
  let decisionCache: HubCache<PlacementDecision> | undefined;
  function fail(): never {
    throw new Error('the placement controller is not started');
  }
  const clusters = () => clusterCache ?? fail();
  const sets = () => setCache ?? fail();
  const bindings = () => bindingCache ?? fail();
  const placements = () => placementCache ?? fail();
  const decisions = () => decisionCache ?? fail();

  const loop = createReconcileLoop({
    reconcileOnce: (key) => reconcile(key),
    listKeys: async () => placements().list().map(keyOf),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    onError: (key, err) => onError(`Placement ${key ?? '(resync)'}`, err),
  });

  const writeDecision = async (wanted: PlacementDecision): Promise<void> => {
    const namespace = wanted.metadata?.namespace ?? '';
    const name = wanted.metadata?.name ?? '';
    const status = wanted.status ?? { decisions: [] };
    const current = decisions().get(name, namespace);
    if (current === undefined) {
      await store.createDecision(wanted);
      await store.patchDecisionStatus(namespace, name, status);
      return;
    }
    const labels = missingLabels(current, wanted);
    if (labels !== undefined) await store.patchDecisionLabels(namespace, name, labels);
    if (!sameDecisions(current, wanted)) await store.patchDecisionStatus(namespace, name, status);
  };

  const reconcile = async (key: string): Promise<boolean> => {
    const [namespace = '', name = ''] = key.split('/');
    const placement = placements().get(name, namespace);
    if (placement === undefined || placement.metadata?.deletionTimestamp != null) return false;
    if (placement.metadata?.annotations?.[Annotations.SchedulingDisabled] === 'true') return false;
    const result = schedulePlacement({
      placement,
      bindings: bindings()
        .list()
        .filter((b) => b.metadata?.namespace === namespace),
      clusterSet: (set) => sets().get(set),
      clusters: clusters().list(),
      decided: index.decided(key),
      otherDecisions: index.countsExcluding(key),
      now: now(),
    });
    const wanted = new Set(result.decisions.map(nameOf));
    for (const decision of result.decisions) await writeDecision(decision);
    for (const existing of index.decisionNames(key))
      if (!wanted.has(existing)) await store.deleteDecision(namespace, existing);
    const status = decidePlacementStatus(placement, result, now());
    if (!isDeepStrictEqual(status, placement.status ?? {}))
      await store.patchPlacementStatus(namespace, name, status);
    if (result.requeueAfterMs !== undefined)
      loop.enqueueAfter(key, result.requeueAfterMs + REQUEUE_SLACK_MS);
    return false;
  };

  /** Schedules the placements of namespaces that bind one of `setNames`. */
  const enqueueForSets = (setNames: ReadonlySet<string>): void => {
    if (!isRunning || setNames.size === 0) return;
    const namespaces = new Set(
      bindings()
        .list()
        .filter((b) => setNames.has(nameOf(b)))
        .map((b) => b.metadata?.namespace ?? ''),
    );
    for (const placement of placements().list())
      if (namespaces.has(placement.metadata?.namespace ?? '')) loop.enqueue(keyOf(placement));
  };

  const onCluster = (cluster: ManagedCluster, isDeleted: boolean): void => {
    const name = nameOf(cluster);
    const before = facts.get(name);
    const after = isDeleted ? undefined : factsOf(cluster);
    if (after === undefined) facts.delete(name);
    else facts.set(name, after);
    if (!isRunning || isDeepStrictEqual(before, after)) return;
    const allSets = sets().list();
    const affected = new Set<string>();
    for (const state of [before, after]) {
      if (state === undefined) continue;
      for (const set of clusterSetsOf(
        { apiVersion: '', kind: '', metadata: { labels: state.labels } },
        allSets,
      ))
        affected.add(set);
    }
    enqueueForSets(affected);
  };

  const report = (what: string) => (err: unknown) => onError(`${what} watch`, err);

  return {
    synced,
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      setCache = startCache<ManagedClusterSet>('ManagedClusterSet', {
        onChange: (set) => enqueueForSets(new Set([nameOf(set)])),
        onError: report('ManagedClusterSet'),
      });
      bindingCache = startCache<ManagedClusterSetBinding>('ManagedClusterSetBinding', {
        onChange: (binding) => {
          if (!isRunning) return;
          for (const placement of placements().list())
            if (placement.metadata?.namespace === binding.metadata?.namespace)
              loop.enqueue(keyOf(placement));
        },
        onError: report('ManagedClusterSetBinding'),
      });
      placementCache = startCache<Placement>('Placement', {
        onChange: (placement, isDeleted) => {
          if (!isDeleted) loop.enqueue(keyOf(placement));
        },
        onError: report('Placement'),
      });
      decisionCache = startCache<PlacementDecision>('PlacementDecision', {
        labelSelector: Labels.Placement,
        onChange: (decision, isDeleted) => {
          for (const key of index.update(decision, isDeleted)) loop.enqueue(key);
        },
        onError: report('PlacementDecision'),
      });
      clusterCache = startCache<ManagedCluster>('ManagedCluster', {
        onChange: onCluster,
        onError: report('ManagedCluster'),
      });
      const caches = [setCache, bindingCache, placementCache, decisionCache, clusterCache];
      void Promise.all(caches.map((cache) => cache.synced)).then(() => {
        if (isStopped) return;
        isRunning = true;
        loop.start();
        markSynced();
      });
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      markSynced();
      await loop.stop();
      await Promise.all(
        [setCache, bindingCache, placementCache, decisionCache, clusterCache].map((cache) =>
          cache?.stop(),
        ),
      );
    },
    reconcile: (key) => loop.reconcile(key),
  };
}
