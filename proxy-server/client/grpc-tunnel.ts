import {
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  Metadata,
} from '@grpc/grpc-js';

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
  TunnelSession,
  type TunnelStreamApi,
} from '../../protocol/index.ts';
import {
  type ClientTunnel,
  type ClientTunnelOptions,
  DEFAULT_DIAL_TIMEOUT_MS,
  type TunnelDialOptions,
} from './client-tunnel.ts';
import { CLUSTER_METADATA_KEY } from './constants.ts';

/** HTTP/2 windows of 4 MiB: with the default 64 KiB one grpc-js carries far less per stream. */
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
  'grpc.max_send_message_length': 8 * 1024 * 1024,
  'grpc-node.flow_control_window': 4 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // A lost connection is retried soon (grpc-js waits up to 120 s by default), so a restarted
  // proxy-server is found again within seconds; dials wait for it (waitForReady, below).
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 5_000,
} as const;

/**
 * The gRPC way to the frontend, as a stock konnectivity-client does it: one channel (one TLS
 * session, one HTTP/2 connection) carries every dial, each as its own ProxyService.Proxy call
 * with the cluster in its metadata, so a dial costs one round trip to the agent and no
 * handshake, and HTTP/2 flow control keeps a slow stream from stalling the others.
 * `close()` waits for open streams, then closes the channel; `destroy()` resets every stream.
 */
export class GrpcTunnel implements ClientTunnel {
  #client: Client;
  #extensions: readonly ExtensionName[];
  #sessions = new Set<TunnelSession>();

  constructor(options: ClientTunnelOptions) {
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
    this.#extensions = options.extensions;
  }

  async dial(
    cluster: string,
    address: string,
    options: TunnelDialOptions,
  ): Promise<TunnelStreamApi> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    const startedAt = performance.now();
    // waitForReady: while the channel is (re)connecting, the call waits for it instead of
    // failing at once; the dial's own timeout bounds the wait.
    const md = new Metadata({ waitForReady: true });
    md.set(CLUSTER_METADATA_KEY, cluster);
    md.set(EXTENSIONS_METADATA_KEY, formatExtensions(this.#extensions));
    const call = (
      this.#client as unknown as {
        Proxy(md: Metadata): ClientDuplexStream<OutboundPacket, InboundPacket>;
      }
    ).Proxy(md);
    let callError: (Error & { code?: number; details?: string }) | undefined;
    call.on('error', (err: Error) => {
      callError = err; // also surfaced through the transport's 'close'
    });
    const transport = grpcCallTransport(call);
    // Our server sends its announcement in the response headers at once; the session needs the
    // negotiated set before the first packet (protocol/README.md, "Negotiation").
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const headers = await new Promise<Metadata | undefined>((resolve) => {
      call.once('metadata', resolve);
      transport.once('close', () => resolve(undefined));
      options.signal?.addEventListener('abort', () => resolve(undefined), { once: true });
      timer = setTimeout(() => {
        timedOut = true;
        resolve(undefined);
      }, timeoutMs);
    });
    clearTimeout(timer);
    if (headers === undefined) {
      transport.destroy();
      if (options.signal?.aborted === true)
        throw new ProtocolError(
          'PROTO_ERR_DIAL_FAILED',
          `dial ${cluster}/${address}: canceled before the proxy-server answered`,
          { reason: 'canceled' },
        );
      if (timedOut)
        throw new ProtocolError(
          'PROTO_ERR_DIAL_FAILED',
          `dial ${cluster}/${address}: the proxy-server did not answer within ${timeoutMs} ms`,
          { reason: 'timeout' },
        );
      const why =
        callError === undefined
          ? ''
          : ` (${callError.code === undefined ? '' : `gRPC status ${callError.code}: `}${callError.details ?? callError.message})`;
      throw new ProtocolError(
        'PROTO_ERR_DIAL_FAILED',
        `dial ${cluster}/${address}: the proxy-server call ended before it answered${why}`,
        { reason: 'tunnel-closed' },
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
        timeoutMs: Math.max(1, timeoutMs - (performance.now() - startedAt)),
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
    await Promise.all([...this.#sessions].map((s) => s.close()));
    this.#client.close();
  }

  destroy(err?: Error): void {
    for (const session of this.#sessions) session.destroy(err);
    this.#client.close();
  }
}
