/**
 * The gateway's URL space: `/clusters/<cluster>/<rest>?<query>` is forwarded to cluster
 * `<cluster>` as `/<rest>?<query>`. Pure.
 */

/** Path prefix of every gateway URL. */
export const CLUSTERS_PATH_PREFIX = '/clusters/';
/** Cluster names: DNS labels (RFC 1123), like OCM's ManagedCluster names and protocol/identity.ts. */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Where a gateway request goes. */
export interface ClusterTarget {
  readonly cluster: string;
  /** The request target sent to the cluster: `/<rest>` with the query, `/` at least. */
  readonly path: string;
}

/**
 * Parses a request target (`IncomingMessage.url`). Undefined unless it is origin-form and
 * starts with `/clusters/<dns-label>` followed by `/`, `?` or nothing. The rest is forwarded
 * byte for byte (no normalization): it cannot change the cluster, which is fixed here, and the
 * spoke API server applies its own path rules.
 */
export function parseClusterPath(url: string | undefined): ClusterTarget | undefined {
  if (url === undefined || !url.startsWith(CLUSTERS_PATH_PREFIX)) return undefined;
  const afterPrefix = url.slice(CLUSTERS_PATH_PREFIX.length);
  const end = afterPrefix.search(/[/?]/);
  const cluster = end === -1 ? afterPrefix : afterPrefix.slice(0, end);
  if (!CLUSTER_NAME.test(cluster)) return undefined;
  const rest = end === -1 ? '' : afterPrefix.slice(end);
  return { cluster, path: rest.startsWith('/') ? rest : `/${rest}` };
}

/**
 * The URL under which `cluster` is reached through a gateway at `gatewayAddress`
 * (`https://host:port`, as in `ProxyServer.addresses.gateway`): the `server` of a kubeconfig.
 * Throws TypeError for a cluster name that is not a DNS label.
 */
export function gatewayClusterUrl(gatewayAddress: string, cluster: string): string {
  if (!CLUSTER_NAME.test(cluster))
    throw new TypeError(`cluster name "${cluster}" is not a DNS label`);
  return `${gatewayAddress.replace(/\/+$/, '')}${CLUSTERS_PATH_PREFIX}${cluster}`;
}
