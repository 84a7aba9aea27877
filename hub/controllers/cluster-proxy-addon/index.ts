// Public surface of hub/controllers/cluster-proxy-addon/: the cluster proxy as an OCM add-on,
// and the hub-probed add-on controller it is built on (shared with the work add-on).
export {
  CLUSTER_PROXY_ADDON,
  CLUSTER_PROXY_ADDON_NAME,
  CLUSTER_PROXY_FEATURE_LABEL,
  DEFAULT_ADDON_INSTALL_NAMESPACE,
  clusterManagementAddOn,
  decideAddOnStatus,
  featureLabelValue,
  managedClusterAddOn,
  type AddOnDefinition,
  type AddOnObservation,
  type AgentApiProbe,
} from './addon-decision.ts';
export {
  createAddOnController,
  probeAgentApi,
  SHARED_PROBE_TTL_MS,
  shareProbes,
  type SharedProbes,
  type AddOnController,
  type AddOnControllerOptions,
} from './addon-controller.ts';
export { startAddOnCache, type AddOnCache } from './addon-cache.ts';
export { kubeAddOnStore, type AddOnStore } from './addon-store.ts';
export {
  createClusterProxyAddOnController,
  type ClusterProxyAddOnController,
  type ClusterProxyAddOnControllerOptions,
} from './controller.ts';
