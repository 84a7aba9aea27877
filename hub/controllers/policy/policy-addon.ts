import {
  createAddOnController,
  type AddOnController,
  type AddOnControllerOptions,
  type AddOnDefinition,
} from '../cluster-proxy-addon/index.ts';

/** OCM's name of the policy framework add-on (spec and status sync in OCM; hub-side here). */
export const POLICY_FRAMEWORK_ADDON_NAME = 'governance-policy-framework';
/** OCM's name of the add-on that evaluates ConfigurationPolicies. */
export const CONFIG_POLICY_ADDON_NAME = 'config-policy-controller';

/**
 * The policy framework as an add-on: Available while an agent of the cluster is connected and
 * its agent API answers `/readyz` (the hub syncs and evaluates policies through it).
 */
export const POLICY_FRAMEWORK_ADDON: AddOnDefinition = {
  name: POLICY_FRAMEWORK_ADDON_NAME,
  displayName: 'Governance Policy Framework',
  description:
    'Replicated policies evaluated by the hub through the tunnel, with compliance status and history on the hub',
  probePath: '/readyz',
  probeMaxBytes: 64 * 1024,
  availableMessage: 'The agent API of the cluster answers through the tunnel (/readyz is 200).',
  unexpectedMessage: (status) => `The agent API of the cluster answered /readyz with ${status}.`,
};

/**
 * ConfigurationPolicy evaluation as an add-on: Available while the hub controllers can list the
 * cluster's namespaces through the agent API (what every evaluation starts from).
 */
export const CONFIG_POLICY_ADDON: AddOnDefinition = {
  name: CONFIG_POLICY_ADDON_NAME,
  displayName: 'Config Policy Controller',
  description:
    'ConfigurationPolicy evaluation (musthave, mustonlyhave, mustnothave; inform and enforce) through the tunnel',
  probePath: '/api/v1/namespaces?limit=1',
  probeMaxBytes: 1024 * 1024,
  availableMessage:
    'The hub controllers read the cluster through the tunnel (listing namespaces answers 200).',
  unexpectedMessage: (status) =>
    `Listing the namespaces of the cluster through the agent API answered ${status}.`,
};

/** Options of the policy add-on controllers. */
export type PolicyAddOnControllerOptions = Omit<AddOnControllerOptions, 'definition'>;

/**
 * The two policy add-ons (issue 7): the ClusterManagementAddOns `governance-policy-framework` and
 * `config-policy-controller`, each with a ManagedClusterAddOn per cluster whose `Available`
 * follows its probe (above), and the ManagedCluster labels
 * `feature.open-cluster-management.io/addon-<name>`. Lifecycle as `createAddOnController`:
 * `start()`, idempotent `stop()` that waits for reconciles in flight.
 */
export function createPolicyAddOnControllers(
  options: PolicyAddOnControllerOptions,
): readonly AddOnController[] {
  return [
    createAddOnController({ ...options, definition: POLICY_FRAMEWORK_ADDON }),
    createAddOnController({ ...options, definition: CONFIG_POLICY_ADDON }),
  ];
}
