/**
 * How an agent's identity is written in its client certificate, shared by the server (which
 * reads it) and the agent and hub (which request it). The cluster comes from the certificate,
 * never from what the agent claims in metadata: the server cross-checks the two.
 *
 * Subject: CN = `spokelink:agent:<cluster>:<agentName>`, O = `spokelink:agents`.
 */
export const AGENT_ORGANIZATION = 'spokelink:agents';
/**
 * The Organization a client certificate must carry for the agent API (`agent-api` target) to
 * serve it: the hub's cluster gateway (CN `spokelink:gateway:<serverId>`), issued by the hub CA.
 */
export const GATEWAY_ORGANIZATION = 'spokelink:gateways';
/**
 * The named dial target (host part; any port) that an agent serves itself, in-process: TLS with
 * the agent's own certificate, then HTTP forwarded to its API server with prefixed impersonation
 * (DESIGN §3.4, proxy-agent/README.md "Agent API").
 */
export const AGENT_API_TARGET = 'agent-api';
/**
 * The request header (lowercase, with {@link PASS_THROUGH_VALUE}) by which the cluster gateway
 * tells an agent API that a request carries the caller's own spoke credential: the agent
 * forwards the caller's `Authorization` unchanged and adds neither its own token nor
 * impersonation (proxy-server/README.md "Spoke tokens pass straight through"). Only the
 * gateway may set it: the agent API serves only gateway certificates, and the gateway drops a
 * caller's copy.
 */
export const PASS_THROUGH_HEADER = 'spokelink-pass-through';
/** The one value of {@link PASS_THROUGH_HEADER}. */
export const PASS_THROUGH_VALUE = 'spoke-token';
const AGENT_CN_PREFIX = 'spokelink:agent:';
/** Cluster and agent names: DNS labels (RFC 1123), like OCM's ManagedCluster names. */
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The CN for an agent of `cluster`; throws TypeError on names that are not DNS labels. */
export function agentCommonName(cluster: string, agentName: string): string {
  if (!NAME.test(cluster)) throw new TypeError(`cluster name "${cluster}" is not a DNS label`);
  if (!NAME.test(agentName)) throw new TypeError(`agent name "${agentName}" is not a DNS label`);
  return `${AGENT_CN_PREFIX}${cluster}:${agentName}`;
}

/** Reads `{ cluster, agentName }` from an agent certificate's CN, or undefined if it is not one. */
export function parseAgentCommonName(
  commonName: string,
): { cluster: string; agentName: string } | undefined {
  if (!commonName.startsWith(AGENT_CN_PREFIX)) return undefined;
  const [cluster, agentName, ...rest] = commonName.slice(AGENT_CN_PREFIX.length).split(':');
  if (rest.length > 0 || cluster === undefined || agentName === undefined) return undefined;
  if (!NAME.test(cluster) || !NAME.test(agentName)) return undefined;
  return { cluster, agentName };
}

/**
 * The agentID an agent of `cluster` must present (ANP metadata `agentID`): `<cluster>/<agentName>`.
 * The server refuses an agent whose agentID names another cluster than its certificate.
 */
export function agentId(cluster: string, agentName: string): string {
  return `${cluster}/${agentName}`;
}
