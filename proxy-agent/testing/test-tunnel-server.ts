/**
 * Test helper: the smallest proxy-server an agent can talk to, built from protocol/ only (the
 * agent may not import proxy-server/). A gRPC AgentService over mTLS or a WebSocket endpoint
 * over mTLS; each connected agent gets a TunnelSession in the dialer role, so a test can
 * `dial()` through the agent. Options allow a fixed port (restarts), a serverCount, an
 * extension set and refusing every agent.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { Metadata, Server, ServerCredentials, status as grpcStatus } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';

import {
  MAX_PACKET_BYTES,
  METADATA_KEYS,
  SUPPORTED_EXTENSIONS,
  TunnelSession,
  formatExtensions,
  grpcCallTransport,
  loadTunnelServices,
  negotiateExtensions,
  parseExtensions,
  webSocketTransport,
  wireMetadataKey,
} from '../../protocol/index.ts';
import type {
  ExtensionName,
  InboundPacket,
  OutboundPacket,
  PacketTransport,
  TunnelSessionApi,
} from '../../protocol/index.ts';

export interface TestTunnelServerOptions {
  readonly transport: 'grpc' | 'websocket';
  readonly serverId: string;
  readonly serverCount?: number;
  /** Serving certificate and the CA that verifies agents' client certificates. */
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
  /** Announced; default SUPPORTED_EXTENSIONS. */
  readonly extensions?: readonly ExtensionName[];
  /** Default 0 (any); pass the old port to restart "the same" server. */
  readonly port?: number;
  /** Refuse every agent: gRPC PERMISSION_DENIED / HTTP 403 with this message. */
  readonly refuse?: string;
}

/** What an agent sent when it connected. */
export interface AgentHello {
  readonly agentId: string | undefined;
  readonly agentIdentifiers: string | undefined;
  readonly extensions: ReadonlySet<ExtensionName>;
}

export interface TestTunnelServer {
  /** What agents dial: `127.0.0.1:port` (gRPC) or `wss://127.0.0.1:port/tunnel`. */
  readonly address: string;
  readonly port: number;
  /** Sessions with connected agents, oldest first; closed ones are removed. */
  readonly sessions: readonly TunnelSessionApi[];
  /** Every connect attempt that reached the handler, refused ones included. */
  readonly hellos: readonly AgentHello[];
  /** Resolves with a live session: the newest one now, or the next to connect. */
  session(): Promise<TunnelSessionApi>;
  /** Resolves with the next session to connect (not one already connected). */
  nextSession(): Promise<TunnelSessionApi>;
  /** Stops listening and destroys every session and connection at once. Idempotent. */
  close(): Promise<void>;
}

export async function startTestTunnelServer(
  options: TestTunnelServerOptions,
): Promise<TestTunnelServer> {
  const serverExtensions = options.extensions ?? SUPPORTED_EXTENSIONS;
  const sessions: TunnelSessionApi[] = [];
  const hellos: AgentHello[] = [];
  let waiters: Array<(session: TunnelSessionApi) => void> = [];
  const responseHeaders = {
    [METADATA_KEYS.serverId]: options.serverId,
    [METADATA_KEYS.serverCount]: String(options.serverCount ?? 1),
    ...(serverExtensions.length > 0
      ? { [METADATA_KEYS.extensions]: formatExtensions(serverExtensions) }
      : {}),
  };

  const addSession = (
    transport: PacketTransport,
    agentExtensions: ReadonlySet<ExtensionName>,
  ): void => {
    const session = new TunnelSession({
      transport,
      role: 'dialer',
      extensions: negotiateExtensions(serverExtensions, agentExtensions),
      label: `test server ${options.serverId}`,
    });
    sessions.push(session);
    session.on('close', () => {
      const index = sessions.indexOf(session);
      if (index >= 0) sessions.splice(index, 1);
    });
    const pending = waiters;
    waiters = [];
    for (const resolve of pending) resolve(session);
  };

  let address: string;
  let port: number;
  let stop: () => Promise<void>;

  if (options.transport === 'grpc') {
    const server = new Server({ 'grpc.max_receive_message_length': MAX_PACKET_BYTES });
    server.addService(loadTunnelServices().agentServiceServer, {
      Connect: (call: ServerDuplexStream<InboundPacket, OutboundPacket>) => {
        const first = (key: string): string | undefined => {
          const value = call.metadata.get(key)[0];
          return typeof value === 'string' ? value : undefined;
        };
        const agentExtensions = parseExtensions(call.metadata.get(METADATA_KEYS.extensions));
        hellos.push({
          agentId: first(METADATA_KEYS.agentId),
          agentIdentifiers: first(METADATA_KEYS.agentIdentifiers),
          extensions: agentExtensions,
        });
        call.on('error', () => undefined);
        if (options.refuse !== undefined) {
          call.emit('error', { code: grpcStatus.PERMISSION_DENIED, details: options.refuse });
          return;
        }
        const headers = new Metadata();
        for (const [key, value] of Object.entries(responseHeaders)) headers.set(key, value);
        call.sendMetadata(headers);
        addSession(grpcCallTransport(call), agentExtensions);
      },
    });
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `127.0.0.1:${options.port ?? 0}`,
        ServerCredentials.createSsl(
          Buffer.from(options.tls.caPem),
          [
            {
              cert_chain: Buffer.from(options.tls.certPem),
              private_key: Buffer.from(options.tls.keyPem),
            },
          ],
          true,
        ),
        (err, bound) => (err === null ? resolve(bound) : reject(err)),
      );
    });
    address = `127.0.0.1:${port}`;
    stop = async () => {
      for (const session of [...sessions]) session.destroy();
      server.forceShutdown();
    };
  } else {
    const https = createHttpsServer({
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      ca: options.tls.caPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const sockets = new Set<Socket>();
    https.on('secureConnection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    https.on('tlsClientError', () => undefined);
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_PACKET_BYTES,
    });
    wss.on('headers', (headers: string[]) => {
      for (const [key, value] of Object.entries(responseHeaders))
        headers.push(`${wireMetadataKey(key)}: ${value}`);
    });
    https.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => undefined);
      const header = (key: string): string | undefined => {
        const value = req.headers[wireMetadataKey(key)];
        return Array.isArray(value) ? value[0] : value;
      };
      const agentExtensions = parseExtensions(header(METADATA_KEYS.extensions));
      hellos.push({
        agentId: header(METADATA_KEYS.agentId),
        agentIdentifiers: header(METADATA_KEYS.agentIdentifiers),
        extensions: agentExtensions,
      });
      if (options.refuse !== undefined) {
        const body = `${options.refuse}\n`;
        socket.end(
          `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) =>
        addSession(webSocketTransport(ws), agentExtensions),
      );
    });
    await new Promise<void>((resolve, reject) => {
      https.once('error', reject);
      https.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    port = (https.address() as AddressInfo).port;
    address = `wss://127.0.0.1:${port}/tunnel`;
    stop = async () => {
      for (const session of [...sessions]) session.destroy();
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    };
  }

  let closed: Promise<void> | undefined;
  const nextSession = (): Promise<TunnelSessionApi> =>
    new Promise((resolve) => waiters.push(resolve));
  return {
    address,
    port,
    sessions,
    hellos,
    session() {
      const live = sessions.at(-1);
      return live === undefined ? nextSession() : Promise.resolve(live);
    },
    nextSession,
    close() {
      closed ??= stop();
      return closed;
    },
  };
}
