/**
 * The WebSocket agent listener: `wss://host:port/tunnel` with mTLS, for networks that pass only
 * HTTPS/1.1. Same packets as gRPC, one encoded packet per binary message. The agent is
 * authenticated from the TLS client certificate and its upgrade headers BEFORE the upgrade; a
 * refusal is a plain HTTP response (403/400/503) with a text body.
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
  METADATA_KEYS,
  negotiateExtensions,
  parseExtensions,
  webSocketTransport,
} from '../../protocol/index.ts';

import { ServerError, errorMessage } from '../errors.ts';
import {
  SocketTracker,
  closeNodeServer,
  createMtlsUpgradeServer,
  listenNodeServer,
  refuseUpgrade,
} from '../listen.ts';
import type { ResolvedListen, ResolvedOptions } from '../options.ts';
import type { AgentListenerContext } from './agent-listener-context.ts';
import { rateLimitedMessage, serverHelloHeaders } from './agent-listener-context.ts';
import { authenticateAgent, peerCommonName, refusalStatus } from './authenticate-agent.ts';
import { guardPendingHandshakes } from './handshake-guard.ts';

/** The upgrade path agents use. */
export const TUNNEL_PATH = '/tunnel';

function headerValues(req: IncomingMessage, name: string): string[] {
  return req.headersDistinct[name.toLowerCase()] ?? [];
}

/**
 * A running WebSocket agent listener. `close()` stops accepting and resolves once every socket
 * it accepted has closed (the server closes the agent sessions itself); `destroy()` ends every
 * socket now. Both idempotent.
 */
export class WebSocketAgentListener {
  /** `wss://host:port/tunnel`. */
  readonly address: string;
  readonly #server: HttpsServer;
  readonly #sockets: SocketTracker;

  private constructor(server: HttpsServer, sockets: SocketTracker, address: string) {
    this.#server = server;
    this.#sockets = sockets;
    this.address = address;
  }

  /** Binds and starts serving. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(
    listen: ResolvedListen,
    tls: ResolvedOptions['tls'],
    context: AgentListenerContext,
  ): Promise<WebSocketAgentListener> {
    const server = createMtlsUpgradeServer(tls, TUNNEL_PATH);
    const sockets = new SocketTracker(server);
    const { maxPendingHandshakes } = context;
    if (maxPendingHandshakes !== undefined) {
      guardPendingHandshakes(server, maxPendingHandshakes, () => context.shed('websocket'));
    }
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_PACKET_BYTES,
      clientTracking: false,
    });
    const hello = serverHelloHeaders(context);
    wss.on('headers', (headers: string[]) => {
      for (const [key, value] of hello) headers.push(`${key}: ${value}`);
    });
    server.on('tlsClientError', (err: Error) => {
      context.logger.debug('agent tls handshake failed', { transport: 'websocket', err });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      handleUpgrade(wss, context, req, socket, head);
    });
    const hostPort = await listenNodeServer(server, listen, 'agentWebSocket');
    return new WebSocketAgentListener(server, sockets, `wss://${hostPort}${TUNNEL_PATH}`);
  }

  close(): Promise<void> {
    return closeNodeServer(this.#server);
  }

  destroy(): void {
    this.#server.close();
    this.#sockets.destroyAll();
  }
}

function handleUpgrade(
  wss: WebSocketServer,
  context: AgentListenerContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const tlsSocket = socket as TLSSocket;
  const peer = `${tlsSocket.remoteAddress ?? '?'}:${tlsSocket.remotePort ?? '?'}`;
  socket.on('error', (err: Error) => {
    context.logger.debug('agent socket error', { peer, transport: 'websocket', err });
  });
  const path = new URL(req.url ?? '/', 'https://agent.invalid').pathname;
  if (path !== TUNNEL_PATH) {
    refuseUpgrade(
      socket,
      404,
      `no tunnel at ${JSON.stringify(path.slice(0, 64))}; agents use ${TUNNEL_PATH}`,
    );
    return;
  }
  if (context.isClosing()) {
    refuseUpgrade(socket, 503, 'proxy-server is shutting down');
    return;
  }
  const retryAfterMs = context.rateLimit('websocket');
  if (retryAfterMs !== undefined) {
    // Retry-After counts whole seconds; agents add their jitter on top.
    refuseUpgrade(socket, 503, rateLimitedMessage(retryAfterMs), {
      'Retry-After': String(Math.ceil(retryAfterMs / 1000)),
    });
    return;
  }
  let identity;
  try {
    identity = context.admit(
      authenticateAgent({
        commonName: peerCommonName(tlsSocket.getPeerCertificate()),
        agentId: headerValues(req, METADATA_KEYS.agentId),
        agentIdentifiers: headerValues(req, METADATA_KEYS.agentIdentifiers),
      }),
    );
  } catch (err) {
    context.logger.warn('agent refused', {
      peer,
      transport: 'websocket',
      code: err instanceof ServerError ? err.code : undefined,
      message: errorMessage(err),
    });
    refuseUpgrade(socket, refusalStatus(err).http, errorMessage(err));
    return;
  }
  const remote = parseExtensions(headerValues(req, EXTENSIONS_METADATA_KEY));
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    context.accept({
      identity,
      transport: 'websocket',
      packets: webSocketTransport(ws),
      extensions: negotiateExtensions(context.extensions, remote),
      peer,
    });
  });
}
