import { MSA_INSTALL_NAMESPACE } from './token-rotation.ts';
import {
  createAddOnController,
  type AddOnController,
  type AddOnControllerOptions,
  type AddOnDefinition,
} from '../cluster-proxy-addon/index.ts';

/** OCM's add-on name: of the ClusterManagementAddOn and of every ManagedClusterAddOn. */
export const MSA_ADDON_NAME = 'managed-serviceaccount';
/** The API the controller uses on every spoke: TokenReview (and TokenRequest in core/v1). */
const PROBE_PATH = '/apis/authentication.k8s.io/v1';

/**
 * Managed service accounts as an add-on: Available while an agent of the cluster is connected
 * and the spoke serves `authentication.k8s.io/v1` (GET through the agent API, as the hub
 * controllers, answers 200). The accounts live in `open-cluster-management-agent-addon`.
 */
export const MANAGED_SERVICE_ACCOUNT_ADDON: AddOnDefinition = {
  name: MSA_ADDON_NAME,
  displayName: 'Managed Service Account',
  description: `ServiceAccounts in ${MSA_INSTALL_NAMESPACE} on managed clusters whose tokens the hub keeps in Secrets and rotates, through the tunnel`,
  probePath: PROBE_PATH,
  probeMaxBytes: 256 * 1024,
  availableMessage:
    'The agent of the cluster is connected and the cluster serves authentication.k8s.io/v1.',
  unexpectedMessage: (status) => `Reading ${PROBE_PATH} through the agent API answered ${status}.`,
};

/** Options of {@link createManagedServiceAccountAddOnController}. */
export type ManagedServiceAccountAddOnControllerOptions = Omit<
  AddOnControllerOptions,
  'definition'
>;

/**
 * The ClusterManagementAddOn `managed-serviceaccount` and, per ManagedCluster, a
 * ManagedClusterAddOn `managed-serviceaccount` whose `Available` follows
 * {@link MANAGED_SERVICE_ACCOUNT_ADDON}'s probe, plus the ManagedCluster label
 * `feature.open-cluster-management.io/addon-managed-serviceaccount`. Lifecycle and triggers
 * are the generic add-on controller's: `start()`, idempotent `stop()` that waits for
 * reconciles in flight, `reconcile(cluster)`.
 */
export function createManagedServiceAccountAddOnController(
  options: ManagedServiceAccountAddOnControllerOptions,
): AddOnController {
  return createAddOnController({ ...options, definition: MANAGED_SERVICE_ACCOUNT_ADDON });
}
