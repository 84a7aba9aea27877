// The cluster gateway: `https://<hub>/clusters/<cluster>/…` for hub users, authenticated and
// authorized by the hub, forwarded through the tunnel to each cluster's agent API.
export { AGENT_API_IDLE_CLOSE_MS, AgentIdentityError } from './agent-api-pool.ts';
export {
  HUB_CONTROLLER_IDENTITY,
  HUB_CONTROLLER_USER,
  HUB_CONTROLLERS_GROUP,
  HUB_CONTROLLERS_SPOKE_GROUP,
  inProcessSpokeIdentity,
  spokeIdentityName,
} from './hub-controller-identity.ts';
export type { InProcessIdentity } from './hub-controller-identity.ts';
export { GATEWAY_AUTH_FAILURE_REASONS } from './authenticate-caller.ts';
export type { GatewayAuthFailureReason } from './authenticate-caller.ts';
export { CLUSTERS_PATH_PREFIX, gatewayClusterUrl, parseClusterPath } from './cluster-path.ts';
export { ClusterGateway } from './cluster-gateway.ts';
export type { ClusterGatewayOptions, ClusterGatewayStats } from './cluster-gateway.ts';
export { DEFAULT_GATEWAY_IDENTITY_PREFIX, resolveGatewayOptions } from './gateway-options.ts';
export type {
  GatewayHubOptions,
  GatewayOptions,
  ResolvedGatewayOptions,
} from './gateway-options.ts';
export { PROXY_RESOURCE, proxyVerb, spokeIdentity } from './hub-identity.ts';
export type { HubUser, SpokeIdentity } from './hub-identity.ts';
export { REVIEW_CACHE_TTL_MS } from './review-cache.ts';
export { SpokeClients } from './spoke-clients.ts';
// A type only: the class extends the Kubernetes client's KubeConfig, so its module (and that
// client, most of a proxy-server's heap) loads when the hub first asks for one (proxy-server.ts).
export type { SpokeKubeConfig } from './spoke-kube-config.ts';
