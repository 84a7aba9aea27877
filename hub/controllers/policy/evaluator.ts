import { isDeepStrictEqual } from 'node:util';

import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

import {
  Labels,
  POLICY_GROUP,
  type ConfigurationPolicy,
  type ConfigurationPolicyStatus,
  type Policy,
} from '../../api/index.ts';
import {
  apiStatus,
  createKeyQueue,
  describeError,
  startInformer,
  type RunningInformer,
} from '../../kube/index.ts';
import { SpokeClient } from '../manifest-work/spoke-client.ts';
import { complianceEvents } from './compliance-events.ts';
import { policyMessage } from './compliance-message.ts';
import { evaluateConfigurationPolicy, type WatchInterest } from './evaluate-policy.ts';
import { kubePolicyStore, listAll, POLICY_RESOURCES, type PolicyStore } from './policy-store.ts';
import { isDue, parseInterval, replicaStatus, type TemplateOutcome } from './policy-status.ts';
import { isMap, omitKeys } from './object-compare.ts';
import { SpokeWatchSet } from './spoke-watch-set.ts';

/** Every replica is evaluated again at least this often, ms (watches do the rest). */
export const DEFAULT_EVALUATOR_RESYNC_MS = 60_000;

/** Options of {@link createPolicyEvaluator}. */
export interface PolicyEvaluatorOptions {
  /** The hub API server: replicated Policies, their status, ConfigurationPolicies. */
  readonly hub: KubeConfig;
  /**
   * How the hub reaches a cluster: the proxy-server's `spokeKubeConfig(cluster,
   * HUB_CONTROLLER_IDENTITY)` (the tunnel and the agent API, as the hub controllers).
   */
  readonly spokeKubeConfig: (cluster: string) => KubeConfig;
  /** Full resync period, ms; default {@link DEFAULT_EVALUATOR_RESYNC_MS}. */
  readonly resyncIntervalMs?: number;
  /** Failures retried on their own (never with payloads), with the cluster when known. */
  readonly onError?: (cluster: string | undefined, err: unknown) => void;
  /** Seams for unit tests. */
  readonly store?: PolicyStore;
  readonly now?: () => Date;
}

/**
 * The policy evaluator (issue 7): what OCM's framework add-on and config-policy-controller do on
 * a managed cluster, done by the hub through the tunnel. Every replicated Policy (a Policy with
 * the `root-policy` label, in a cluster namespace) has each ConfigurationPolicy template
 * evaluated against that cluster (evaluate-policy.ts; inform or enforce — the Policy's
 * `remediationAction` overrides the template's unless that is `informOnly`), the template kept
 * as a ConfigurationPolicy in the cluster namespace on the hub (owned by the replica; its status
 * holds `compliant`, `compliancyDetails`, `relatedObjects`, `history`, `lastEvaluated`), and the
 * replica's status `details` / `compliant` written (policy-status.ts) with its compliance Events
 * (compliance-events.ts). Re-evaluated when the
 * replica changes, when a watched object on the cluster changes (one watch per resource type per
 * cluster, through the tunnel), after `evaluationInterval`, and every `resyncIntervalMs`.
 */
export interface PolicyEvaluator {
  /** Starts the replica watch now; evaluates once its first list is in. No-op when repeated. */
  start(): void;
  /** Resolves once the first list of replicas is in (after `start()`). */
  readonly synced: Promise<void>;
  /** Ends every watch and timer; resolves once evaluations in flight settled. Idempotent. */
  stop(): Promise<void>;
}

interface TemplateMemory {
  readonly generation: number | undefined;
  readonly at: number;
  readonly outcome: TemplateOutcome;
  readonly interests: readonly WatchInterest[];
}

interface ClusterState {
  readonly client: SpokeClient;
  readonly watches: SpokeWatchSet;
}

function unsupported(name: string, message: string): TemplateOutcome {
  return { name, compliant: 'NonCompliant', message: `NonCompliant; violation - ${message}` };
}

function withoutTimes(status: ConfigurationPolicyStatus | undefined): unknown {
  if (status === undefined) return undefined;
  const rest = omitKeys(status, 'lastEvaluated', 'lastEvaluatedGeneration', 'history');
  return {
    ...rest,
    compliancyDetails: rest.compliancyDetails?.map((d) => ({
      ...d,
      conditions: d.conditions?.map((c) => omitKeys(c, 'lastTransitionTime')),
    })),
  };
}

export function createPolicyEvaluator(options: PolicyEvaluatorOptions): PolicyEvaluator {
  const store = options.store ?? kubePolicyStore(options.hub);
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => undefined);
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let isStarted = false;
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let replicas: RunningInformer<KubernetesObject> | undefined;
  let configurationPolicies: RunningInformer<KubernetesObject> | undefined;
  const clusters = new Map<string, ClusterState>();
  /** `<replica key>|<template name>` → the last evaluation. */
  const memory = new Map<string, TemplateMemory>();

  /** Replica key → the generation last evaluated. */
  const evaluated = new Map<string, number | undefined>();

  const clusterOf = (cluster: string): ClusterState => {
    let state = clusters.get(cluster);
    if (state === undefined) {
      const client = new SpokeClient(options.spokeKubeConfig(cluster));
      state = {
        client,
        watches: new SpokeWatchSet({
          client,
          onChange: (keys) => {
            for (const key of keys) queue.add(key);
          },
          onError: (err) => onError(cluster, err),
        }),
      };
      clusters.set(cluster, state);
    }
    return state;
  };
  const forget = (key: string, cluster: string): void => {
    evaluated.delete(key);
    for (const k of memory.keys()) if (k.startsWith(`${key}|`)) memory.delete(k);
    const state = clusters.get(cluster);
    if (state === undefined) return;
    state.watches.untrack(key);
    if (state.watches.watched().length === 0) {
      state.watches.stop();
      clusters.delete(cluster);
    }
  };

  const evaluateTemplate = async (
    replica: Policy,
    cluster: ClusterState,
    raw: unknown,
    at: Date,
  ): Promise<{ outcome: TemplateOutcome; interests: readonly WatchInterest[] } | undefined> => {
    const definition = isMap(raw) ? raw : {};
    const meta = isMap(definition.metadata) ? definition.metadata : {};
    const name = typeof meta.name === 'string' ? meta.name : '';
    if (
      definition.kind !== 'ConfigurationPolicy' ||
      definition.apiVersion !== `${POLICY_GROUP}/v1`
    ) {
      return {
        outcome: unsupported(
          name,
          `policy-template kind is not supported: ${String(definition.apiVersion)} ${String(definition.kind)}`,
        ),
        interests: [],
      };
    }
    const spec = isMap(definition.spec) ? definition.spec : {};
    const templateAction =
      typeof spec.remediationAction === 'string' ? spec.remediationAction : 'inform';
    const policyAction = replica.spec.remediationAction;
    const action =
      templateAction.toLowerCase() === 'informonly' ? 'inform' : (policyAction ?? templateAction);
    const namespace = replica.metadata?.namespace ?? '';
    const templates = Array.isArray(spec['object-templates']) ? spec['object-templates'] : [];
    const evaluation = await evaluateConfigurationPolicy(
      cluster.client,
      {
        name,
        ...(isMap(spec.namespaceSelector)
          ? { namespaceSelector: spec.namespaceSelector as never }
          : {}),
        objectTemplates: templates.filter(isMap),
        isEnforce: action.toLowerCase() === 'enforce',
      },
      at,
    );
    const message =
      evaluation.templates.length === 0
        ? 'Compliant; notification - no object templates'
        : policyMessage(evaluation.templates);
    let outcome: TemplateOutcome = {
      name,
      compliant: evaluation.status.compliant === 'Compliant' ? 'Compliant' : 'NonCompliant',
      message,
    };
    // The template as a ConfigurationPolicy in the cluster namespace, owned by the replica.
    try {
      const configurationPolicy: ConfigurationPolicy = {
        apiVersion: `${POLICY_GROUP}/v1`,
        kind: 'ConfigurationPolicy',
        metadata: {
          name,
          namespace,
          labels: {
            [Labels.PolicyClusterName]: namespace,
            [Labels.PolicyClusterNamespace]: namespace,
            'policy.open-cluster-management.io/policy': replica.metadata?.name ?? '',
          },
          ownerReferences: [
            {
              apiVersion: `${POLICY_GROUP}/v1`,
              kind: 'Policy',
              name: replica.metadata?.name ?? '',
              uid: replica.metadata?.uid ?? '',
              controller: true,
              blockOwnerDeletion: false,
            },
          ],
        },
        spec: { ...(spec as ConfigurationPolicy['spec']), remediationAction: action as never },
      };
      const existing = configurationPolicies?.get(name, namespace) as
        ConfigurationPolicy | undefined;
      if (existing === undefined || !isDeepStrictEqual(existing.spec, configurationPolicy.spec)) {
        await store.applyConfigurationPolicy(configurationPolicy);
      }
      const previous = existing?.status;
      const history = previous?.history ?? [];
      const status: ConfigurationPolicyStatus = {
        ...evaluation.status,
        history:
          history[0]?.message === message
            ? history
            : [{ lastTimestamp: at.toISOString(), message }, ...history].slice(0, 10),
        lastEvaluated: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
      if (
        !isDeepStrictEqual(withoutTimes(status), withoutTimes(previous)) ||
        history[0]?.message !== message
      ) {
        await store.patchConfigurationPolicyStatus(namespace, name, status);
      }
    } catch (err: unknown) {
      // The hub refuses the template (its CRD's validation): the template is NonCompliant, and
      // says why unless it already does. Other failures are reported (the replica's status is
      // what counts).
      if (apiStatus(err) !== 422) onError(namespace, err);
      else if (outcome.compliant === 'Compliant') {
        outcome = unsupported(name, `the ConfigurationPolicy is invalid: ${describeError(err)}`);
      }
    }
    return { outcome, interests: evaluation.interests };
  };

  const reconcile = async (key: string): Promise<{ requeueAfterMs?: number }> => {
    await synced;
    if (isStopped) return {};
    const slash = key.indexOf('/');
    const cluster = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const replica = replicas?.get(name, cluster) as Policy | undefined;
    if (
      replica === undefined ||
      replica.spec.disabled ||
      replica.metadata?.deletionTimestamp != null
    ) {
      forget(key, cluster);
      return {};
    }
    const state = clusterOf(cluster);
    const at = now();
    const outcomes: TemplateOutcome[] = [];
    const interests: WatchInterest[] = [];
    let requeueAfterMs: number | undefined;
    for (const template of replica.spec['policy-templates']) {
      const definition = template.objectDefinition as Record<string, unknown>;
      const meta = isMap(definition.metadata) ? definition.metadata : {};
      const templateName = typeof meta.name === 'string' ? meta.name : '';
      const spec = isMap(definition.spec) ? definition.spec : {};
      const memoryKey = `${key}|${templateName}`;
      const last = memory.get(memoryKey);
      if (last !== undefined && last.generation === replica.metadata?.generation) {
        const intervals = isMap(spec.evaluationInterval) ? spec.evaluationInterval : {};
        const text =
          last.outcome.compliant === 'Compliant' ? intervals.compliant : intervals.noncompliant;
        const interval = parseInterval(typeof text === 'string' ? text : undefined) ?? 'watch';
        const due = isDue(interval, last.at, at.getTime());
        if (due.waitMs !== undefined) {
          requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, due.waitMs);
        }
        if (!due.isDue) {
          outcomes.push(last.outcome);
          interests.push(...last.interests);
          continue;
        }
      }
      const result = await evaluateTemplate(replica, state, definition, at);
      if (result === undefined) continue;
      memory.set(memoryKey, {
        generation: replica.metadata?.generation,
        at: at.getTime(),
        outcome: result.outcome,
        interests: result.interests,
      });
      outcomes.push(result.outcome);
      interests.push(...result.interests);
    }
    state.watches.track(key, interests);
    evaluated.set(key, replica.metadata?.generation);
    const status = replicaStatus(name, replica.status, outcomes, at);
    if (!isDeepStrictEqual(status, replica.status ?? {})) {
      if (!(await store.replaceStatus({ ...replica, status }))) return { requeueAfterMs: 0 };
      // Recorded once the status holds their names; a lost event is reported, not retried.
      for (const event of complianceEvents(replica, replica.status, status, at)) {
        await store.createEvent(event).catch((err: unknown) => onError(cluster, err));
      }
    }
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  };

  const queue = createKeyQueue({
    process: reconcile,
    onError: (key, err) => onError(key.slice(0, key.indexOf('/')), err),
  });
  const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const requeueAll = (): void => {
    for (const r of replicas?.list() ?? []) queue.add(keyOf(r));
  };

  return {
    synced,
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      const informer = (
        which: 'policies' | 'configurationPolicies',
        onChange: (o: KubernetesObject, isDeleted: boolean) => void,
        labelSelector: string,
      ) => {
        const resource = POLICY_RESOURCES[which];
        return startInformer<KubernetesObject>({
          kubeConfig: options.hub,
          path: `/apis/${resource.group}/${resource.version}/${resource.plural}`,
          list: listAll(options.hub, resource, labelSelector),
          labelSelector,
          onChange,
          onError: (err) => onError(undefined, err),
        });
      };
      // The evaluator's own status writes come back as updates of the same generation: skip them.
      replicas = informer(
        'policies',
        (o, isDeleted) => {
          const key = keyOf(o);
          const isSeen = evaluated.has(key) && evaluated.get(key) === o.metadata?.generation;
          if (isDeleted || !isSeen) queue.add(key);
        },
        Labels.RootPolicy,
      );
      configurationPolicies = informer(
        'configurationPolicies',
        () => undefined,
        Labels.PolicyClusterName,
      );
      void Promise.all([replicas.synced, configurationPolicies.synced]).then(() => {
        markSynced();
        requeueAll();
      });
      timer = setInterval(requeueAll, options.resyncIntervalMs ?? DEFAULT_EVALUATOR_RESYNC_MS);
      timer.unref();
    },
    async stop() {
      if (isStopped) return;
      isStopped = true;
      clearInterval(timer);
      markSynced();
      await Promise.all([replicas?.stop(), configurationPolicies?.stop()]);
      await queue.stop();
      for (const state of clusters.values()) state.watches.stop();
      clusters.clear();
    },
  };
}
