import type { AgentOptions } from 'node:https';

import {
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  Metadata,
} from '@grpc/grpc-js';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  EXTENSIONS_METADATA_KEY,
  type ExtensionName,
  formatExtensions,
  grpcCallTransport,
  type InboundPacket,
  loadTunnelServices,
  negotiateExtensions,
  type OutboundPacket,
  parseExtensions,
  ProtocolError,
  SUPPORTED_EXTENSIONS,
  TunnelSession,
  type TunnelStreamApi,
} from '../../protocol/index.ts';
import { CLUSTER_METADATA_KEY, KUBE_APISERVER_TARGET } from './constants.ts';
import { TunnelHttpsAgent } from './https-agent.ts';
import { TunnelKubeConfig } from './kube-config.ts';

const DEFAULT_DIAL_TIMEOUT_MS = 30_000;
/** HTTP/2 windows of 4 MiB: with the default 64 KiB one grpc-js carries far less per stream. */
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
  'grpc.max_send_message_length': 8 * 1024 * 1024,
  'grpc-node.flow_control_window': 4 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
} as const;

export interface TunnelClientOptions {
  /** The proxy-server's gRPC frontend, `host:port`. */
  server: string;
  /** mTLS to the frontend: a client certificate from the hub CA, and that CA. */
  tls: { certPem: string; keyPem: string; caPem: string; serverName?: string };
  /** Extensions to announce; default all. `[]` behaves as a stock konnectivity client. */
  extensions?: readonly ExtensionName[];
}

export interface TunnelDialOptions {
  /** Cancels a pending dial, or resets the open stream with code 'canceled'. */
  signal?: AbortSignal;
  /** Fails the dial with reason 'timeout' when the agent has not answered in time. Default 30 s. */
  timeoutMs?: number;
}

/**
 * The programmatic dialer hub code uses to reach spokes — the konnectivity-client analogue,
 * reusable: one gRPC channel (one TLS session, one HTTP/2 connection) carries every dial, each
 * as its own ProxyService.Proxy call, so a dial costs one round trip to the agent and no
 * handshake, and HTTP/2 flow control keeps a slow stream from stalling the others.
 *
 * Lifecycle: `close()` waits for open streams to end, then closes the channel; `destroy()`
 * resets every stream. Both are idempotent; `dial()` after either fails with
 * PROTO_ERR_SESSION_CLOSED.
 */
export class TunnelClient {
  #client: Client;
  #extensions: readonly ExtensionName[];
  #sessions = new Set<TunnelSession>();
  #isClosed = false;

  constructor(options: TunnelClientOptions) {
    const Ctor = makeGenericClientConstructor(
      loadTunnelServices().proxyServiceClient as never,
      'ProxyService',
    );
    const creds: ChannelCredentials = credentials.createSsl(
      Buffer.from(options.tls.caPem),
      Buffer.from(options.tls.keyPem),
      Buffer.from(options.tls.certPem),
    );
    const channelOptions: Record<string, string | number> = { ...CHANNEL_OPTIONS };
    if (options.tls.serverName !== undefined) {
      channelOptions['grpc.ssl_target_name_override'] = options.tls.serverName;
      channelOptions['grpc.default_authority'] = options.tls.serverName;
    }
    this.#client = new Ctor(options.server, creds, channelOptions);
    this.#extensions = options.extensions ?? SUPPORTED_EXTENSIONS;
  }

  /**
   * Opens a byte stream to `target` on `cluster`: `'kube-apiserver'` (the spoke's own API
   * server, TLS end to end: bring the spoke's credentials) or an allow-listed `host:port`.
   * Resolves once the agent has connected; rejects with a ProtocolError PROTO_ERR_DIAL_FAILED
   * whose `reason` says why (no-agent, not-allowed, refused, timeout, canceled, …).
   */
  async dial(
    cluster: string,
    target: string,
    options: TunnelDialOptions = {},
  ): Promise<TunnelStreamApi> {
    if (this.#isClosed)
      throw new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'the tunnel client is closed');
    const address = target === KUBE_APISERVER_TARGET ? `${KUBE_APISERVER_TARGET}:443` : target;
    const md = new Metadata();
    md.set(CLUSTER_METADATA_KEY, cluster);
    md.set(EXTENSIONS_METADATA_KEY, formatExtensions(this.#extensions));
    const call = (
      this.#client as unknown as {
        Proxy(md: Metadata): ClientDuplexStream<OutboundPacket, InboundPacket>;
      }
    ).Proxy(md);
    call.on('error', () => {}); // surfaced through the transport's 'close'
    const transport = grpcCallTransport(call);
    // Our server sends its announcement in the response headers at once; the session needs the
    // negotiated set before the first packet (protocol/README.md, "Negotiation").
    const headers = await new Promise<Metadata | undefined>((resolve) => {
      call.once('metadata', resolve);
      transport.once('close', () => resolve(undefined));
      options.signal?.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    if (headers === undefined) {
      transport.destroy();
      const reason = options.signal?.aborted ? 'canceled' : 'tunnel-closed';
      throw new ProtocolError(
        'PROTO_ERR_DIAL_FAILED',
        `dial ${cluster}/${target}: the proxy-server call ended before it answered`,
        { reason },
      );
    }
    const negotiated = negotiateExtensions(
      this.#extensions,
      parseExtensions(headers.get(EXTENSIONS_METADATA_KEY)),
    );
    const session = new TunnelSession({
      transport,
      role: 'dialer',
      extensions: negotiated,
      label: `frontend ${cluster}`,
    });
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    try {
      const stream = await session.dial(address, {
        timeoutMs: options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      // One stream per call: when it is done, the call is too.
      stream.once('close', () => void session.close());
      return stream;
    } catch (err) {
      session.destroy();
      throw err;
    }
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

  /** Open streams and pending dials across all calls; both return to 0 after use. */
  stats(): { openStreams: number; pendingDials: number } {
    let openStreams = 0;
    let pendingDials = 0;
    for (const session of this.#sessions) {
      const s = session.stats();
      openStreams += s.openStreams;
      pendingDials += s.pendingDials;
    }
    return { openStreams, pendingDials };
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await Promise.all([...this.#sessions].map((s) => s.close()));
    this.#client.close();
  }

  destroy(err?: Error): void {
    this.#isClosed = true;
    for (const session of this.#sessions) session.destroy(err);
    this.#client.close();
  }
}

/** `new TunnelClient(options)`. */
export function createTunnelClient(options: TunnelClientOptions): TunnelClient {
  return new TunnelClient(options);
}
