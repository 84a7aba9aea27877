import { parseQuantity, sumQuantities } from '../../kube/index.ts';

/** The parts of a Node the hub reads. */
export interface NodeSummary {
  readonly spec?: { readonly unschedulable?: boolean };
  readonly status?: {
    readonly capacity?: Readonly<Record<string, string>>;
    readonly allocatable?: Readonly<Record<string, string>>;
  };
}

/** A cluster's resources summed over its nodes (ManagedCluster `status.capacity`/`allocatable`). */
export interface NodeResources {
  readonly capacity: Record<string, string>;
  readonly allocatable: Record<string, string>;
}

function isQuantity(value: string): boolean {
  try {
    parseQuantity(value);
    return true;
  } catch {
    return false;
  }
}

function sumByKey(lists: readonly (Readonly<Record<string, string>> | undefined)[]) {
  const terms = new Map<string, string[]>();
  for (const list of lists) {
    for (const [key, value] of Object.entries(list ?? {})) {
      // The API server validates node quantities; anything else is left out, not fatal.
      if (!isQuantity(value)) continue;
      terms.set(key, [...(terms.get(key) ?? []), value]);
    }
  }
  const sums: Record<string, string> = {};
  for (const [key, values] of [...terms].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    sums[key] = sumQuantities(values);
  return sums;
}

/**
 * OCM's cluster resources: `capacity` is the sum over every node of each `status.capacity` key
 * (cpu, memory, pods, ephemeral-storage, hugepages-*, …), `allocatable` the same for
 * `status.allocatable` skipping unschedulable (cordoned) nodes. Undefined for no nodes (e.g. a
 * control plane without kubelets). Sums are exact and printed the way the API server prints
 * quantities. Pure.
 */
export function sumNodeResources(nodes: readonly NodeSummary[]): NodeResources | undefined {
  if (nodes.length === 0) return undefined;
  return {
    capacity: sumByKey(nodes.map((node) => node.status?.capacity)),
    allocatable: sumByKey(
      nodes.filter((node) => node.spec?.unschedulable !== true).map((n) => n.status?.allocatable),
    ),
  };
}
