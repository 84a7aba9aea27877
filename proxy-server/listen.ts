/**
 * Small helpers shared by every listener: bind a Node server or a grpc-js server to a
 * ResolvedListen with a ServerError on failure, track accepted sockets so destroy() can end
 * them all, close a Node server as a promise, and the mTLS HTTPS server of the WebSocket
 * listeners with its pre-upgrade refusals.
 */
import { Buffer } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { isIPv6 } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';

import * as grpc from '@grpc/grpc-js';

import { ServerError, errorMessage } from './errors.ts';
import type { ListenerName, ResolvedListen } from './options.ts';

/** `host:port`, with IPv6 hosts in brackets. */
export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function listenError(
  name: ListenerName | 'registration',
  listen: ResolvedListen,
  err: unknown,
): ServerError {
  return new ServerError(
    'SERVER_ERR_LISTEN',
    `cannot listen on ${formatHostPort(listen.host, listen.port)} for ${name}: ${errorMessage(err)}`,
    { cause: err },
  );
}

/**
 * Binds `server` and resolves with the bound `host:port` (the real port when 0 was asked).
 * Rejects with ServerError `SERVER_ERR_LISTEN` (e.g. EADDRINUSE in `cause`).
 */
export function listenNodeServer(
  server: NetServer,
  listen: ResolvedListen,
  name: ListenerName | 'registration',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(listenError(name, listen, err));
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : listen.port;
      resolve(formatHostPort(listen.host, port));
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: listen.host, port: listen.port });
  });
}

/** Largest upgrade request header block of the WebSocket listeners, in bytes. */
const MAX_UPGRADE_HEADER_BYTES = 16 * 1024;
/** A client must finish its upgrade request within this time, in ms. */
const UPGRADE_HEADERS_TIMEOUT_MS = 10_000;

/**
 * The HTTPS server of a WebSocket listener (agents' `/tunnel`, the frontend's `/frontend`):
 * mTLS with client certificates required from `tls.caPem` (a certificate from another CA fails
 * the handshake), bounded upgrade headers, and `426 Upgrade Required` for plain requests. The
 * caller handles 'upgrade' and must authenticate BEFORE completing it.
 */
export function createMtlsUpgradeServer(
  tls: { certPem: string; keyPem: string; caPem: string },
  upgradePath: string,
): HttpsServer {
  const server = createHttpsServer({
    cert: tls.certPem,
    key: tls.keyPem,
    ca: tls.caPem,
    requestCert: true,
    rejectUnauthorized: true,
    maxHeaderSize: MAX_UPGRADE_HEADER_BYTES,
    headersTimeout: UPGRADE_HEADERS_TIMEOUT_MS,
  });
  server.on('request', (_req, res) => {
    res.writeHead(426, {
      'Content-Type': 'text/plain; charset=utf-8',
      Upgrade: 'websocket',
      Connection: 'close',
    });
    res.end(`use a WebSocket upgrade on ${upgradePath}\n`);
  });
  return server;
}

/** Writes a complete HTTP error response on a not-yet-upgraded socket and closes it. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      extra.join('') +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** Closes a Node server; resolves once every connection it accepted has closed. Idempotent. */
export function closeNodeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      // Already closed (or never listened): still wait for its connections, if any.
      server.getConnections((_err, count) => {
        if (count === 0) resolve();
        else server.once('close', () => resolve());
      });
      return;
    }
    server.close(() => resolve());
  });
}

/**
 * Remembers every socket a server accepts until it closes, so that destroy() can end them all
 * (upgraded and CONNECT sockets are not closed by `server.close()`). Use the raw 'connection'
 * event: destroying the TCP socket also ends a TLS socket layered on it.
 */
export class SocketTracker {
  readonly #sockets = new Set<Socket>();

  constructor(server: NetServer) {
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Sockets currently open. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Destroys every open socket. Safe to repeat. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** gRPC channel options of our servers: packet cap equal to MAX_PACKET_BYTES, keepalive. */
export function grpcServerOptions(maxPacketBytes: number): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': maxPacketBytes,
    'grpc.max_send_message_length': maxPacketBytes,
    // Server pings find dead TCP connections of peers without the `ping` extension (stock
    // ANP agents), which would otherwise hold a session until the OS gives up.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
  };
}

/** mTLS server credentials: serving cert + key, client certificates required from `caPem`. */
export function grpcMtlsCredentials(tls: {
  certPem: string;
  keyPem: string;
  caPem: string;
}): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    Buffer.from(tls.caPem),
    [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }],
    true,
  );
}

/** Ends a call with a status before any packet; grpc-js turns an 'error' into the status. */
export function refuseGrpcCall(
  call: grpc.ServerDuplexStream<unknown, unknown>,
  code: grpc.status,
  details: string,
  metadata: grpc.Metadata = new grpc.Metadata(),
): void {
  call.emit('error', { code, details, metadata });
}

/** Binds a grpc-js server; resolves with `host:port`. Rejects with `SERVER_ERR_LISTEN`. */
export function bindGrpcServer(
  server: grpc.Server,
  listen: ResolvedListen,
  credentials: grpc.ServerCredentials,
  name: ListenerName,
): Promise<string> {
  return new Promise((resolve, reject) => {
    server.bindAsync(formatHostPort(listen.host, listen.port), credentials, (err, port) => {
      if (err !== null) reject(listenError(name, listen, err));
      else {
        raiseHttp2Windows(server);
        resolve(formatHostPort(listen.host, port));
      }
    });
  });
}

/**
 * The TLS servers (http2 secure servers) under a bound grpc-js server, through the same
 * internal `http2Servers` map as {@link raiseHttp2Windows}; empty if grpc-js renames it.
 */
export function grpcTlsServers(server: grpc.Server): TlsServer[] {
  const internals = server as unknown as { http2Servers?: Map<Http2Server, unknown> };
  if (!(internals.http2Servers instanceof Map)) return [];
  const servers = [...internals.http2Servers.keys()] as unknown[];
  return servers.filter(
    (s): s is TlsServer => typeof (s as { on?: unknown } | null)?.on === 'function',
  );
}

/**
 * HTTP/2 receive window, per call and per connection, that the gRPC listeners advertise. Node's
 * default of 65 535 bytes does not even hold one 64 KiB DATA packet plus its gRPC header, and
 * caps a tunnel at about a third of what the same TLS connection carries (physical-limits.md:
 * 174 vs 421 MB/s). Memory stays bounded by the tunnel's own per-stream credit windows.
 */
export const GRPC_SERVER_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * grpc-js has a client option for the HTTP/2 window (`grpc-node.flow_control_window`) but no
 * server option, so the server's windows are raised on each new HTTP/2 session. This reaches
 * into grpc-js's `http2Servers` map; if a future grpc-js renames it, the windows simply stay at
 * the default (slower, never wrong).
 */
function raiseHttp2Windows(server: grpc.Server): void {
  const internals = server as unknown as { http2Servers?: Map<Http2Server, unknown> };
  if (!(internals.http2Servers instanceof Map)) return;
  for (const http2Server of internals.http2Servers.keys()) {
    if (typeof http2Server.on !== 'function') continue;
    http2Server.on('session', (session: ServerHttp2Session) => {
      session.settings({ initialWindowSize: GRPC_SERVER_WINDOW_BYTES });
      session.setLocalWindowSize(GRPC_SERVER_WINDOW_BYTES);
    });
  }
}

/**
 * Stops a grpc-js server: no new calls, then waits for running calls up to `graceMs`, then
 * cancels what is left. Resolves when it is fully stopped. Safe to repeat.
 */
export function shutdownGrpcServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
