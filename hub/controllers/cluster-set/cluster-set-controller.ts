import { isDeepStrictEqual } from 'node:util';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  ManagedClusterConditionTypes,
  type ManagedCluster,
  type ManagedClusterSet,
  type ManagedClusterSetBinding,
} from '../../api/index.ts';
import {
  builtInSelectorReset,
  decideBindingStatus,
  decideClusterLabels,
  decideClusterSetStatus,
  decideClusterTaints,
} from './cluster-set-decision.ts';
import {
  builtInClusterSet,
  clusterSetMembers,
  DEFAULT_CLUSTER_SET,
  GLOBAL_CLUSTER_SET,
} from './cluster-set-membership.ts';
import { kubeClusterSetStore, type ClusterSetStore } from './cluster-set-store.ts';
import { kubeCaches, type HubCache, type StartCache } from './hub-caches.ts';
import { createReconcileLoop } from './reconcile-loop.ts';

const BUILT_IN_SETS = [DEFAULT_CLUSTER_SET, GLOBAL_CLUSTER_SET] as const;

/** Options of {@link createClusterSetController}. */
export interface ClusterSetControllerOptions {
  /** The hub API server. */
  readonly hub: KubeConfig;
  /** Full resync period of each loop, ms; default 10 s (also how soon a deleted built-in set returns). */
  readonly intervalMs?: number;
  /**
   * Failures the controller retries on its own, never with payloads: `what` names the object
   * (`ManagedClusterSet dev`, `ManagedClusterSetBinding ns/dev`, `ManagedCluster c1`) or the
   * watch (`ManagedCluster watch`).
   */
  readonly onError?: (what: string, err: unknown) => void;
  /** Seams for unit tests: the writes, the watched caches, the clock. */
  readonly store?: ClusterSetStore;
  readonly caches?: StartCache;
  readonly now?: () => Date;
}

/**
 * ManagedClusterSets and ManagedClusterSetBindings (cluster.open-cluster-management.io/v1beta2)
 * as OCM's registration hub keeps them (issue 5 item 3):
 * - the built-in sets `default` (ExclusiveClusterSetLabel) and `global` (LabelSelector `{}`:
 *   every cluster) are created at start and again whenever missing, and their
 *   `spec.clusterSelector` is put back when changed (unless annotated
 *   `cluster.open-cluster-management.io/autoupdate: "false"`);
 * - every set's `ClusterSetEmpty` condition follows its members;
 * - every binding's `Bound` condition follows whether its set exists;
 * - every ManagedCluster without a set label gets `cluster.open-cluster-management.io/clusterset:
 *   default`, and the taints `…/unreachable` / `…/unavailable` (NoSelect, with `timeAdded`)
 *   follow its ManagedClusterConditionAvailable.
 */
export interface ClusterSetController {
  /**
   * Starts the watches now; once their first lists are in, creates the missing built-in sets and
   * reconciles everything, then on every change and every `intervalMs`. A second call is a no-op.
   */
  start(): void;
  /** Resolves once the watches' first lists are in (after `start()`). */
  readonly synced: Promise<void>;
  /** Ends watches and timers; resolves once in-flight writes settled. Idempotent. */
  stop(): Promise<void>;
}

/** What of a ManagedCluster the controller reacts to. */
interface ClusterFacts {
  readonly labels: string;
  readonly available: string | undefined;
  readonly taints: string;
  readonly deleting: boolean;
}

function factsOf(cluster: ManagedCluster): ClusterFacts {
  return {
    labels: JSON.stringify(cluster.metadata?.labels ?? {}),
    available: cluster.status?.conditions?.find(
      (c) => c.type === ManagedClusterConditionTypes.Available,
    )?.status,
    taints: JSON.stringify(cluster.spec?.taints ?? []),
    deleting: cluster.metadata?.deletionTimestamp != null,
  };
}

const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '';
const keyOf = (o: { metadata?: { name?: string; namespace?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export function createClusterSetController(
  options: ClusterSetControllerOptions,
): ClusterSetController {
  const store = options.store ?? kubeClusterSetStore(options.hub);
  const startCache = options.caches ?? kubeCaches(options.hub);
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => undefined);
  const interval = options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs };
  const facts = new Map<string, ClusterFacts>();
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let isStarted = false;
  /** The caches are filled and the loops run: events enqueue work from now on. */
  let isRunning = false;
  let isStopped = false;

  const setLoop = createReconcileLoop({
    reconcileOnce: (name) => reconcileSet(name),
    listKeys: async () => {
      await ensureBuiltInSets();
      return sets().list().map(nameOf);
    },
    ...interval,
    onError: (name, err) => onError(`ManagedClusterSet ${name ?? '(resync)'}`, err),
  });
  const bindingLoop = createReconcileLoop({
    reconcileOnce: (key) => reconcileBinding(key),
    listKeys: async () => bindings().list().map(keyOf),
    ...interval,
    onError: (key, err) => onError(`ManagedClusterSetBinding ${key ?? '(resync)'}`, err),
  });
  const clusterLoop = createReconcileLoop({
    reconcileOnce: (name) => reconcileCluster(name),
    listKeys: async () => clusters().list().map(nameOf),
    ...interval,
    onError: (name, err) => onError(`ManagedCluster ${name ?? '(resync)'}`, err),
  });

  let clusterCache: HubCache<ManagedCluster> | undefined;
  let setCache: HubCache<ManagedClusterSet> | undefined;
  let bindingCache: HubCache<ManagedClusterSetBinding> | undefined;
  const clusters = () => clusterCache ?? fail();
  const sets = () => setCache ?? fail();
  const bindings = () => bindingCache ?? fail();
  function fail(): never {
    throw new Error('the cluster-set controller is not started');
  }

  const ensureBuiltInSets = async (): Promise<void> => {
    for (const name of BUILT_IN_SETS) {
      if (sets().get(name) === undefined) await store.createClusterSet(builtInClusterSet(name));
    }
  };

  const reconcileSet = async (name: string): Promise<boolean> => {
    const set = sets().get(name);
    if (set === undefined) {
      if ((BUILT_IN_SETS as readonly string[]).includes(name))
        await store.createClusterSet(builtInClusterSet(name));
      return false;
    }
    if (set.metadata?.deletionTimestamp != null) return false;
    if (builtInSelectorReset(set) !== undefined) {
      // Read it fresh: the write is guarded by its resourceVersion.
      const fresh = await store.getClusterSet(name);
      const reset = fresh === undefined ? undefined : builtInSelectorReset(fresh);
      if (fresh !== undefined && reset !== undefined) {
        const next = { ...fresh, spec: { ...fresh.spec, clusterSelector: reset } };
        if (!(await store.replaceClusterSet(next))) return true;
      }
    }
    const members = clusterSetMembers(set, clusters().list()).length;
    const status = decideClusterSetStatus(set, members, now());
    if (!isDeepStrictEqual(status, set.status ?? {}))
      await store.patchClusterSetStatus(name, status);
    return false;
  };

  const reconcileBinding = async (key: string): Promise<boolean> => {
    const [namespace = '', name = ''] = key.split('/');
    const binding = bindings().get(name, namespace);
    if (binding === undefined || binding.metadata?.deletionTimestamp != null) return false;
    const setExists = sets().get(binding.spec?.clusterSet ?? '') !== undefined;
    const status = decideBindingStatus(binding, setExists, now());
    if (!isDeepStrictEqual(status, binding.status ?? {}))
      await store.patchBindingStatus(namespace, name, status);
    return false;
  };

  const clusterChange = (cluster: ManagedCluster) => {
    const labels = decideClusterLabels(cluster);
    const taints = decideClusterTaints(cluster, now());
    if (labels === undefined && taints === undefined) return undefined;
    return {
      ...(labels === undefined ? {} : { labels }),
      ...(taints === undefined ? {} : { taints }),
    };
  };

  const reconcileCluster = async (name: string): Promise<boolean> => {
    const cached = clusters().get(name);
    if (cached === undefined || clusterChange(cached) === undefined) return false;
    // Decide again on a fresh read: the write is guarded by its resourceVersion.
    const fresh = await store.getCluster(name);
    const change = fresh === undefined ? undefined : clusterChange(fresh);
    if (fresh === undefined || change === undefined) return false;
    return !(await store.patchCluster(name, fresh.metadata?.resourceVersion ?? '', change));
  };

  const onCluster = (cluster: ManagedCluster, isDeleted: boolean): void => {
    const name = nameOf(cluster);
    const before = facts.get(name);
    const after = isDeleted ? undefined : factsOf(cluster);
    if (after === undefined) facts.delete(name);
    else facts.set(name, after);
    if (!isRunning || isDeepStrictEqual(before, after)) return;
    // Membership may have changed: sets are few, recount them all.
    if (before?.labels !== after?.labels)
      for (const set of sets().list()) setLoop.enqueue(nameOf(set));
    if (after !== undefined) clusterLoop.enqueue(name);
  };

  const onSet = (set: ManagedClusterSet): void => {
    if (!isRunning) return;
    const name = nameOf(set);
    setLoop.enqueue(name);
    for (const binding of bindings().list())
      if (binding.spec?.clusterSet === name) bindingLoop.enqueue(keyOf(binding));
  };

  const report = (what: string) => (err: unknown) => onError(`${what} watch`, err);

  return {
    synced,
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      setCache = startCache<ManagedClusterSet>('ManagedClusterSet', {
        onChange: onSet,
        onError: report('ManagedClusterSet'),
      });
      bindingCache = startCache<ManagedClusterSetBinding>('ManagedClusterSetBinding', {
        onChange: (binding, isDeleted) => {
          if (!isDeleted) bindingLoop.enqueue(keyOf(binding));
        },
        onError: report('ManagedClusterSetBinding'),
      });
      clusterCache = startCache<ManagedCluster>('ManagedCluster', {
        onChange: onCluster,
        onError: report('ManagedCluster'),
      });
      const caches = [setCache, bindingCache, clusterCache];
      void Promise.all(caches.map((cache) => cache.synced)).then(() => {
        if (isStopped) return;
        isRunning = true;
        setLoop.start();
        bindingLoop.start();
        clusterLoop.start();
        markSynced();
      });
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      markSynced();
      await Promise.all([setLoop.stop(), bindingLoop.stop(), clusterLoop.stop()]);
      await Promise.all([setCache?.stop(), bindingCache?.stop(), clusterCache?.stop()]);
    },
  };
}
