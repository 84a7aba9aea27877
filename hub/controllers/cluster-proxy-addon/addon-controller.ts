import { isDeepStrictEqual } from 'node:util';

import type { KubeConfig } from '@kubernetes/client-node';

import { ADDON_FEATURE_LABEL_PREFIX, type ClusterManagementAddOn } from '../../api/index.ts';
import {
  isClusterConnected,
  clusterTriggers,
  createClusterReconciler,
  describeError,
  kubeGet,
  kubeManagedClusterStore,
  type AgentPresence,
  type ClusterReconciler,
  type ClusterTriggerOptions,
  type ManagedClusterStore,
  UNREACHED_RETRY_MS,
  withSoonRetries,
} from '../../kube/index.ts';
import {
  clusterManagementAddOn,
  decideAddOnStatus,
  featureLabelValue,
  managedClusterAddOn,
  type AddOnDefinition,
  type AgentApiProbe,
} from './addon-decision.ts';
import { kubeAddOnStore, type AddOnStore } from './addon-store.ts';

/**
 * Default period of the add-on status resync, in ms: as OCM's add-on lease (60 s). Agents coming
 * and going are seen within `agentPollMs` anyway; the resync re-probes connected clusters whose
 * last healthy answer is older than `reprobeMs`.
 */
export const DEFAULT_ADDON_RESYNC_MS = 60_000;
/**
 * How long a healthy probe answer (200) stands for a cluster that stayed connected, in ms: the
 * resyncs in between reuse it instead of asking the spoke again: as long as OCM's hub lets a
 * cluster's lease go unrenewed (5 × 60 s) before it calls the cluster Unknown. A tunnel that is
 * lost still turns the add-on Unknown within `agentPollMs`, and an unhealthy answer is never
 * reused.
 */
export const DEFAULT_ADDON_REPROBE_MS = 300_000;
/** How long a probe's answer serves other add-ons asking the same cluster the same path, ms. */
export const SHARED_PROBE_TTL_MS = 15_000;

/**
 * Probes shared between add-on controllers: add-ons that probe the same path of the same
 * cluster within {@link SHARED_PROBE_TTL_MS} (cluster-proxy and the policy framework both read
 * `/readyz`, work-manager and application-manager the AppliedManifestWork CRD) share one
 * request through the tunnel; a probe in flight is joined.
 */
export interface SharedProbes {
  probe(cluster: string, path: string, run: () => Promise<AgentApiProbe>): Promise<AgentApiProbe>;
}

export function shareProbes(
  ttlMs = SHARED_PROBE_TTL_MS,
  now = () => performance.now(),
): SharedProbes {
  const answers = new Map<
    string,
    { readonly at: number; readonly answer: Promise<AgentApiProbe> }
  >();
  let calls = 0;
  return {
    probe(cluster, path, run) {
      const at = now();
      // Expired answers go now and then, so clusters that left do not stay.
      if (++calls % 1_000 === 0) {
        for (const [key, entry] of answers) if (at - entry.at >= ttlMs) answers.delete(key);
      }
      const key = `${cluster} ${path}`;
      const entry = answers.get(key);
      if (entry !== undefined && at - entry.at < ttlMs) return entry.answer;
      const answer = run();
      answers.set(key, { at, answer });
      return answer;
    },
  };
}

/** Options of {@link createAddOnController}. */
export interface AddOnControllerOptions extends ClusterTriggerOptions {
  /** Which add-on: its name, metadata and probe. */
  readonly definition: AddOnDefinition;
  /** The hub API server: ManagedClusters, the add-on objects, cluster namespaces. */
  readonly hub: KubeConfig;
  /** Who is connected: the proxy-server. */
  readonly server: AgentPresence;
  /**
   * How the hub reaches a cluster's agent API: the proxy-server's
   * `spokeKubeConfig(cluster, HUB_CONTROLLER_IDENTITY)`.
   */
  readonly spokeKubeConfig: (cluster: string) => KubeConfig;
  /** Timeout of the agent API probe; default 3 s. */
  readonly probeTimeoutMs?: number;
  /**
   * A connected cluster whose add-on is not Available is reconciled again after this long;
   * default {@link UNREACHED_RETRY_MS}.
   */
  readonly unreachedRetryMs?: number;
  /**
   * How long a healthy probe answer of a cluster that stayed connected is reused by later
   * reconciles; default {@link DEFAULT_ADDON_REPROBE_MS}, 0 probes at every reconcile.
   */
  readonly reprobeMs?: number;
  /** Seams for unit tests. */
  readonly clusters?: ManagedClusterStore;
  readonly addons?: AddOnStore;
  readonly probe?: (cluster: string, spoke: KubeConfig) => Promise<AgentApiProbe>;
  /** Probes shared with the hub's other add-on controllers (the default probe only). */
  readonly sharedProbes?: SharedProbes;
  readonly now?: () => Date;
}

/**
 * A hub-probed add-on (see {@link AddOnDefinition}). `start()` creates the
 * ClusterManagementAddOn (an existing one is left as it is; it is ensured again at every
 * resync), then reconciles every cluster now, when the ManagedCluster watch reports it, when
 * its agents come or all go (every `agentPollMs`), and every `intervalMs`; `stop()` ends the
 * watch and timers and resolves once in-flight reconciles settled (idempotent);
 * `reconcile(name)` creates the cluster's namespace and ManagedClusterAddOn when missing (never
 * changes the spec of an existing one), probes (or reuses a healthy answer of a cluster that
 * stayed connected, for `reprobeMs`), and writes the status and the ManagedCluster
 * label `feature.open-cluster-management.io/addon-<name>` when they changed. A missing or
 * deleting cluster is left alone. Rejects on API failures.
 */
export type AddOnController = ClusterReconciler;

/** GET `path` through the agent API; never rejects. */
export async function probeAgentApi(
  spoke: KubeConfig,
  timeoutMs: number,
  path = '/readyz',
  maxBytes = 64 * 1024,
): Promise<AgentApiProbe> {
  try {
    const answer = await kubeGet(spoke, path, { timeoutMs, maxBytes });
    return { answered: true, status: answer.status };
  } catch (err: unknown) {
    return { answered: false, error: describeError(err) };
  }
}

const HEALTHY_PROBE: AgentApiProbe = { answered: true, status: 200 };

export function createAddOnController(options: AddOnControllerOptions): AddOnController {
  const { definition } = options;
  const featureLabel = `${ADDON_FEATURE_LABEL_PREFIX}${definition.name}`;
  const clusters = options.clusters ?? kubeManagedClusterStore(options.hub);
  const addons = options.addons ?? kubeAddOnStore(options.hub);
  const timeoutMs = options.probeTimeoutMs ?? 3_000;
  const probe =
    options.probe ??
    ((cluster: string, spoke: KubeConfig) => {
      const run = () =>
        probeAgentApi(spoke, timeoutMs, definition.probePath, definition.probeMaxBytes);
      return options.sharedProbes?.probe(cluster, definition.probePath, run) ?? run();
    });
  const now = options.now ?? (() => new Date());
  const reprobeMs = options.reprobeMs ?? DEFAULT_ADDON_REPROBE_MS;
  /** Clusters whose last probe answered 200 while connected: when, by the monotonic clock. */
  const healthySince = new Map<string, number>();
  /**
   * The probe answer for a connected, accepted cluster: the last healthy one while it is recent
   * and the cluster stayed connected (a reconcile that saw it disconnected forgot it), else a
   * new probe.
   */
  const probeOrReuse = async (name: string): Promise<AgentApiProbe> => {
    const at = healthySince.get(name);
    if (at !== undefined && performance.now() - at < reprobeMs) return HEALTHY_PROBE;
    const answer = await probe(name, options.spokeKubeConfig(name));
    if (answer.answered && answer.status === 200) healthySince.set(name, performance.now());
    else healthySince.delete(name);
    return answer;
  };
  const isConnected = (name: string) => isClusterConnected(options.server, name);
  let owner: ClusterManagementAddOn | undefined;

  const ensureOwner = async (): Promise<ClusterManagementAddOn> => {
    owner = await addons.ensureClusterManagementAddOn(clusterManagementAddOn(definition));
    return owner;
  };

  let retrySoon: (name: string) => void = () => undefined;

  /** Resolves true on a write conflict: run again with a fresh read. */
  const reconcileOnce = async (name: string): Promise<boolean> => {
    const cluster = await clusters.get(name);
    if (cluster === undefined || cluster.metadata?.deletionTimestamp != null) {
      healthySince.delete(name);
      return false;
    }
    const cma = owner ?? (await ensureOwner());
    const addon =
      (await addons.getManagedClusterAddOn(name, definition.name)) ??
      (await addons.createManagedClusterAddOn(managedClusterAddOn(name, cma, definition)));
    const accepted = cluster.spec?.hubAcceptsClient === true;
    const connected = isConnected(name);
    if (!(accepted && connected)) healthySince.delete(name);
    const observation =
      accepted && connected
        ? { accepted, connected, probe: await probeOrReuse(name) }
        : { accepted, connected };
    // The agent may have left during the probe: never report a lost tunnel as Available.
    const left = observation.connected && !isConnected(name);
    if (left) healthySince.delete(name);
    const observed = left ? { accepted, connected: false } : observation;
    const status = decideAddOnStatus(addon, cma, observed, now(), definition);
    // Connected, yet not Available (e.g. the probe timed out while a thousand agents connected):
    // look again in seconds, not at the resync a minute later.
    const available = status.conditions?.find((c) => c.type === 'Available');
    if (observed.connected && available?.status !== 'True') retrySoon(name);
    if (!isDeepStrictEqual(status, addon.status ?? {})) {
      if (!(await addons.replaceManagedClusterAddOnStatus({ ...addon, status }))) return true;
    }
    const label = featureLabelValue(status);
    if (cluster.metadata?.labels?.[featureLabel] !== label)
      await clusters.patchLabels(name, { [featureLabel]: label });
    return false;
  };

  return withSoonRetries(
    (soon) => {
      retrySoon = soon;
      return createClusterReconciler({
        reconcileOnce,
        listClusters: async () => {
          await ensureOwner();
          return (await clusters.list()).flatMap((c) =>
            c.metadata?.name === undefined ? [] : [c.metadata.name],
          );
        },
        ...clusterTriggers(options.hub, options.server, {
          ...options,
          intervalMs: options.intervalMs ?? DEFAULT_ADDON_RESYNC_MS,
        }),
      });
    },
    {
      retryMs: options.unreachedRetryMs ?? UNREACHED_RETRY_MS,
      onError: (name, err) => options.onError?.(name, err),
    },
  );
}
