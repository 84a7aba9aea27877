/**
 * The WebSocket frontend's wire contract, shared by the client (which writes it) and the
 * proxy-server (which reads it): the upgrade path, and how a dial names its cluster.
 *
 * One frontend WebSocket carries dials for many clusters, and a DIAL_REQ has no field for the
 * cluster, so the cluster travels in the address: `<cluster>_<host>:<port>`, e.g.
 * `c1_kube-apiserver:443`. It stays a valid dial address for protocol/ (`host:port`, ≤ 512
 * characters), so the tunnel session checks it like any other. The split is unambiguous:
 * cluster names are DNS labels (`[a-z0-9-]`, see protocol/identity.ts) and never contain `_`,
 * so the first `_` ends the cluster; the rest (which may itself contain `_`) is the target
 * address the agent receives. The cluster is required: this frontend never routes by host.
 * IPv6-literal targets (`[::1]:443`) cannot carry a prefix; they need the gRPC frontend.
 */
import { ProtocolError, formatDialAddress, parseDialAddress } from '../../protocol/index.ts';

/** The upgrade path of the proxy-server's frontend WebSocket. */
export const FRONTEND_WEBSOCKET_PATH = '/frontend';
/** Ends the cluster prefix of a frontend WebSocket dial address. */
const CLUSTER_SEPARATOR = '_';
/** Cluster names: DNS labels (RFC 1123), as in agent certificates. */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A frontend WebSocket dial address taken apart. */
export interface FrontendDialAddress {
  readonly cluster: string;
  /** `host:port` for the agent. */
  readonly address: string;
}

function invalid(address: string, why: string): ProtocolError {
  return new ProtocolError(
    'PROTO_ERR_INVALID_ADDRESS',
    `frontend dial address ${JSON.stringify(address.slice(0, 80))} is not <cluster>_<host>:<port>: ${why}`,
  );
}

/**
 * `<cluster>_<address>` for a DIAL_REQ on the frontend WebSocket. Pure; throws ProtocolError
 * `PROTO_ERR_INVALID_ADDRESS` when `cluster` is not a DNS label, `address` is not `host:port`,
 * the host is an IPv6 literal, or the result exceeds the protocol's length limit.
 */
export function formatFrontendDialAddress(cluster: string, address: string): string {
  if (!CLUSTER_NAME.test(cluster)) {
    throw invalid(`${cluster}${CLUSTER_SEPARATOR}${address}`, 'the cluster is not a DNS label');
  }
  const target = parseDialAddress(address);
  if (target.host.includes(':')) {
    throw invalid(address, 'IPv6-literal targets need the gRPC frontend');
  }
  const combined = `${cluster}${CLUSTER_SEPARATOR}${formatDialAddress(target.host, target.port)}`;
  parseDialAddress(combined); // the length limit
  return combined;
}

/**
 * Splits a frontend WebSocket dial address at its first `_`. Pure; throws ProtocolError
 * `PROTO_ERR_INVALID_ADDRESS` when there is no cluster prefix, the prefix is not a DNS label,
 * or the rest is not `host:port`.
 */
export function parseFrontendDialAddress(combined: string): FrontendDialAddress {
  const at = combined.indexOf(CLUSTER_SEPARATOR);
  if (at < 0) throw invalid(combined, 'missing cluster prefix');
  const cluster = combined.slice(0, at);
  if (!CLUSTER_NAME.test(cluster)) throw invalid(combined, 'the cluster is not a DNS label');
  const address = combined.slice(at + 1);
  try {
    parseDialAddress(address);
  } catch (err) {
    throw invalid(combined, `target: ${(err as Error).message}`);
  }
  return { cluster, address };
}
