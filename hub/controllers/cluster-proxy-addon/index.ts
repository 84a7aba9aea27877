// Public surface of hub/controllers/cluster-proxy-addon/: the cluster proxy as an OCM add-on.
export {
  CLUSTER_PROXY_ADDON_NAME,
  CLUSTER_PROXY_FEATURE_LABEL,
  DEFAULT_ADDON_INSTALL_NAMESPACE,
  clusterManagementAddOn,
  decideAddOnStatus,
  featureLabelValue,
  managedClusterAddOn,
  type AddOnObservation,
  type AgentApiProbe,
} from './addon-decision.ts';
export { kubeAddOnStore, type AddOnStore } from './addon-store.ts';
export {
  createClusterProxyAddOnController,
  probeAgentApi,
  type ClusterProxyAddOnController,
  type ClusterProxyAddOnControllerOptions,
} from './controller.ts';
