import { clusterManagementAddOnCrd, managedClusterAddOnCrd } from './addon.ts';
import {
  clusterClaimCrd,
  managedClusterCrd,
  managedClusterSetBindingCrd,
  managedClusterSetCrd,
} from './cluster.ts';
import { configurationPolicyCrd } from './configuration-policy.ts';
import type { CrdDefinition } from './crd-definition.ts';
import { managedServiceAccountCrd } from './managed-service-account.ts';
import { placementCrd, placementDecisionCrd } from './placement.ts';
import { placementBindingCrd, policyCrd, policySetCrd } from './policy.ts';
import { channelCrd, subscriptionCrd, subscriptionReportCrd } from './subscription.ts';
import { appliedManifestWorkCrd, manifestWorkCrd, manifestWorkReplicaSetCrd } from './work.ts';

const ALL: readonly CrdDefinition[] = Object.freeze([
  managedClusterCrd,
  managedClusterSetCrd,
  managedClusterSetBindingCrd,
  clusterClaimCrd,
  placementCrd,
  placementDecisionCrd,
  manifestWorkCrd,
  appliedManifestWorkCrd,
  manifestWorkReplicaSetCrd,
  managedServiceAccountCrd,
  policyCrd,
  placementBindingCrd,
  policySetCrd,
  configurationPolicyCrd,
  clusterManagementAddOnCrd,
  managedClusterAddOnCrd,
  channelCrd,
  subscriptionCrd,
  subscriptionReportCrd,
]);

/** Every kind we define, hub and spoke, in a stable order (group by group). */
export function allCrds(): readonly CrdDefinition[] {
  return ALL;
}

/** The kinds installed on the hub: everything but ClusterClaim and AppliedManifestWork. */
export function hubCrds(): readonly CrdDefinition[] {
  return ALL.filter((def) => def.installOn === 'hub');
}

/** The kinds installed on each spoke: ClusterClaim and AppliedManifestWork. */
export function spokeCrds(): readonly CrdDefinition[] {
  return ALL.filter((def) => def.installOn === 'spoke');
}

/** The definition of `kind` in `group`, or undefined. */
export function findCrd(group: string, kind: string): CrdDefinition | undefined {
  return ALL.find((def) => def.group === group && def.kind === kind);
}
