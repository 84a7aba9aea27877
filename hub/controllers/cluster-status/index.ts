// Public surface of hub/controllers/cluster-status/: ManagedCluster status read through the tunnel.
export {
  createClusterStatusController,
  type ClusterStatusController,
  type ClusterStatusControllerOptions,
} from './controller.ts';
export { sumNodeResources, type NodeResources, type NodeSummary } from './node-resources.ts';
export { probeSpoke } from './spoke-probe.ts';
export { claimsFor, decideStatus, type Observation, type SpokeProbe } from './status-decision.ts';
