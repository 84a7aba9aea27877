// What the policy e2e files on two spokes share: a fleet of two ManagedClusters, one on spoke1
// and one on spoke2, in a ManagedClusterSet that the Placement `both` selects; the cluster-set,
// placement and policy propagator controllers on the hub for the whole file; per test, a tunnel
// rig with an agent (and the agent API) for each cluster, the policy evaluator and optionally the
// policy add-ons. Helpers write Policies and PlacementBindings, read replicas, roots and
// PolicySets, and wait for a cluster's or the root's status (or anything else, with `until`).
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, inject, onTestFinished } from 'vitest';

import { POLICY_GROUP, type Policy, type PolicySet } from '../../hub/api/index.ts';
import { createClusterSetController } from '../../hub/controllers/cluster-set/index.ts';
import { createPlacementController } from '../../hub/controllers/placement/index.ts';
import {
  CONFIG_POLICY_ADDON_NAME,
  createPolicyAddOnControllers,
  createPolicyEvaluator,
  createPolicyPropagator,
  POLICY_FRAMEWORK_ADDON_NAME,
} from '../../hub/controllers/policy/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl, type KubectlResult } from '../framework/kubectl.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';
import {
  controllerRig,
  failOnReconcileErrors,
  grantSpoke,
  type SpokeGrants,
} from './controller-rig.ts';

export const POLICIES = { group: POLICY_GROUP, version: 'v1', plural: 'policies' };
export const POLICY_SETS = { group: POLICY_GROUP, version: 'v1beta1', plural: 'policysets' };
export const CONFIG_POLICIES = {
  group: POLICY_GROUP,
  version: 'v1',
  plural: 'configurationpolicies',
};
/** The Placement (in the fleet's namespace) that every binding of the fleet names. */
export const PLACEMENT = 'both';

export type Kubectl = (args: string[], input?: string) => Promise<KubectlResult>;

/** One of the fleet's ManagedClusters: its name (and cluster namespace) and its spoke. */
export interface FleetCluster {
  readonly name: string;
  /** `spoke1` or `spoke2`, for messages. */
  readonly spokeName: string;
  readonly spoke: SharedControlPlane;
  /** The real kubectl against the spoke as its admin. */
  readonly kubectl: Kubectl;
}

/** The fleet of one test file; its hooks are registered by `policyFleet()`. */
export interface PolicyFleet {
  /** The root policies', bindings' and the Placement's namespace on the hub. */
  readonly namespace: string;
  readonly suffix: string;
  /** spoke1's cluster first: the root's `status[]` is sorted by cluster name in this order. */
  readonly clusters: readonly [FleetCluster, FleetCluster];
  readonly hub: KubeConfig;
  readonly onHub: Kubectl;
  /** `kubectl apply -f -` with `yaml` (on the hub unless `run` says otherwise); must succeed. */
  apply(yaml: string, run?: Kubectl): Promise<void>;
  /** A Policy with ConfigurationPolicy templates and its binding to the Placement. */
  policyYaml(name: string, action: string, templates: string): string;
  /** The Policy of `policyYaml` alone, for a PolicySet (and its binding) to place. */
  unboundPolicyYaml(name: string, action: string, templates: string): string;
  /** A PlacementBinding named `name` of the Placement to the Policy or PolicySet `name`. */
  bindingYaml(name: string, kind: 'Policy' | 'PolicySet'): string;
  replica(cluster: FleetCluster, name: string): Promise<Policy | undefined>;
  root(name: string): Promise<Policy | undefined>;
  policySet(name: string): Promise<PolicySet | undefined>;
  /** The replica once `check` holds for its first template's newest message (and itself). */
  replicaWhere(
    cluster: FleetCluster,
    name: string,
    what: string,
    check: (message: string, policy: Policy) => boolean,
    timeoutMs?: number,
  ): Promise<Policy>;
  /** The root once `check` holds for it. */
  rootWhere(name: string, what: string, check: (policy: Policy) => boolean): Promise<Policy>;
  /**
   * The tunnel rig for both clusters with the evaluator (and the policy add-ons when asked),
   * stopped after the test; reconcile errors on the fleet's clusters fail the test.
   */
  startEvaluation(options?: { addOns?: boolean }): Promise<TunnelRig>;
  /** Remembers `name` for deletion on both spokes; creates it on `on` (default none). */
  spokeNamespace(name: string, on?: readonly FleetCluster[]): Promise<string>;
  /** A root's expected `status.status[]`: `states[i]` for the i-th cluster. */
  perCluster(
    ...states: string[]
  ): { clustername: string; clusternamespace: string; compliant?: string }[];
}

/** The messages of a replica's first template, newest first. */
export function historyOf(policy: Policy | undefined): (string | undefined)[] {
  return (policy?.status?.details?.[0]?.history ?? []).map((h) => h.message);
}

/** Whether a root lists both clusters, each with its replica's compliance. */
export function everyClusterReported(root: Policy): boolean {
  const status = root.status?.status ?? [];
  return status.length === 2 && status.every((s) => s.compliant !== undefined);
}

/**
 * Polls `read` until `check` holds and returns what it read; the failure shows the last value
 * read, or what `shown` picks from it (a Policy's status, say).
 */
export async function until<T>(
  what: string,
  read: () => Promise<T | undefined>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
  shown: (value: T | undefined) => unknown = (value) => value,
): Promise<T> {
  let last: T | undefined;
  const found = async () => {
    last = await read();
    return last !== undefined && check(last) ? last : undefined;
  };
  return eventually(what, found, timeoutMs, 100).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify(shown(last))}`);
  });
}

/** What a failed wait for a Policy shows: its status, without the metadata. */
const statusOf = (policy: Policy | undefined): unknown => policy?.status;

/**
 * Registers the file's `beforeAll` (spoke grants, hub controllers, the fleet's cluster objects,
 * waiting until the Placement selects both) and `afterAll` (cleanup; hub controller errors on
 * the fleet's objects fail the file). Call once at module level; names end in a fresh suffix.
 */
export function policyFleet(prefix: string): PolicyFleet {
  const hubPlane = inject('hub');
  const suffix = Date.now().toString(36);
  const namespace = `${prefix}-${suffix}`;
  const set = `${prefix}-set-${suffix}`;
  const owner = `e2e-${prefix}-${suffix}`;
  const hub = new KubeConfig();
  hub.loadFromFile(hubPlane.kubeconfigPath);
  const objects = hub.makeApiClient(CustomObjectsApi);
  const run =
    (plane: SharedControlPlane): Kubectl =>
    (args, input) =>
      kubectl(plane.binaries.kubectl, args, {
        kubeconfig: plane.kubeconfigPath,
        ...(input === undefined ? {} : { input }),
      });
  const cluster = (spokeName: 'spoke1' | 'spoke2', i: number): FleetCluster => {
    const spoke = inject(spokeName);
    return { name: `${prefix}${i}-${suffix}`, spokeName, spoke, kubectl: run(spoke) };
  };
  const clusters = [cluster('spoke1', 1), cluster('spoke2', 2)] as const;
  const names: readonly string[] = clusters.map((c) => c.name);
  const onHub = run(hubPlane);
  const errors: string[] = [];
  const hubControllers: { start(): void; stop(): Promise<void>; synced: Promise<void> }[] = [];
  const grants: SpokeGrants[] = [];
  const spokeNamespaces: string[] = [];
  let addOnsUsed = false;

  async function apply(yaml: string, on = onHub): Promise<void> {
    const res = await on(['apply', '-f', '-'], yaml);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  }

  async function get<T = Policy>(
    ns: string,
    name: string,
    resource: typeof POLICIES | typeof POLICY_SETS = POLICIES,
  ): Promise<T | undefined> {
    return (await objects
      .getNamespacedCustomObject({ ...resource, namespace: ns, name })
      .catch(() => undefined)) as T | undefined;
  }

  const unboundPolicyYaml = (name: string, action: string, templates: string) =>
    `apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata:
  name: ${name}
  namespace: ${namespace}
  annotations:
    policy.open-cluster-management.io/standards: NIST SP 800-53
spec:
  remediationAction: ${action}
  disabled: false
  policy-templates:
${templates}`;
  const bindingYaml = (name: string, kind: 'Policy' | 'PolicySet') =>
    `apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata:
  name: ${name}
  namespace: ${namespace}
placementRef:
  apiGroup: cluster.open-cluster-management.io
  kind: Placement
  name: ${PLACEMENT}
subjects:
  - apiGroup: policy.open-cluster-management.io
    kind: ${kind}
    name: ${name}
`;

  beforeAll(async () => {
    for (const c of clusters) grants.push(await grantSpoke(c.spoke, c.name));
    const onError = (what: string, err: unknown) => {
      // Other files' objects (in their own, possibly terminating, namespaces) are not ours.
      const foreign = what.includes('/') && !what.includes(`${namespace}/`);
      if (what.endsWith(' watch') || foreign) console.warn(`${what}: ${describeError(err)}`);
      else errors.push(`${what}: ${describeError(err)}`);
    };
    hubControllers.push(
      createClusterSetController({ hub, onError }),
      createPlacementController({ hub, onError }),
      // Installs the Policy admission policy too, as `spokelink init` does for a real hub.
      createPolicyPropagator({ hub, onError }),
    );
    for (const c of hubControllers) c.start();
    await Promise.all(hubControllers.map((c) => c.synced));
    expect((await onHub(['create', 'namespace', namespace])).code).toBe(0);
    for (const c of clusters) {
      await apply(`apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata:
  name: ${c.name}
  labels:
    ${owner}: "true"
    cluster.open-cluster-management.io/clusterset: ${set}
spec:
  hubAcceptsClient: true
`);
      expect((await onHub(['create', 'namespace', c.name])).code).toBe(0);
      const available = {
        type: 'ManagedClusterConditionAvailable',
        status: 'True',
        reason: 'ManagedClusterAvailable',
        message: `set by ${owner}`,
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      };
      const patch = JSON.stringify({ status: { conditions: [available] } });
      const args = ['patch', 'managedcluster', c.name, '--subresource=status', '--type=merge'];
      expect((await onHub([...args, '-p', patch])).code).toBe(0);
    }
    await apply(`apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSet
metadata:
  name: ${set}
spec:
  clusterSelector:
    selectorType: ExclusiveClusterSetLabel
---
apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSetBinding
metadata:
  name: ${set}
  namespace: ${namespace}
spec:
  clusterSet: ${set}
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: ${PLACEMENT}
  namespace: ${namespace}
spec:
  clusterSets: [${set}]
`);
    await eventually(
      'the placement to select both clusters',
      async () => {
        const res = await onHub(['get', 'placement', PLACEMENT, '-n', namespace, '-o', 'json']);
        const p = JSON.parse(res.stdout || '{}') as {
          status?: { numberOfSelectedClusters?: number };
        };
        return p.status?.numberOfSelectedClusters === 2 ? true : undefined;
      },
      30_000,
      200,
    );
  });

  afterAll(async () => {
    await Promise.all(hubControllers.map((c) => c.stop()));
    await onHub(['delete', 'namespace', namespace, ...names, '--wait=false']);
    await onHub(['delete', 'managedclusters', '-l', owner, '--wait=false']);
    await onHub(['delete', 'managedclusterset', set, '--wait=false']);
    if (addOnsUsed) {
      for (const name of [POLICY_FRAMEWORK_ADDON_NAME, CONFIG_POLICY_ADDON_NAME]) {
        const args = ['delete', 'clustermanagementaddon', name, '--ignore-not-found'];
        await onHub([...args, '--wait=false']);
      }
    }
    for (const c of clusters) {
      for (const ns of spokeNamespaces) {
        await c.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
      }
    }
    for (const g of grants) await g.remove();
    expect(errors).toEqual([]);
  });

  return {
    namespace,
    suffix,
    clusters,
    hub,
    onHub,
    apply,
    policyYaml: (name, action, templates) =>
      `${unboundPolicyYaml(name, action, templates)}\n---\n${bindingYaml(name, 'Policy')}`,
    unboundPolicyYaml,
    bindingYaml,
    replica: (c, name) => get(c.name, `${namespace}.${name}`),
    root: (name) => get(namespace, name),
    policySet: (name) => get<PolicySet>(namespace, name, POLICY_SETS),
    replicaWhere: (c, name, what, check, timeoutMs = 10_000) =>
      until(
        `${name} on ${c.spokeName}: ${what}`,
        () => get(c.name, `${namespace}.${name}`),
        (policy) => {
          const message = policy.status?.details?.[0]?.history?.[0]?.message;
          return message !== undefined && check(message, policy);
        },
        timeoutMs,
        statusOf,
      ),
    rootWhere: (name, what, check) =>
      until(`the root ${name}: ${what}`, () => get(namespace, name), check, 20_000, statusOf),
    async startEvaluation(options = {}) {
      if (grants.length !== clusters.length) throw new Error('beforeAll did not prepare spokes');
      const rig = await controllerRig(
        hubPlane,
        clusters.map((c, i) => ({
          name: c.name,
          kubeApiserver: new URL(c.spoke.server).host,
          agentApi: grants[i]!.agentApi,
        })),
      );
      const spokeKubeConfig = (name: string) =>
        rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY);
      const failOn = failOnReconcileErrors();
      // Other files' clusters (without agents here, possibly terminating) are not ours.
      const onError = (c: string | undefined, err: unknown) =>
        c === undefined || names.includes(c) ? failOn(c, err) : console.warn(describeError(err));
      const evaluator = createPolicyEvaluator({ hub, spokeKubeConfig, onError });
      const addOns =
        options.addOns === true
          ? createPolicyAddOnControllers({
              hub,
              server: rig.server,
              spokeKubeConfig,
              intervalMs: 3_600_000,
              onError,
            })
          : [];
      addOnsUsed ||= addOns.length > 0;
      evaluator.start();
      for (const a of addOns) a.start();
      onTestFinished(async () => {
        await evaluator.stop();
        await Promise.all(addOns.map((a) => a.stop()));
      });
      return rig;
    },
    async spokeNamespace(name, on = []) {
      spokeNamespaces.push(name);
      for (const c of on) expect((await c.kubectl(['create', 'namespace', name])).code).toBe(0);
      return name;
    },
    perCluster: (...states) =>
      clusters.map((c, i) => ({
        clustername: c.name,
        clusternamespace: c.name,
        ...(states[i] === undefined ? {} : { compliant: states[i] }),
      })),
  };
}

/** One ConfigurationPolicy template named `name` with `objectTemplates` (YAML, indented). */
export function template(name: string, objectTemplates: string, extra = ''): string {
  return `    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata:
          name: ${name}
        spec:
          remediationAction: inform
          severity: low
${extra}          object-templates:
${objectTemplates}`;
}
