/**
 * The frontend WebSocket: `wss://host:port/frontend` with mTLS (client certificates from the hub
 * CA; agent certificates refused), for hub clients that want one cheap multiplexed connection
 * instead of a gRPC call per dial. Same packets as every tunnel, one per binary message; the
 * server is the session acceptor and a client dials any number of streams, for any clusters, on
 * one WebSocket. Each DIAL_REQ address is `<cluster>_<host>:<port>`
 * (`../client/frontend-address.ts`): the cluster prefix is stripped and the dial is routed to
 * that cluster exactly as the gRPC frontend routes an explicit cluster.
 */
import type { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

import {
  EXTENSIONS_METADATA_KEY,
  MAX_PACKET_BYTES,
  TUNNEL_CLOSE_CODES,
  TunnelSession,
  formatExtensions,
  negotiateExtensions,
  parseExtensions,
  webSocketTransport,
} from '../../protocol/index.ts';
import type { ExtensionName, IncomingDial } from '../../protocol/index.ts';

import { peerCommonName, refusalStatus } from '../agent-listener/index.ts';
// The file itself, not client/index.ts: that one pulls in the kube client and undici.
import { FRONTEND_WEBSOCKET_PATH, parseFrontendDialAddress } from '../client/frontend-address.ts';
import type { Dialer } from '../dialer.ts';
import { ServerError, errorMessage } from '../errors.ts';
import {
  SocketTracker,
  closeNodeServer,
  createMtlsUpgradeServer,
  listenNodeServer,
  refuseUpgrade,
} from '../listen.ts';
import type { Logger } from '../logger.ts';
import type { ResolvedListen, ResolvedOptions } from '../options.ts';
import { FrontendSessions } from './frontend-sessions.ts';
import { agentCertificateRefusal, serveFrontendDial } from './serve-frontend-dial.ts';

/** Options of {@link WebSocketFrontend.start}. */
export interface WebSocketFrontendOptions {
  readonly listen: ResolvedListen;
  readonly tls: ResolvedOptions['tls'];
  readonly dialer: Dialer;
  readonly logger: Logger;
  /** What we announce in `spokelink-ext` (on the 101 response). */
  readonly extensions: readonly ExtensionName[];
  /** True once the server is closing: new upgrades are refused with 503. */
  readonly isClosing: () => boolean;
}

/**
 * A running frontend WebSocket listener. `closeSessions()` closes every frontend session
 * gracefully (the peer's new dials are refused 'tunnel-closed', open streams finish, then the
 * WebSocket closes with 1000); `close()` stops accepting and resolves once every socket it
 * accepted has closed; `destroy(err)` resets every stream and ends every socket now. All
 * idempotent.
 */
export class WebSocketFrontend {
  /** `wss://host:port/frontend`. */
  readonly address: string;
  readonly #server: HttpsServer;
  readonly #sockets: SocketTracker;
  readonly #sessions: FrontendSessions;

  private constructor(
    server: HttpsServer,
    sockets: SocketTracker,
    sessions: FrontendSessions,
    address: string,
  ) {
    this.#server = server;
    this.#sockets = sockets;
    this.#sessions = sessions;
    this.address = address;
  }

  /** Binds and starts serving. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(options: WebSocketFrontendOptions): Promise<WebSocketFrontend> {
    const server = createMtlsUpgradeServer(options.tls, FRONTEND_WEBSOCKET_PATH);
    const sockets = new SocketTracker(server);
    const sessions = new FrontendSessions();
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_PACKET_BYTES,
      clientTracking: false,
    });
    const announced = formatExtensions(options.extensions);
    wss.on('headers', (headers: string[]) => {
      if (announced !== '') headers.push(`${EXTENSIONS_METADATA_KEY}: ${announced}`);
    });
    server.on('tlsClientError', (err: Error) => {
      options.logger.debug('frontend tls handshake failed', { transport: 'websocket', err });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      handleUpgrade(options, wss, sessions, req, socket, head);
    });
    const hostPort = await listenNodeServer(server, options.listen, 'frontendWebSocket');
    return new WebSocketFrontend(
      server,
      sockets,
      sessions,
      `wss://${hostPort}${FRONTEND_WEBSOCKET_PATH}`,
    );
  }

  /** Frontend sessions (WebSockets) currently open. */
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

  close(): Promise<void> {
    return closeNodeServer(this.#server);
  }

  destroy(err?: Error): void {
    this.#sessions.destroyAll(err);
    this.#server.close();
    this.#sockets.destroyAll();
  }
}

function handleUpgrade(
  options: WebSocketFrontendOptions,
  wss: WebSocketServer,
  sessions: FrontendSessions,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const { logger } = options;
  const tlsSocket = socket as TLSSocket;
  const peer = `${tlsSocket.remoteAddress ?? '?'}:${tlsSocket.remotePort ?? '?'}`;
  socket.on('error', (err: Error) => {
    logger.debug('frontend socket error', { peer, transport: 'websocket', err });
  });
  const path = new URL(req.url ?? '/', 'https://frontend.invalid').pathname;
  if (path !== FRONTEND_WEBSOCKET_PATH) {
    refuseUpgrade(
      socket,
      404,
      `no frontend at ${JSON.stringify(path.slice(0, 64))}; use ${FRONTEND_WEBSOCKET_PATH}`,
    );
    return;
  }
  if (options.isClosing()) {
    refuseUpgrade(socket, 503, 'proxy-server is shutting down');
    return;
  }
  // Authenticated BEFORE the upgrade: TLS verified the certificate against the CA; agents' are
  // refused here, with the same text as the gRPC frontend.
  const refusal = agentCertificateRefusal(peerCommonName(tlsSocket.getPeerCertificate()));
  if (refusal !== undefined) {
    logger.warn('frontend refused', {
      peer,
      transport: 'websocket',
      code: refusal.code,
      message: refusal.message,
    });
    refuseUpgrade(socket, refusalStatus(refusal).http, refusal.message);
    return;
  }
  const remote = parseExtensions(req.headersDistinct[EXTENSIONS_METADATA_KEY] ?? []);
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const transport = webSocketTransport(ws);
    if (options.isClosing()) {
      transport.destroy(
        new ServerError('SERVER_ERR_CLOSED', 'proxy-server is shutting down'),
        TUNNEL_CLOSE_CODES.DRAINING,
      );
      return;
    }
    const extensions = negotiateExtensions(options.extensions, remote);
    const session = new TunnelSession({
      transport,
      role: 'acceptor',
      extensions,
      onDial: (dial: IncomingDial) => serveDial(options, dial, peer),
      label: `frontend websocket ${peer}`,
    });
    sessions.add(session);
    logger.info('frontend connected', {
      peer,
      transport: 'websocket',
      extensions: [...extensions].join(','),
    });
    session.once('close', (err?: Error) => {
      logger.info('frontend disconnected', {
        peer,
        transport: 'websocket',
        ...(err === undefined ? {} : { err }),
      });
    });
  });
}

function serveDial(options: WebSocketFrontendOptions, dial: IncomingDial, peer: string): void {
  let route;
  try {
    route = parseFrontendDialAddress(dial.address);
  } catch (err) {
    options.logger.debug('frontend dial refused', { peer, message: errorMessage(err) });
    dial.reject('bad-request', errorMessage(err));
    return;
  }
  void serveFrontendDial(dial, {
    dialer: options.dialer,
    logger: options.logger,
    source: 'websocket',
    peer,
    address: route.address,
    cluster: route.cluster,
  });
}
