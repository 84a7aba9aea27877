/**
 * Opens one AgentService.Connect call over gRPC with mTLS (ANP's agent transport). Each call
 * gets its own channel and a local subchannel pool, so it has its own HTTP/2 connection: behind
 * a load-balanced address every attempt may land on another server replica, as ANP expects.
 */
import {
  Metadata,
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  status as grpcStatus,
} from '@grpc/grpc-js';
import type { CallOptions, ChannelOptions, ClientDuplexStream, ServiceError } from '@grpc/grpc-js';

import {
  MAX_PACKET_BYTES,
  METADATA_KEYS,
  formatExtensions,
  grpcCallTransport,
  loadTunnelServices,
  parseExtensions,
  parseServerCount,
  singleMetadataValue,
} from '../../protocol/index.ts';
import type { InboundPacket, OutboundPacket } from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';
import type { ConnectAttempt, ConnectCallbacks, ConnectParams } from './connector.ts';

/** HTTP/2 keepalive ping interval. ANP servers reject clients that ping more often than 30 s. */
export const GRPC_KEEPALIVE_TIME_MS = 30_000;
/** How long a keepalive ping may go unanswered before the connection is dropped. */
export const GRPC_KEEPALIVE_TIMEOUT_MS = 20_000;
/**
 * HTTP/2 flow-control window of the tunnel connection. Node's default 64 KiB caps one gRPC
 * tunnel near 170 MB/s on loopback TLS; 4 MiB gives ~420 MB/s (research/physical-limits.md).
 * Per-stream fairness is the tunnel's own flow control, not HTTP/2's.
 */
export const GRPC_FLOW_CONTROL_WINDOW_BYTES = 4 * 1024 * 1024;

interface AgentServiceClient {
  Connect(
    metadata: Metadata,
    options?: CallOptions,
  ): ClientDuplexStream<OutboundPacket, InboundPacket>;
  close(): void;
}

let clientConstructor:
  | (new (
      address: string,
      creds: ReturnType<typeof grpcCredentials.createSsl>,
      options: ChannelOptions,
    ) => AgentServiceClient)
  | undefined;

function agentServiceClient(): NonNullable<typeof clientConstructor> {
  clientConstructor ??= makeGenericClientConstructor(
    loadTunnelServices().agentServiceClient,
    'AgentService',
  ) as unknown as NonNullable<typeof clientConstructor>;
  return clientConstructor;
}

function describeStatus(err: Partial<ServiceError>): string {
  return err.details !== undefined && err.details !== ''
    ? err.details
    : (err.message ?? 'unknown error');
}

/** gRPC's trailer for a server-chosen retry delay, in ms (gRPC retry design A6). */
const RETRY_PUSHBACK_METADATA_KEY = 'grpc-retry-pushback-ms';

/**
 * The retry delay a RESOURCE_EXHAUSTED status names in `grpc-retry-pushback-ms` (a proxy-server
 * at its handshake admission rate), or undefined.
 */
export function retryPushbackMs(err: ServiceError): number | undefined {
  if (err.code !== grpcStatus.RESOURCE_EXHAUSTED) return undefined;
  const value = err.metadata?.get(RETRY_PUSHBACK_METADATA_KEY)[0];
  return typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : undefined;
}

/** Whether a gRPC status means the server refused this agent (retrying soon will not help). */
export function isGrpcRefusal(code: number | undefined): boolean {
  return code === grpcStatus.UNAUTHENTICATED || code === grpcStatus.PERMISSION_DENIED;
}

/**
 * Calls Connect on `params.address` with metadata `agentID`, `agentIdentifiers` and
 * `spokelink-ext`. On the response headers it reads `serverID`, `serverCount` and the server's
 * `spokelink-ext` and calls `onOpen` synchronously with a `grpcCallTransport` over the call.
 * A status before the headers → `onFail`: UNAUTHENTICATED / PERMISSION_DENIED as
 * `AGENT_ERR_REFUSED_BY_SERVER` (the server's message kept), anything else as
 * `AGENT_ERR_CONNECT_FAILED`; bad or missing headers, or none within the handshake timeout,
 * as `AGENT_ERR_HANDSHAKE`.
 */
export function connectGrpc(params: ConnectParams, callbacks: ConnectCallbacks): ConnectAttempt {
  const { tls } = params;
  const channelOptions: ChannelOptions = {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.keepalive_time_ms': GRPC_KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': GRPC_KEEPALIVE_TIMEOUT_MS,
    'grpc.max_receive_message_length': MAX_PACKET_BYTES,
    'grpc.max_send_message_length': MAX_PACKET_BYTES,
    'grpc-node.flow_control_window': GRPC_FLOW_CONTROL_WINDOW_BYTES,
    'grpc.enable_retries': 0,
    ...(tls.serverName === undefined
      ? {}
      : {
          'grpc.ssl_target_name_override': tls.serverName,
          'grpc.default_authority': tls.serverName,
        }),
  };
  const creds = grpcCredentials.createSsl(
    Buffer.from(tls.caPem),
    Buffer.from(tls.keyPem),
    Buffer.from(tls.certPem),
  );
  const Client = agentServiceClient();
  const client = new Client(params.address, creds, channelOptions);
  const metadata = new Metadata();
  metadata.set(METADATA_KEYS.agentId, params.agentId);
  if (params.identifiersValue !== '')
    metadata.set(METADATA_KEYS.agentIdentifiers, params.identifiersValue);
  if (params.extensions.length > 0)
    metadata.set(METADATA_KEYS.extensions, formatExtensions(params.extensions));

  let isSettled = false;
  const call = client.Connect(metadata);
  const release = (): void => client.close();
  const fail = (err: AgentError): void => {
    if (isSettled) return;
    isSettled = true;
    clearTimeout(timer);
    call.cancel();
    release();
    callbacks.onFail(err);
  };
  call.on('error', (err: ServiceError) => {
    if (isSettled) return;
    const message = describeStatus(err);
    if (isGrpcRefusal(err.code)) {
      fail(
        new AgentError(
          'AGENT_ERR_REFUSED_BY_SERVER',
          `server ${params.address} refused the agent: ${message}`,
          { cause: err },
        ),
      );
    } else {
      const retryAfterMs = retryPushbackMs(err);
      fail(
        new AgentError(
          'AGENT_ERR_CONNECT_FAILED',
          `cannot connect to ${params.address}: ${message}`,
          retryAfterMs === undefined ? { cause: err } : { cause: err, retryAfterMs },
        ),
      );
    }
  });
  call.on('status', () => {
    // A clean status without headers: the server ended the call without accepting it.
    fail(
      new AgentError(
        'AGENT_ERR_CONNECT_FAILED',
        `server ${params.address} ended the call before accepting it`,
      ),
    );
  });
  call.on('metadata', (headers: Metadata) => {
    if (isSettled) return;
    let serverId: string;
    let serverCount: number;
    try {
      serverId = singleMetadataValue(METADATA_KEYS.serverId, headers.get(METADATA_KEYS.serverId));
      serverCount = parseServerCount(
        singleMetadataValue(METADATA_KEYS.serverCount, headers.get(METADATA_KEYS.serverCount)),
      );
    } catch (err: unknown) {
      fail(
        new AgentError(
          'AGENT_ERR_HANDSHAKE',
          `server ${params.address} sent bad headers: ${(err as Error).message}`,
          { cause: err },
        ),
      );
      return;
    }
    isSettled = true;
    clearTimeout(timer);
    callbacks.onOpen({
      serverId,
      serverCount,
      peerExtensions: parseExtensions(headers.get(METADATA_KEYS.extensions)),
      transport: grpcCallTransport(call),
      release,
    });
  });
  const timer = setTimeout(() => {
    fail(
      new AgentError(
        'AGENT_ERR_HANDSHAKE',
        `server ${params.address} sent no response headers within ${params.handshakeTimeoutMs} ms`,
      ),
    );
  }, params.handshakeTimeoutMs);
  return {
    cancel() {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      call.cancel();
      release();
    },
  };
}
