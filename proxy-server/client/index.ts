// Public surface of proxy-server/client/: the programmatic dialer hub code uses to reach spokes.
// Imports protocol/ only.
export { CLUSTER_METADATA_KEY, KUBE_APISERVER_TARGET } from './constants.ts';
export {
  createTunnelClient,
  TunnelClient,
  type TunnelClientOptions,
  type TunnelDialOptions,
} from './tunnel-client.ts';
export { TunnelHttpsAgent } from './https-agent.ts';
export { TunnelKubeConfig } from './kube-config.ts';
