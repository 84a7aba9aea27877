/**
 * What the policy propagator wants for one root Policy (issue 7, OCM's
 * governance-policy-propagator): the replicated Policies `<cluster>/<namespace>.<name>` of the
 * clusters its PlacementBindings place it on, and the root's status. Pure.
 *
 * - A binding counts when it sits in the root's namespace and names the root (`kind: Policy`) or
 *   a PolicySet of that namespace listing it; its clusters are the decisions of its Placement
 *   (PlacementDecisions labelled `cluster.open-cluster-management.io/placement=<name>`).
 *   `subFilter: restricted` bindings place nothing; their `bindingOverrides` apply to clusters
 *   other bindings placed. `PlacementRule` references select nothing (not supported).
 * - A replica copies the root's labels, annotations (not `trigger-update`) and spec, adds the
 *   labels `policy.open-cluster-management.io/cluster-name`, `…/cluster-namespace`,
 *   `…/root-policy` and the annotation `argocd.argoproj.io/compare-options: IgnoreExtraneous`;
 *   `copyPolicyMetadata: false` keeps only `policy.open-cluster-management.io/` keys;
 *   `bindingOverrides.remediationAction: enforce` makes the replica enforce.
 * - A disabled root has no replicas. Status: `placement[]` per binding, `status[]` per placed
 *   cluster sorted by name with the replica's compliance, and `compliant` aggregated:
 *   NonCompliant, else Pending, else unknown (empty), else Compliant; no clusters: empty.
 */
import {
  Labels,
  POLICY_GROUP,
  type ComplianceState,
  type PlacementBinding,
  type PlacementDecision,
  type Policy,
  type PolicySet,
  type PolicyStatus,
} from '../../api/index.ts';

/** Annotation whose change forces hub templates to resolve again; never copied. */
export const TRIGGER_UPDATE_ANNOTATION = 'policy.open-cluster-management.io/trigger-update';
/** Annotation every replica carries (so Argo CD ignores replicas). */
export const ARGOCD_COMPARE_ANNOTATION = 'argocd.argoproj.io/compare-options';
const POLICY_PREFIX = 'policy.open-cluster-management.io/';

/** The replica's name: `<root namespace>.<root name>`. */
export function replicaName(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

/** The root of a replica from its `root-policy` label, or undefined for a root Policy. */
export function rootOf(policy: Policy): { namespace: string; name: string } | undefined {
  const label = policy.metadata?.labels?.[Labels.RootPolicy];
  if (label === undefined) return undefined;
  const dot = label.indexOf('.');
  return dot <= 0 ? undefined : { namespace: label.slice(0, dot), name: label.slice(dot + 1) };
}

/** The inputs of one decision: everything in the root's namespace, and its replicas. */
export interface PropagationInput {
  readonly root: Policy;
  readonly bindings: readonly PlacementBinding[];
  readonly policySets: readonly PolicySet[];
  readonly decisions: readonly PlacementDecision[];
  /** The root's replicas now, by cluster. */
  readonly replicas: ReadonlyMap<string, Policy>;
}

/** The decision: replicas to hold (by cluster) and the root's status. */
export interface Propagation {
  readonly replicas: ReadonlyMap<string, Policy>;
  readonly status: PolicyStatus;
}

/** The clusters a binding's Placement decided (its PlacementDecisions); PlacementRule: none. */
export function clustersOf(
  binding: PlacementBinding,
  decisions: readonly PlacementDecision[],
): Set<string> {
  const ref = binding.placementRef;
  const clusters = new Set<string>();
  if (ref.kind !== 'Placement') return clusters;
  for (const d of decisions) {
    if (d.metadata?.labels?.[Labels.Placement] !== ref.name) continue;
    for (const decision of d.status?.decisions ?? []) {
      if (decision.clusterName !== '') clusters.add(decision.clusterName);
    }
  }
  return clusters;
}

function filterMetadata(
  values: Readonly<Record<string, string>> | undefined,
  isCopyAll: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values ?? {})) {
    if (key === TRIGGER_UPDATE_ANNOTATION) continue;
    if (isCopyAll || key.startsWith(POLICY_PREFIX)) out[key] = value;
  }
  return out;
}

/** The replica of `root` for `cluster` (see the module comment). */
export function desiredReplica(root: Policy, cluster: string, isEnforceOverride: boolean): Policy {
  const namespace = root.metadata?.namespace ?? '';
  const name = root.metadata?.name ?? '';
  const isCopyAll = root.spec.copyPolicyMetadata !== false;
  const isEnforce = root.spec.remediationAction?.toLowerCase() === 'enforce';
  return {
    apiVersion: `${POLICY_GROUP}/v1`,
    kind: 'Policy',
    metadata: {
      name: replicaName(namespace, name),
      namespace: cluster,
      labels: {
        ...filterMetadata(root.metadata?.labels, isCopyAll),
        [Labels.PolicyClusterName]: cluster,
        [Labels.PolicyClusterNamespace]: cluster,
        [Labels.RootPolicy]: replicaName(namespace, name),
      },
      annotations: {
        ...filterMetadata(root.metadata?.annotations, isCopyAll),
        [ARGOCD_COMPARE_ANNOTATION]: 'IgnoreExtraneous',
      },
    },
    spec: {
      ...structuredClone(root.spec),
      ...(isEnforceOverride && !isEnforce ? { remediationAction: 'enforce' as const } : {}),
    },
  };
}

/** NonCompliant > Pending > unknown > Compliant; no states: unknown. */
export function aggregateCompliance(
  states: readonly (ComplianceState | undefined)[],
): ComplianceState | undefined {
  if (states.length === 0) return undefined;
  if (states.includes('NonCompliant')) return 'NonCompliant';
  if (states.includes('Pending')) return 'Pending';
  if (states.includes(undefined)) return undefined;
  return 'Compliant';
}

/** See the module comment. */
export function decidePropagation(input: PropagationInput): Propagation {
  const { root } = input;
  const namespace = root.metadata?.namespace ?? '';
  const name = root.metadata?.name ?? '';
  const sameNamespace = <T extends { metadata?: { namespace?: string } }>(list: readonly T[]) =>
    list.filter((o) => o.metadata?.namespace === namespace);
  const sets = new Set(
    sameNamespace(input.policySets)
      .filter((s) => s.spec.policies.includes(name))
      .map((s) => s.metadata?.name ?? ''),
  );
  const placement: NonNullable<PolicyStatus['placement']> = [];
  const placed = new Set<string>();
  const enforced = new Set<string>();
  const bindings = sameNamespace(input.bindings).sort((a, b) =>
    (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1,
  );
  const decisions = sameNamespace(input.decisions);
  for (const binding of bindings) {
    const bySet = binding.subjects.find(
      (s) => s.apiGroup === POLICY_GROUP && s.kind === 'PolicySet' && sets.has(s.name),
    );
    const isDirect = binding.subjects.some(
      (s) => s.apiGroup === POLICY_GROUP && s.kind === 'Policy' && s.name === name,
    );
    if (!isDirect && bySet === undefined) continue;
    const clusters = clustersOf(binding, decisions);
    const isRestricted = binding.subFilter === 'restricted';
    if (!isRestricted) for (const c of clusters) placed.add(c);
    if (binding.bindingOverrides?.remediationAction?.toLowerCase() === 'enforce') {
      for (const c of clusters) enforced.add(c);
    }
    placement.push({
      placementBinding: binding.metadata?.name ?? '',
      ...(binding.placementRef.kind === 'Placement'
        ? { placement: binding.placementRef.name }
        : { placementRule: binding.placementRef.name }),
      ...(isDirect || bySet === undefined ? {} : { policySet: bySet.name }),
    });
  }
  const replicas = new Map<string, Policy>();
  if (!root.spec.disabled && root.metadata?.deletionTimestamp == null) {
    for (const cluster of [...placed].sort()) {
      replicas.set(cluster, desiredReplica(root, cluster, enforced.has(cluster)));
    }
  }
  const status = [...replicas.keys()].map((cluster) => {
    const compliant = input.replicas.get(cluster)?.status?.compliant;
    return {
      clustername: cluster,
      clusternamespace: cluster,
      ...(compliant === undefined ? {} : { compliant }),
    };
  });
  const compliant = aggregateCompliance(status.map((s) => s.compliant));
  return {
    replicas,
    status: {
      ...(compliant === undefined ? {} : { compliant }),
      ...(placement.length > 0 ? { placement } : {}),
      ...(status.length > 0 ? { status } : {}),
    },
  };
}

/** Whether an existing replica already holds what `desired` asks (labels, annotations, spec). */
export function isReplicaCurrent(existing: Policy, desired: Policy): boolean {
  const same = (a: unknown, b: unknown) =>
    JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
  return (
    same(existing.metadata?.labels ?? {}, desired.metadata?.labels ?? {}) &&
    same(existing.metadata?.annotations ?? {}, desired.metadata?.annotations ?? {}) &&
    same(existing.spec, desired.spec)
  );
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
