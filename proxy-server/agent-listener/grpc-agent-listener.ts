/**
 * The gRPC agent listener: AgentService.Connect over HTTP/2 with mTLS (client certificates
 * from the hub CA, verified by TLS). Each Connect call is one agent tunnel; the agent is the
 * gRPC client, the server is the tunnel session's dialer.
 */
import * as grpc from '@grpc/grpc-js';

import {
  EXTENSIONS_METADATA_KEY,
  MAX_PACKET_BYTES,
  METADATA_KEYS,
  grpcCallTransport,
  loadTunnelServices,
  negotiateExtensions,
  parseExtensions,
} from '../../protocol/index.ts';
import type { InboundPacket, OutboundPacket } from '../../protocol/index.ts';

import { ServerError, errorMessage } from '../errors.ts';
import {
  bindGrpcServer,
  grpcMtlsCredentials,
  grpcTlsServers,
  grpcServerOptions,
  refuseGrpcCall,
  shutdownGrpcServer,
} from '../listen.ts';
import type { ResolvedListen, ResolvedOptions } from '../options.ts';
import type { AgentListenerContext } from './agent-listener-context.ts';
import {
  RETRY_PUSHBACK_METADATA_KEY,
  rateLimitedMessage,
  serverHelloHeaders,
} from './agent-listener-context.ts';
import { authenticateAgent, peerCommonName, refusalStatus } from './authenticate-agent.ts';
import { guardPendingHandshakes } from './handshake-guard.ts';

type ConnectCall = grpc.ServerDuplexStream<InboundPacket, OutboundPacket>;

/**
 * A running gRPC agent listener. `close(graceMs)` stops accepting calls and waits for running
 * ones (the server closes the agent sessions itself) up to `graceMs`, then cancels the rest;
 * `destroy()` cancels every call now. Both idempotent.
 */
export class GrpcAgentListener {
  /** `host:port` it is bound to. */
  readonly address: string;
  readonly #server: grpc.Server;

  private constructor(server: grpc.Server, address: string) {
    this.#server = server;
    this.address = address;
  }

  /** Binds and starts serving. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(
    listen: ResolvedListen,
    tls: ResolvedOptions['tls'],
    context: AgentListenerContext,
  ): Promise<GrpcAgentListener> {
    const server = new grpc.Server(grpcServerOptions(MAX_PACKET_BYTES));
    server.addService(loadTunnelServices().agentServiceServer, {
      Connect: (call: ConnectCall) => handleConnect(call, context),
    });
    const address = await bindGrpcServer(server, listen, grpcMtlsCredentials(tls), 'agentGrpc');
    const { maxPendingHandshakes } = context;
    if (maxPendingHandshakes !== undefined) {
      for (const tlsServer of grpcTlsServers(server)) {
        guardPendingHandshakes(tlsServer, maxPendingHandshakes, () => context.shed('grpc'));
      }
    }
    return new GrpcAgentListener(server, address);
  }

  close(graceMs: number): Promise<void> {
    return shutdownGrpcServer(this.#server, graceMs);
  }

  destroy(): void {
    this.#server.forceShutdown();
  }
}

function handleConnect(call: ConnectCall, context: AgentListenerContext): void {
  const peer = call.getPeer();
  call.on('error', (err: Error) => {
    context.logger.debug('agent call error', { peer, err });
  });
  if (context.isClosing()) {
    refuseGrpcCall(call, grpc.status.UNAVAILABLE, 'proxy-server is shutting down');
    return;
  }
  const retryAfterMs = context.rateLimit('grpc');
  if (retryAfterMs !== undefined) {
    const trailers = new grpc.Metadata();
    trailers.set(RETRY_PUSHBACK_METADATA_KEY, String(retryAfterMs));
    refuseGrpcCall(
      call,
      grpc.status.RESOURCE_EXHAUSTED,
      rateLimitedMessage(retryAfterMs),
      trailers,
    );
    return;
  }
  let identity;
  try {
    identity = context.admit(
      authenticateAgent({
        commonName: peerCommonName(call.getAuthContext()?.sslPeerCertificate),
        agentId: call.metadata.get(METADATA_KEYS.agentId),
        agentIdentifiers: call.metadata.get(METADATA_KEYS.agentIdentifiers),
      }),
    );
  } catch (err) {
    const { grpc: code } = refusalStatus(err);
    context.logger.warn('agent refused', {
      peer,
      transport: 'grpc',
      code: err instanceof ServerError ? err.code : undefined,
      message: errorMessage(err),
    });
    refuseGrpcCall(call, code, errorMessage(err));
    return;
  }
  const remote = parseExtensions(call.metadata.get(EXTENSIONS_METADATA_KEY));
  const hello = new grpc.Metadata();
  for (const [key, value] of serverHelloHeaders(context)) hello.set(key, value);
  call.sendMetadata(hello);
  context.accept({
    identity,
    transport: 'grpc',
    packets: grpcCallTransport(call),
    extensions: negotiateExtensions(context.extensions, remote),
    peer,
  });
}
