import type { ExtensionName, TunnelStreamApi } from '../../protocol/index.ts';

/** mTLS to the proxy-server frontend: a client certificate from the hub CA, and that CA. */
export interface ClientTls {
  certPem: string;
  keyPem: string;
  caPem: string;
  /** TLS server name to verify (and send as SNI) when the address is not in the certificate. */
  serverName?: string;
}

export interface TunnelDialOptions {
  /** Cancels a pending dial, or resets the open stream with code 'canceled'. */
  signal?: AbortSignal;
  /**
   * Fails the dial with reason 'timeout' when the agent has not answered in time. Default 30 s.
   * Over gRPC it also bounds the wait for the proxy-server while the channel (re)connects (a
   * restarted server is found again within seconds); over WebSocket opening the connection has
   * its own 10 s deadline.
   */
  timeoutMs?: number;
}

/** What a {@link ClientTunnel} is built from. */
export interface ClientTunnelOptions {
  /** The frontend's address (see `TunnelClientOptions.server`). */
  server: string;
  tls: ClientTls;
  /** Extensions to announce. */
  extensions: readonly ExtensionName[];
}

/**
 * One way of reaching the proxy-server's frontend (gRPC ProxyService or the frontend
 * WebSocket), behind `TunnelClient`. Same contract as TunnelClient's methods of the same names;
 * `address` is the target as `host:port`.
 */
export interface ClientTunnel {
  dial(cluster: string, address: string, options: TunnelDialOptions): Promise<TunnelStreamApi>;
  stats(): { openStreams: number; pendingDials: number };
  close(): Promise<void>;
  destroy(err?: Error): void;
}

/** Dial timeout when none is given, ms (konnectivity-client's backstop). */
export const DEFAULT_DIAL_TIMEOUT_MS = 30_000;
