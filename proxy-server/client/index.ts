// Public surface of proxy-server/client/: the programmatic dialer hub code uses to reach spokes.
// Imports protocol/ only.
export type { ClientTls, TunnelDialOptions } from './client-tunnel.ts';
export { CLUSTER_METADATA_KEY, KUBE_APISERVER_TARGET } from './constants.ts';
export {
  FRONTEND_WEBSOCKET_PATH,
  formatFrontendDialAddress,
  parseFrontendDialAddress,
  type FrontendDialAddress,
} from './frontend-address.ts';
export {
  createTunnelClient,
  TunnelClient,
  type TunnelClientOptions,
  type TunnelClientTransport,
} from './tunnel-client.ts';
export { TunnelHttpsAgent } from './https-agent.ts';
export { TunnelKubeConfig } from './kube-config.ts';
