/**
 * A PolicySet's status (issue 7), as OCM's policy-set controller writes it. Pure.
 *
 * - No policies listed: an empty status.
 * - `placement[]`: the `placement[]` entries of its member roots that came through this set
 *   (`policySet: <set>`), one per PlacementBinding (`placementBinding`, `placement` or
 *   `placementRule`), sorted by binding name.
 * - Each listed policy is missing (deleted), disabled, or has a compliance over the clusters the
 *   set's bindings decide: NonCompliant, else Pending, else Compliant over those clusters' entries
 *   of its `status[]`; none with a state: unknown ("no status").
 * - `compliant`: NonCompliant when a policy is, else Pending when one is, else Compliant; shown
 *   only when no policy is unknown and at least one has a state.
 * - `statusMessage`: `All policies are reporting status`, or the parts that apply joined with
 *   `; `: `Policies awaiting pending dependencies: a, b`, `Disabled policies: …`, `No status
 *   provided while awaiting policy status: …`, `Deleted policies: …` (names in the set's order).
 */
import type { PlacementBinding, PlacementDecision, Policy, PolicySet } from '../../api/index.ts';
import { clustersOf } from './propagation.ts';

type SetStatus = NonNullable<PolicySet['status']>;
type SetPlacement = NonNullable<SetStatus['placement']>[number];

/** The inputs of one PolicySet's status: everything in its namespace. */
export interface PolicySetStatusInput {
  readonly set: PolicySet;
  /** Root policies (replicas are ignored). */
  readonly policies: readonly Policy[];
  readonly bindings: readonly PlacementBinding[];
  readonly decisions: readonly PlacementDecision[];
}

/** See the module comment. */
export function policySetStatus(input: PolicySetStatusInput): SetStatus {
  const { set } = input;
  const namespace = set.metadata?.namespace ?? '';
  const setName = set.metadata?.name ?? '';
  if (set.spec.policies.length === 0) return {};
  const inNamespace = <T extends { metadata?: { namespace?: string } }>(list: readonly T[]) =>
    list.filter((o) => o.metadata?.namespace === namespace);
  const policies = new Map(inNamespace(input.policies).map((p) => [p.metadata?.name ?? '', p]));
  const bindings = new Map(inNamespace(input.bindings).map((b) => [b.metadata?.name ?? '', b]));
  const decisions = inNamespace(input.decisions);

  const placements = new Map<string, SetPlacement>();
  const deleted: string[] = [];
  const disabled: string[] = [];
  const unknown: string[] = [];
  const pending: string[] = [];
  let found = 0;
  let compliant: 'Compliant' | 'Pending' | 'NonCompliant' = 'Compliant';
  for (const name of set.spec.policies) {
    const policy = policies.get(name);
    if (policy === undefined) {
      deleted.push(name);
      continue;
    }
    for (const p of policy.status?.placement ?? []) {
      if (p.policySet !== setName || p.placementBinding === undefined) continue;
      placements.set(p.placementBinding, {
        placementBinding: p.placementBinding,
        ...(p.placement === undefined ? {} : { placement: p.placement }),
        ...(p.placementRule === undefined ? {} : { placementRule: p.placementRule }),
      });
    }
    if (policy.spec.disabled) {
      disabled.push(name);
      continue;
    }
    const clusters = new Set<string>();
    for (const bindingName of placements.keys()) {
      const binding = bindings.get(bindingName);
      if (binding !== undefined) for (const c of clustersOf(binding, decisions)) clusters.add(c);
    }
    const states = (policy.status?.status ?? [])
      .filter((s) => s.clustername !== undefined && clusters.has(s.clustername))
      .map((s) => s.compliant);
    if (states.includes('NonCompliant')) {
      found += 1;
      compliant = 'NonCompliant';
    } else if (states.includes('Pending')) {
      pending.push(name);
      if (compliant !== 'NonCompliant') compliant = 'Pending';
    } else if (states.includes('Compliant')) {
      found += 1;
    } else {
      unknown.push(name);
    }
  }

  const parts: string[] = [];
  if (pending.length > 0) {
    parts.push(`Policies awaiting pending dependencies: ${pending.join(', ')}`);
  }
  if (disabled.length > 0) parts.push(`Disabled policies: ${disabled.join(', ')}`);
  if (unknown.length > 0) {
    parts.push(`No status provided while awaiting policy status: ${unknown.join(', ')}`);
  }
  if (deleted.length > 0) parts.push(`Deleted policies: ${deleted.join(', ')}`);
  const isShown = unknown.length === 0 && found + pending.length > 0;
  const placement = [...placements.values()].sort((a, b) =>
    (a.placementBinding ?? '') < (b.placementBinding ?? '') ? -1 : 1,
  );
  return {
    ...(isShown ? { compliant } : {}),
    ...(placement.length > 0 ? { placement } : {}),
    statusMessage: parts.length === 0 ? 'All policies are reporting status' : parts.join('; '),
  };
}
