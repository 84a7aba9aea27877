// Public surface of hub/controllers/cluster-status/: ManagedCluster status read through the tunnel.
export {
  createClusterStatusController,
  type ClusterStatusController,
  type ClusterStatusControllerOptions,
  type TunnelServer,
} from './controller.ts';
export { probeSpoke } from './spoke-probe.ts';
export {
  claimsFor,
  decideStatus,
  setCondition,
  type Observation,
  type SpokeProbe,
} from './status-decision.ts';
