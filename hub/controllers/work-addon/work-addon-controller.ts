import { WORK_GROUP } from '../../api/index.ts';
import {
  createAddOnController,
  type AddOnController,
  type AddOnControllerOptions,
  type AddOnDefinition,
} from '../cluster-proxy-addon/index.ts';

/** The work add-on's name: of the ClusterManagementAddOn and of every ManagedClusterAddOn. */
export const WORK_ADDON_NAME = 'work-manager';
/** The CRD the hub's work delivery records applied objects in, on every spoke. */
export const APPLIED_MANIFEST_WORK_CRD = `appliedmanifestworks.${WORK_GROUP}`;

/**
 * ManifestWork delivery as an add-on: Available while an agent of the cluster is connected and
 * the spoke serves the AppliedManifestWork CRD (GET of the CRD through the agent API, as the
 * hub controllers, answers 200); a 404 means the CRD is missing (`spokelink join` installs it).
 */
export const WORK_ADDON: AddOnDefinition = {
  name: WORK_ADDON_NAME,
  displayName: 'Work Manager',
  description:
    'ManifestWork delivery: the hub applies ManifestWorks to the cluster through the tunnel and records them in AppliedManifestWorks',
  probePath: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${APPLIED_MANIFEST_WORK_CRD}`,
  probeMaxBytes: 1024 * 1024,
  availableMessage:
    'The agent of the cluster is connected and the AppliedManifestWork CRD is installed on it.',
  unexpectedMessage: (status) =>
    status === 404
      ? `The CRD ${APPLIED_MANIFEST_WORK_CRD} is not installed on the cluster.`
      : `Reading the CRD ${APPLIED_MANIFEST_WORK_CRD} through the agent API answered ${status}.`,
};

/** Options of {@link createWorkAddOnController}. */
export type WorkAddOnControllerOptions = Omit<AddOnControllerOptions, 'definition'>;

/**
 * The work add-on (issue 5 item 5): the ClusterManagementAddOn `work-manager` and, per
 * ManagedCluster, a ManagedClusterAddOn `work-manager` whose `Available` follows
 * {@link WORK_ADDON}'s probe, plus the ManagedCluster label
 * `feature.open-cluster-management.io/addon-work-manager`. Lifecycle and triggers are those of
 * the cluster-proxy add-on (`createAddOnController`): `start()`, idempotent `stop()` that waits
 * for reconciles in flight, `reconcile(cluster)`.
 */
export function createWorkAddOnController(options: WorkAddOnControllerOptions): AddOnController {
  return createAddOnController({ ...options, definition: WORK_ADDON });
}
