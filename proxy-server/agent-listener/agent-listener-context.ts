/**
 * What an agent listener needs from the server, and what it hands back: an authenticated
 * agent's packet transport with the negotiated extensions. Both listeners (gRPC, WebSocket)
 * share it, so the server treats agents the same whatever their transport.
 */
import { METADATA_KEYS, formatExtensions } from '../../protocol/index.ts';
import type { ExtensionName, PacketTransport } from '../../protocol/index.ts';

import type { Logger } from '../logger.ts';
import type { AgentIdentity, AgentTransportKind } from '../sessions/index.ts';

/** An agent that passed authentication, with its open transport. */
export interface AcceptedAgent {
  readonly identity: AgentIdentity;
  readonly transport: AgentTransportKind;
  readonly packets: PacketTransport;
  /** The negotiated set: our announcement ∩ the agent's. */
  readonly extensions: ReadonlySet<ExtensionName>;
  /** Remote address, for logs. */
  readonly peer: string;
}

/** Provided by the server to its agent listeners. */
export interface AgentListenerContext {
  readonly serverId: string;
  readonly serverCount: number;
  /** What we announce in `spokelink-ext`. */
  readonly extensions: readonly ExtensionName[];
  readonly logger: Logger;
  /** True once the server is closing: refuse new agents (UNAVAILABLE / 503). */
  isClosing(): boolean;
  /**
   * Handshake admission rate limiting, before authentication: `undefined` admits the tunnel
   * (and takes a token), a number refuses it (RESOURCE_EXHAUSTED / 503) and is the ms until
   * the retry slot reserved for it (`grpc-retry-pushback-ms`, `Retry-After`). Counts refusals
   * in the metrics.
   */
  rateLimit(transport: AgentTransportKind): number | undefined;
  /** Cap on TLS handshakes in progress per listener (handshake-guard.ts); undefined: none. */
  readonly maxPendingHandshakes: number | undefined;
  /** Counts a connection closed unanswered by the handshake guard. */
  shed(transport: AgentTransportKind): void;
  /**
   * Admission after authentication: returns the identity, or throws ServerError
   * `SERVER_ERR_AGENT_NOT_ADMITTED` (e.g. the cluster is not accepted on the hub).
   */
  admit(identity: AgentIdentity): AgentIdentity;
  /** Takes ownership of an accepted agent's transport (must not throw). */
  accept(agent: AcceptedAgent): void;
}

/**
 * The server hello sent to an agent before any packet: `serverID`, `serverCount` and, when we
 * announce anything, `spokelink-ext` (gRPC response headers, or the 101 response headers).
 */
export function serverHelloHeaders(context: AgentListenerContext): [string, string][] {
  const headers: [string, string][] = [
    [METADATA_KEYS.serverId, context.serverId],
    [METADATA_KEYS.serverCount, String(context.serverCount)],
  ];
  const announced = formatExtensions(context.extensions);
  if (announced !== '') headers.push([METADATA_KEYS.extensions, announced]);
  return headers;
}

/** gRPC's trailer for a server-chosen retry delay, in ms (gRPC retry design A6). */
export const RETRY_PUSHBACK_METADATA_KEY = 'grpc-retry-pushback-ms';

/** The text of a rate-limit refusal, the same on both transports. */
export function rateLimitedMessage(retryAfterMs: number): string {
  return `proxy-server is admitting agents at its handshake rate limit; retry in ${retryAfterMs} ms`;
}
