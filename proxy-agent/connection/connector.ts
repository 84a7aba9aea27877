/**
 * The seam between the reconnect loop (tunnel-manager.ts) and the two transports: a connector
 * opens one tunnel connection to one address, reads the server's handshake (serverID,
 * serverCount, extension announcement) and hands over a PacketTransport, or fails once.
 */
import type { ExtensionName, PacketTransport } from '../../protocol/index.ts';
import type { AgentError } from '../errors.ts';
import type { AgentTlsOptions } from '../options.ts';

/** Longest wait for the server's handshake (gRPC response headers, HTTP 101), in ms. */
export const HANDSHAKE_TIMEOUT_MS = 20_000;

/** What a connector sends and how. */
export interface ConnectParams {
  /** gRPC `host:port`, or a `wss://` URL. */
  readonly address: string;
  readonly tls: Readonly<AgentTlsOptions>;
  /** Metadata `agentID`. */
  readonly agentId: string;
  /** Metadata `agentIdentifiers` (already formatted); omitted when empty. */
  readonly identifiersValue: string;
  /** Announced in `spokelink-ext`; nothing is sent when empty (plain ANP agent). */
  readonly extensions: readonly ExtensionName[];
  readonly handshakeTimeoutMs: number;
}

/** The server's side of the handshake plus the open transport. */
export interface TunnelHandshake {
  readonly serverId: string;
  /** As the server sent it (0 is possible from a misconfigured ANP server). */
  readonly serverCount: number;
  readonly peerExtensions: ReadonlySet<ExtensionName>;
  /**
   * The open transport. The callee must attach to it (create the session) synchronously inside
   * `onOpen`: a WebSocket emits messages whether or not anyone listens.
   */
  readonly transport: PacketTransport;
  /** Frees what the connection holds besides the transport (the gRPC channel). Idempotent. */
  release(): void;
}

/** Exactly one of these is called, once, unless the attempt is canceled first. */
export interface ConnectCallbacks {
  onOpen(handshake: TunnelHandshake): void;
  /** `AGENT_ERR_CONNECT_FAILED`, `AGENT_ERR_REFUSED_BY_SERVER` or `AGENT_ERR_HANDSHAKE`. */
  onFail(err: AgentError): void;
}

/** A connection attempt in flight. */
export interface ConnectAttempt {
  /** Abandons the attempt before it opened: no callback is called afterwards. Idempotent. */
  cancel(): void;
}

/** Opens one tunnel connection. */
export type Connector = (params: ConnectParams, callbacks: ConnectCallbacks) => ConnectAttempt;
