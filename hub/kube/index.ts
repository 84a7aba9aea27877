// Public surface of hub/kube/: the thin @kubernetes/client-node layer hub code shares.
export { apiStatus, installCrds } from './install-crds.ts';
export { kubeManagedClusterStore, type ManagedClusterStore } from './managed-cluster-store.ts';
export {
  KUBE_APISERVER_ADDRESS,
  tunnelGet,
  type TunnelDialer,
  type TunnelResponse,
} from './tunnel-request.ts';
