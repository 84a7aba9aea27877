import type { AgentOptions } from 'node:https';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  type ExtensionName,
  ProtocolError,
  SUPPORTED_EXTENSIONS,
  type TunnelStreamApi,
} from '../../protocol/index.ts';
import type { ClientTls, ClientTunnel, TunnelDialOptions } from './client-tunnel.ts';
import { KUBE_APISERVER_TARGET } from './constants.ts';
import { GrpcTunnel } from './grpc-tunnel.ts';
import { TunnelHttpsAgent } from './https-agent.ts';
import { TunnelKubeConfig } from './kube-config.ts';
import { WebSocketTunnel } from './websocket-tunnel.ts';

/** How the client reaches the proxy-server's frontend. */
export type TunnelClientTransport = 'grpc' | 'websocket';

export interface TunnelClientOptions {
  /**
   * The proxy-server frontend for `transport`: the gRPC frontend's `host:port`
   * (`ProxyServer.addresses.frontendGrpc`), or the frontend WebSocket's
   * `wss://host:port/frontend` (`addresses.frontendWebSocket`; a bare `host:port` gets the
   * `/frontend` path).
   */
  server: string;
  /**
   * 'grpc' (default): one ProxyService.Proxy call per dial on one HTTP/2 channel, the
   * konnectivity-client way. 'websocket': every dial is a stream on one shared WebSocket, which
   * costs far less CPU per byte on both ends (test/bench/tunnel.ts).
   */
  transport?: TunnelClientTransport;
  /** mTLS to the frontend: a client certificate from the hub CA, and that CA. */
  tls: ClientTls;
  /** Extensions to announce; default all. `[]` behaves as a stock konnectivity client. */
  extensions?: readonly ExtensionName[];
}

/**
 * The programmatic dialer hub code uses to reach spokes — the konnectivity-client analogue,
 * reusable: one connection to the proxy-server carries every dial, so a dial costs one round
 * trip to the agent and no handshake, and per-stream flow control keeps a slow stream from
 * stalling the others. With transport 'grpc' that connection is an HTTP/2 channel with one
 * ProxyService call per dial; with 'websocket' it is one WebSocket with one tunnel session,
 * opened by the first dial and reopened by the next dial after it was lost.
 *
 * Lifecycle: `close()` waits for open streams to end, then closes the connection; `destroy()`
 * resets every stream. Both are idempotent; `dial()` after either fails with
 * PROTO_ERR_SESSION_CLOSED. Any number of dials may run at once.
 */
export class TunnelClient {
  /** Which frontend this client uses. */
  readonly transport: TunnelClientTransport;
  readonly #tunnel: ClientTunnel;
  #isClosed = false;

  constructor(options: TunnelClientOptions) {
    this.transport = options.transport ?? 'grpc';
    if (this.transport !== 'grpc' && this.transport !== 'websocket') {
      throw new TypeError(`transport must be 'grpc' or 'websocket', got ${String(this.transport)}`);
    }
    const tunnelOptions = {
      server: options.server,
      tls: options.tls,
      extensions: options.extensions ?? SUPPORTED_EXTENSIONS,
    };
    this.#tunnel =
      this.transport === 'grpc'
        ? new GrpcTunnel(tunnelOptions)
        : new WebSocketTunnel(tunnelOptions);
  }

  /**
   * Opens a byte stream to `target` on `cluster`: `'kube-apiserver'` (the spoke's own API
   * server, TLS end to end: bring the spoke's credentials) or an allow-listed `host:port`.
   * Resolves once the agent has connected; rejects with a ProtocolError PROTO_ERR_DIAL_FAILED
   * whose `reason` says why (no-agent, not-allowed, refused, timeout, canceled, tunnel-closed
   * when the proxy-server cannot be reached, …).
   */
  async dial(
    cluster: string,
    target: string,
    options: TunnelDialOptions = {},
  ): Promise<TunnelStreamApi> {
    if (this.#isClosed)
      throw new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'the tunnel client is closed');
    const address = target === KUBE_APISERVER_TARGET ? `${KUBE_APISERVER_TARGET}:443` : target;
    return this.#tunnel.dial(cluster, address, options);
  }

  /**
   * An `https.Agent` whose connections are tunnel streams to `target` on `cluster` (TLS end to
   * end with the `options` given: the spoke's CA and, if any, client certificate).
   */
  createHttpsAgent(
    cluster: string,
    options: AgentOptions = {},
    target = KUBE_APISERVER_TARGET,
  ): TunnelHttpsAgent {
    return new TunnelHttpsAgent(this, cluster, target, options);
  }

  /**
   * A @kubernetes/client-node KubeConfig for `cluster` built from the spoke credentials in
   * `base`, whose requests (API calls, watches, WebSocket verbs) all go through the tunnel.
   */
  kubeConfig(cluster: string, base: KubeConfig): TunnelKubeConfig {
    return new TunnelKubeConfig(this, cluster, base);
  }

  /** Open streams and pending dials; both return to 0 after use. */
  stats(): { openStreams: number; pendingDials: number } {
    return this.#tunnel.stats();
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await this.#tunnel.close();
  }

  destroy(err?: Error): void {
    this.#isClosed = true;
    this.#tunnel.destroy(err);
  }
}

/** `new TunnelClient(options)`. */
export function createTunnelClient(options: TunnelClientOptions): TunnelClient {
  return new TunnelClient(options);
}
