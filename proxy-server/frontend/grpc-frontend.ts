/**
 * The gRPC frontend: ProxyService.Proxy with mTLS (client certificates from the hub CA). Each
 * call is one frontend tunnel on which the server is the session acceptor: a stock
 * konnectivity-client opens one call per connection and sends one DIAL_REQ (a call without
 * `spokelink-ext` is plain ANP); our client may dial many streams on one call. Each incoming
 * dial is routed, dialed on an agent session, accepted, and bridged stream to stream.
 */
import * as grpc from '@grpc/grpc-js';

import {
  EXTENSIONS_METADATA_KEY,
  MAX_PACKET_BYTES,
  TunnelSession,
  formatExtensions,
  grpcCallTransport,
  loadTunnelServices,
  negotiateExtensions,
  parseExtensions,
} from '../../protocol/index.ts';
import type {
  ExtensionName,
  InboundPacket,
  IncomingDial,
  OutboundPacket,
  TunnelSessionApi,
} from '../../protocol/index.ts';

import { peerCommonName, refusalStatus } from '../agent-listener/index.ts';
import type { Dialer } from '../dialer.ts';
import {
  bindGrpcServer,
  grpcMtlsCredentials,
  grpcServerOptions,
  refuseGrpcCall,
  shutdownGrpcServer,
} from '../listen.ts';
import type { Logger } from '../logger.ts';
import type { ResolvedListen, ResolvedOptions } from '../options.ts';
import { CLUSTER_HEADER } from './cluster-header.ts';
import { FrontendSessions } from './frontend-sessions.ts';
import { agentCertificateRefusal, serveFrontendDial } from './serve-frontend-dial.ts';

type ProxyCall = grpc.ServerDuplexStream<InboundPacket, OutboundPacket>;

/** Options of {@link GrpcFrontend.start}. */
export interface GrpcFrontendOptions {
  readonly listen: ResolvedListen;
  readonly tls: ResolvedOptions['tls'];
  readonly dialer: Dialer;
  readonly logger: Logger;
  /** What we announce in `spokelink-ext`. */
  readonly extensions: readonly ExtensionName[];
  /** True once the server is closing: new calls are refused with UNAVAILABLE. */
  readonly isClosing: () => boolean;
}

/**
 * A running gRPC frontend. `closeSessions()` closes every frontend session gracefully (no new
 * dials; open streams finish; then the call ends); `close(graceMs)` stops the gRPC server,
 * cancelling calls still running after `graceMs`; `destroy(err)` resets every stream and
 * cancels every call now. All idempotent.
 */
export class GrpcFrontend {
  readonly #server: grpc.Server;
  readonly #sessions = new FrontendSessions();
  #address = '';

  private constructor(server: grpc.Server) {
    this.#server = server;
  }

  /** Binds and starts serving. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(options: GrpcFrontendOptions): Promise<GrpcFrontend> {
    const server = new grpc.Server(grpcServerOptions(MAX_PACKET_BYTES));
    const frontend = new GrpcFrontend(server);
    server.addService(loadTunnelServices().proxyServiceServer, {
      Proxy: (call: ProxyCall) => frontend.#handleCall(options, call),
    });
    frontend.#address = await bindGrpcServer(
      server,
      options.listen,
      grpcMtlsCredentials(options.tls),
      'frontendGrpc',
    );
    return frontend;
  }

  /** `host:port` it is bound to. */
  get address(): string {
    return this.#address;
  }

  /** Frontend sessions (ProxyService calls) currently open. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Streams currently open on frontend sessions. */
  openStreams(): number {
    return this.#sessions.openStreams();
  }

  /** Monotonic: zero-credit stalls on frontend sessions, including closed ones. */
  windowStalls(): number {
    return this.#sessions.windowStalls();
  }

  closeSessions(): Promise<void> {
    return this.#sessions.closeAll();
  }

  close(graceMs: number): Promise<void> {
    return shutdownGrpcServer(this.#server, graceMs);
  }

  destroy(err?: Error): void {
    this.#sessions.destroyAll(err);
    this.#server.forceShutdown();
  }

  #handleCall(options: GrpcFrontendOptions, call: ProxyCall): void {
    const { logger } = options;
    const peer = call.getPeer();
    call.on('error', (err: Error) => logger.debug('frontend call error', { peer, err }));
    if (options.isClosing()) {
      refuseGrpcCall(call, grpc.status.UNAVAILABLE, 'proxy-server is shutting down');
      return;
    }
    const refusal = agentCertificateRefusal(
      peerCommonName(call.getAuthContext()?.sslPeerCertificate),
    );
    if (refusal !== undefined) {
      logger.warn('frontend refused', { peer, code: refusal.code, message: refusal.message });
      refuseGrpcCall(call, refusalStatus(refusal).grpc, refusal.message);
      return;
    }
    const clusters = call.metadata.get(CLUSTER_HEADER);
    const cluster = clusters[0];
    if (
      clusters.length > 1 ||
      (cluster !== undefined && (typeof cluster !== 'string' || cluster === ''))
    ) {
      refuseGrpcCall(
        call,
        grpc.status.INVALID_ARGUMENT,
        `metadata ${CLUSTER_HEADER} must be one non-empty text value`,
      );
      return;
    }
    const remote = parseExtensions(call.metadata.get(EXTENSIONS_METADATA_KEY));
    const hello = new grpc.Metadata();
    const announced = formatExtensions(options.extensions);
    if (announced !== '') hello.set(EXTENSIONS_METADATA_KEY, announced);
    call.sendMetadata(hello);
    const session: TunnelSessionApi = new TunnelSession({
      transport: grpcCallTransport(call),
      role: 'acceptor',
      extensions: negotiateExtensions(options.extensions, remote),
      onDial: (dial: IncomingDial) => {
        void serveFrontendDial(dial, {
          dialer: options.dialer,
          logger,
          source: 'grpc',
          peer,
          address: dial.address,
          cluster: cluster as string | undefined,
        });
      },
      label: `frontend ${peer}`,
    });
    this.#sessions.add(session);
    session.once('close', (err?: Error) => {
      logger.debug('frontend session closed', { peer, ...(err === undefined ? {} : { err }) });
    });
  }
}
