import { isDeepStrictEqual } from 'node:util';

import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

import type { PlacementBinding, PlacementDecision, Policy, PolicySet } from '../../api/index.ts';
import { createKeyQueue, startInformer, type RunningInformer } from '../../kube/index.ts';
import { ensurePolicyAdmissionPolicy } from './admission-policy.ts';
import { policySetStatus } from './policy-set-status.ts';
import { kubePolicyStore, listAll, POLICY_RESOURCES, type PolicyStore } from './policy-store.ts';
import { decidePropagation, isReplicaCurrent, replicaName, rootOf } from './propagation.ts';

/** Full resync period, ms. */
export const DEFAULT_PROPAGATOR_RESYNC_MS = 30_000;

/** Options of {@link createPolicyPropagator}. */
export interface PolicyPropagatorOptions {
  /** The hub API server (no tunnel: replicas are evaluated by the policy evaluator). */
  readonly hub: KubeConfig;
  /** Full resync period, ms; default {@link DEFAULT_PROPAGATOR_RESYNC_MS}. */
  readonly resyncIntervalMs?: number;
  /**
   * Failures the propagator retries on its own, never with payloads: `what` names the root
   * (`Policy <namespace>/<name>`) or the watch.
   */
  readonly onError?: (what: string, err: unknown) => void;
  /**
   * Whether `start()` installs the Policy admission policy (admission-policy.ts); default true.
   * `startHub` passes false: `spokelink init` installs it, and the hub process may not write
   * admission policies.
   */
  readonly installAdmissionPolicy?: boolean;
  /** Seam for unit tests. */
  readonly store?: PolicyStore;
}

/**
 * The policy propagator (issue 7), as OCM's governance-policy-propagator keeps the hub: every
 * root Policy (a Policy without the `policy.open-cluster-management.io/root-policy` label) is
 * replicated into the namespace of each cluster its PlacementBindings place it on, replicas of
 * clusters no longer placed (or of a disabled or deleted root) are deleted, and the root's status
 * (`placement`, per-cluster `status`, aggregated `compliant`) follows the replicas' compliance.
 * The decision is the pure `decidePropagation()` (propagation.ts). Every PolicySet's status
 * (`placement`, `compliant`, `statusMessage`) follows its policies' (policy-set-status.ts).
 */
export interface PolicyPropagator {
  /**
   * Installs the admission policy (unless told not to; a failure goes to `onError`) and starts
   * the watches (Policies, PlacementBindings, PolicySets, PlacementDecisions) now; once their
   * first lists are in, reconciles every root and every PolicySet, then a root again when it, one
   * of its replicas, or a binding, set or decision of its namespace changes, a set when it, a
   * root, a binding or a decision of its namespace changes, and all every `resyncIntervalMs`. A
   * second call is a no-op.
   */
  start(): void;
  /** Resolves once the watches' first lists are in (after `start()`). */
  readonly synced: Promise<void>;
  /** Ends watches and timers; resolves once in-flight reconciles settled. Idempotent. */
  stop(): Promise<void>;
}

export function createPolicyPropagator(options: PolicyPropagatorOptions): PolicyPropagator {
  const store = options.store ?? kubePolicyStore(options.hub);
  const onError = options.onError ?? (() => undefined);
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let isStarted = false;
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let policies: RunningInformer<KubernetesObject> | undefined;
  let bindings: RunningInformer<KubernetesObject> | undefined;
  let policySets: RunningInformer<KubernetesObject> | undefined;
  let decisions: RunningInformer<KubernetesObject> | undefined;
  const listOf = <T>(informer: RunningInformer<KubernetesObject> | undefined) =>
    (informer?.list() ?? []) as unknown as readonly T[];

  const reconcile = async (key: string): Promise<{ again?: boolean }> => {
    await synced;
    if (isStopped) return {};
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const label = replicaName(namespace, name);
    const replicas = new Map<string, Policy>();
    for (const p of listOf<Policy>(policies)) {
      const r = rootOf(p);
      if (r !== undefined && replicaName(r.namespace, r.name) === label) {
        replicas.set(p.metadata?.namespace ?? '', p);
      }
    }
    const root = policies?.get(name, namespace) as Policy | undefined;
    if (root === undefined || rootOf(root) !== undefined) {
      for (const [cluster] of replicas) await store.deletePolicy(cluster, label);
      return {};
    }
    const decision = decidePropagation({
      root,
      bindings: listOf<PlacementBinding>(bindings),
      policySets: listOf<PolicySet>(policySets),
      decisions: listOf<PlacementDecision>(decisions),
      replicas,
    });
    for (const [cluster, desired] of decision.replicas) {
      const existing = replicas.get(cluster);
      if (existing === undefined) {
        if (!(await store.createPolicy(desired))) return { again: true };
      } else if (!isReplicaCurrent(existing, desired)) {
        const ok = await store.replacePolicy({
          ...existing,
          metadata: {
            ...existing.metadata,
            labels: desired.metadata?.labels ?? {},
            annotations: desired.metadata?.annotations ?? {},
          },
          spec: desired.spec,
        });
        if (!ok) return { again: true };
      }
    }
    for (const [cluster] of replicas) {
      if (!decision.replicas.has(cluster)) await store.deletePolicy(cluster, label);
    }
    if (!isDeepStrictEqual(decision.status, root.status ?? {})) {
      if (!(await store.replaceStatus({ ...root, status: decision.status }))) {
        return { again: true };
      }
    }
    return {};
  };

  const reconcileSet = async (key: string): Promise<{ again?: boolean }> => {
    await synced;
    if (isStopped) return {};
    const slash = key.indexOf('/');
    const set = policySets?.get(key.slice(slash + 1), key.slice(0, slash)) as PolicySet | undefined;
    if (set === undefined) return {};
    const status = policySetStatus({
      set,
      policies: listOf<Policy>(policies).filter((p) => rootOf(p) === undefined),
      bindings: listOf<PlacementBinding>(bindings),
      decisions: listOf<PlacementDecision>(decisions),
    });
    if (isDeepStrictEqual(status, set.status ?? {})) return {};
    return (await store.replacePolicySetStatus({ ...set, status })) ? {} : { again: true };
  };

  const queue = createKeyQueue({
    process: reconcile,
    onError: (key, err) => onError(`Policy ${key}`, err),
  });
  const setQueue = createKeyQueue({
    process: reconcileSet,
    onError: (key, err) => onError(`PolicySet ${key}`, err),
  });
  const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
    `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const setsIn = (namespace: string | undefined) => {
    for (const s of listOf<PolicySet>(policySets)) {
      if (s.metadata?.namespace === namespace) setQueue.add(keyOf(s));
    }
  };
  const rootsIn = (namespace: string | undefined) => {
    for (const p of listOf<Policy>(policies)) {
      if (p.metadata?.namespace === namespace && rootOf(p) === undefined) queue.add(keyOf(p));
    }
    setsIn(namespace);
  };
  const onPolicy = (o: KubernetesObject): void => {
    const r = rootOf(o as unknown as Policy);
    queue.add(r === undefined ? keyOf(o) : `${r.namespace}/${r.name}`);
    // A root's status is what its sets sum up.
    if (r === undefined) setsIn(o.metadata?.namespace);
  };
  /** Every root and set, and the root of every replica (a root deleted while stopped: orphans go). */
  const requeueAll = (): void => {
    for (const p of policies?.list() ?? []) onPolicy(p);
    for (const s of policySets?.list() ?? []) setQueue.add(keyOf(s));
  };
  const informerOf = (
    which: keyof typeof POLICY_RESOURCES,
    onChange: (o: KubernetesObject) => void,
  ): RunningInformer<KubernetesObject> => {
    const resource = POLICY_RESOURCES[which];
    return startInformer<KubernetesObject>({
      kubeConfig: options.hub,
      path: `/apis/${resource.group}/${resource.version}/${resource.plural}`,
      list: listAll(options.hub, resource),
      onChange,
      onError: (err) => onError(`${resource.plural} watch`, err),
    });
  };

  return {
    synced,
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      if (options.installAdmissionPolicy !== false) {
        ensurePolicyAdmissionPolicy(options.hub).catch((err: unknown) =>
          onError('the Policy admission policy', err),
        );
      }
      policies = informerOf('policies', onPolicy);
      bindings = informerOf('bindings', (o) => rootsIn(o.metadata?.namespace));
      policySets = informerOf('policySets', (o) => rootsIn(o.metadata?.namespace));
      decisions = informerOf('decisions', (o) => rootsIn(o.metadata?.namespace));
      void Promise.all([
        policies.synced,
        bindings.synced,
        policySets.synced,
        decisions.synced,
      ]).then(() => {
        markSynced();
        requeueAll();
      });
      timer = setInterval(requeueAll, options.resyncIntervalMs ?? DEFAULT_PROPAGATOR_RESYNC_MS);
      timer.unref();
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      clearInterval(timer);
      markSynced();
      await Promise.all([
        policies?.stop(),
        bindings?.stop(),
        policySets?.stop(),
        decisions?.stop(),
      ]);
      await Promise.all([queue.stop(), setQueue.stop()]);
    },
  };
}
