import { WORK_GROUP } from '../../api/index.ts';
import {
  createAddOnController,
  type AddOnController,
  type AddOnControllerOptions,
  type AddOnDefinition,
} from '../cluster-proxy-addon/index.ts';

/** OCM's name of the application add-on: of the ClusterManagementAddOn and each ManagedClusterAddOn. */
export const APPLICATION_ADDON_NAME = 'application-manager';
const APPLIED_MANIFEST_WORK_CRD = `appliedmanifestworks.${WORK_GROUP}`;

/**
 * Application delivery as an add-on. Subscriptions reach a cluster as ManifestWorks the hub
 * applies through the tunnel, so the add-on is Available while an agent of the cluster is
 * connected and the spoke serves the AppliedManifestWork CRD (GET of the CRD through the agent
 * API answers 200), as for the work add-on; nothing else runs on the spoke.
 */
export const APPLICATION_ADDON: AddOnDefinition = {
  name: APPLICATION_ADDON_NAME,
  displayName: 'Application Manager',
  description:
    'Channel and Subscription delivery: the hub reads Git and Helm sources and delivers the resources as ManifestWorks through the tunnel',
  probePath: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${APPLIED_MANIFEST_WORK_CRD}`,
  probeMaxBytes: 1024 * 1024,
  availableMessage:
    'The agent of the cluster is connected and the cluster accepts ManifestWorks (the AppliedManifestWork CRD is installed).',
  unexpectedMessage: (status) =>
    status === 404
      ? `The CRD ${APPLIED_MANIFEST_WORK_CRD} is not installed on the cluster, so subscriptions cannot be delivered.`
      : `Reading the CRD ${APPLIED_MANIFEST_WORK_CRD} through the agent API answered ${status}.`,
};

/** Options of {@link createApplicationAddOnController}. */
export type ApplicationAddOnControllerOptions = Omit<AddOnControllerOptions, 'definition'>;

/**
 * The `application-manager` add-on (issue 8 item 4): the ClusterManagementAddOn and, per
 * ManagedCluster, a ManagedClusterAddOn whose `Available` follows {@link APPLICATION_ADDON}'s
 * probe, plus the ManagedCluster label `feature.open-cluster-management.io/addon-application-manager`.
 * Lifecycle and triggers are those of `createAddOnController`: `start()`, idempotent `stop()`
 * that waits for reconciles in flight, `reconcile(cluster)`.
 */
export function createApplicationAddOnController(
  options: ApplicationAddOnControllerOptions,
): AddOnController {
  return createAddOnController({ ...options, definition: APPLICATION_ADDON });
}
