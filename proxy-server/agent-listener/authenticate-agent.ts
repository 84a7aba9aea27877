/**
 * Agent authentication, shared by the gRPC and WebSocket listeners: the cluster comes from the
 * verified client certificate, never from what the agent claims; its `agentID` and
 * `agentIdentifiers` must agree with the certificate (DESIGN §4). Pure: the listeners extract
 * the inputs from TLS and metadata, call this BEFORE accepting the tunnel, and map a refusal to
 * a gRPC status or an HTTP status with {@link refusalStatus}.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

import { agentId as formatAgentId, parseAgentCommonName } from '../../protocol/index.ts';
import { METADATA_KEYS, parseAgentIdentifiers, singleMetadataValue } from '../../protocol/index.ts';

import { ServerError, errorMessage } from '../errors.ts';
import type { AgentIdentity } from '../sessions/index.ts';

/** What the listener read from the connection. */
export interface AgentCredentials {
  /**
   * Subject CN of the client certificate that TLS verified against the CA; an array when the
   * subject has several (the last wins, as in Go); undefined when there is none.
   */
  readonly commonName: string | readonly string[] | undefined;
  /** Values of `agentID` (gRPC metadata or upgrade header). */
  readonly agentId: readonly (string | Uint8Array)[];
  /** Values of `agentIdentifiers`; empty when absent. */
  readonly agentIdentifiers: readonly (string | Uint8Array)[];
}

/** The subject CN of a Node `tls.PeerCertificate` (or undefined when no certificate). */
export function peerCommonName(
  cert: { subject?: { CN?: string | string[] } } | null | undefined,
): string | readonly string[] | undefined {
  return cert?.subject?.CN;
}

function lastCommonName(cn: string | readonly string[] | undefined): string | undefined {
  if (cn === undefined) return undefined;
  return typeof cn === 'string' ? cn : cn[cn.length - 1];
}

/**
 * Checks an agent's credentials and returns its identity. Throws ServerError:
 * - `SERVER_ERR_AGENT_UNAUTHENTICATED`: no client certificate, or its CN is not
 *   `spokelink:agent:<cluster>:<agentName>`;
 * - `SERVER_ERR_INVALID_AGENT_METADATA`: `agentID` missing or repeated, `agentIdentifiers`
 *   repeated or unparsable;
 * - `SERVER_ERR_CLUSTER_MISMATCH`: `agentID` or an identifier host names another cluster than
 *   the certificate (the message names both);
 * - `SERVER_ERR_AGENT_ID_MISMATCH`: `agentID` is not `<cluster>/<agentName>` of the certificate.
 */
export function authenticateAgent(credentials: AgentCredentials): AgentIdentity {
  const commonName = lastCommonName(credentials.commonName);
  if (commonName === undefined || commonName === '') {
    throw new ServerError(
      'SERVER_ERR_AGENT_UNAUTHENTICATED',
      'agent presented no client certificate',
    );
  }
  const subject = parseAgentCommonName(commonName);
  if (subject === undefined) {
    throw new ServerError(
      'SERVER_ERR_AGENT_UNAUTHENTICATED',
      `client certificate CN ${JSON.stringify(commonName.slice(0, 128))} is not an agent certificate (expected spokelink:agent:<cluster>:<agentName>)`,
    );
  }
  const { cluster, agentName } = subject;
  let claimed: string;
  try {
    claimed = singleMetadataValue(METADATA_KEYS.agentId, credentials.agentId);
  } catch (err) {
    throw new ServerError('SERVER_ERR_INVALID_AGENT_METADATA', errorMessage(err), { cause: err });
  }
  const expected = formatAgentId(cluster, agentName);
  if (claimed !== expected) {
    const slash = claimed.indexOf('/');
    const claimedCluster = slash < 0 ? undefined : claimed.slice(0, slash);
    const shown = JSON.stringify(claimed.slice(0, 128));
    if (claimedCluster !== undefined && claimedCluster !== cluster) {
      throw new ServerError(
        'SERVER_ERR_CLUSTER_MISMATCH',
        `agentID ${shown} claims cluster ${JSON.stringify(claimedCluster.slice(0, 64))} but the client certificate is for cluster "${cluster}"`,
      );
    }
    throw new ServerError(
      'SERVER_ERR_AGENT_ID_MISMATCH',
      `agentID ${shown} does not match the client certificate's agent "${expected}"`,
    );
  }
  return {
    cluster,
    agentName,
    agentId: expected,
    hosts: identifierHosts(cluster, credentials.agentIdentifiers),
  };
}

function identifierHosts(cluster: string, values: readonly (string | Uint8Array)[]): string[] {
  if (values.length === 0) return [cluster];
  let text: string;
  try {
    text = singleMetadataValue(METADATA_KEYS.agentIdentifiers, values);
  } catch (err) {
    throw new ServerError('SERVER_ERR_INVALID_AGENT_METADATA', errorMessage(err), { cause: err });
  }
  let hosts: readonly string[];
  try {
    hosts = parseAgentIdentifiers(text).host;
  } catch (err) {
    throw new ServerError('SERVER_ERR_INVALID_AGENT_METADATA', errorMessage(err), { cause: err });
  }
  const result = new Set([cluster]);
  for (const raw of hosts) {
    const host = raw.toLowerCase();
    if (host !== cluster && !host.startsWith(`${cluster}.`)) {
      throw new ServerError(
        'SERVER_ERR_CLUSTER_MISMATCH',
        `agentIdentifiers host ${JSON.stringify(host.slice(0, 128))} is outside cluster "${cluster}" of the client certificate (hosts must be "${cluster}" or start with "${cluster}.")`,
      );
    }
    result.add(host);
  }
  return [...result];
}

/** How a listener refuses: the gRPC status code and the HTTP status (before upgrade). */
export function refusalStatus(err: unknown): { grpc: GrpcStatus; http: number } {
  const code = err instanceof ServerError ? err.code : undefined;
  switch (code) {
    case 'SERVER_ERR_AGENT_UNAUTHENTICATED':
      return { grpc: GrpcStatus.UNAUTHENTICATED, http: 403 };
    case 'SERVER_ERR_CLUSTER_MISMATCH':
    case 'SERVER_ERR_AGENT_ID_MISMATCH':
    case 'SERVER_ERR_AGENT_NOT_ADMITTED':
    case 'SERVER_ERR_FRONTEND_FORBIDDEN':
      return { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 };
    case 'SERVER_ERR_INVALID_AGENT_METADATA':
      return { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 };
    case 'SERVER_ERR_CLOSED':
      return { grpc: GrpcStatus.UNAVAILABLE, http: 503 };
    default:
      return { grpc: GrpcStatus.INTERNAL, http: 500 };
  }
}
