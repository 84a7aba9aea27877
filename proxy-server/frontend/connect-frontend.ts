/**
 * The HTTP CONNECT frontend (ANP `--mode=http-connect`; kubectl's `proxy-url`): `CONNECT
 * host:port` is routed like any dial (header `spokelink-cluster` names the cluster
 * explicitly), answered `200 Connection Established` once the agent's stream is open, and then
 * the client socket and the tunnel stream are bridged both ways with backpressure. Plain
 * HTTP/1.1 by default (kubectl cannot present a client certificate to a proxy), TLS on request.
 */
import { Buffer } from 'node:buffer';
import { STATUS_CODES, createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import type { TunnelStreamApi } from '../../protocol/index.ts';

import type { Dialer } from '../dialer.ts';
import { dialFailureReasonOf, errorMessage } from '../errors.ts';
import { SocketTracker, closeNodeServer, listenNodeServer } from '../listen.ts';
import type { Logger } from '../logger.ts';
import { MAX_CONNECT_HEADER_BYTES } from '../options.ts';
import type { ResolvedListen } from '../options.ts';
import { bridgeStreams, socketEnd, tunnelEnd } from './bridge-streams.ts';
import { CLUSTER_HEADER } from './cluster-header.ts';
import { DIAL_FAILURE_HEADER, statusForDialFailure } from './dial-failure-status.ts';

/** A client must finish its request headers within this time, in ms. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Longest failure text put in a response body, in characters. */
const MAX_FAILURE_TEXT = 512;
/** Bytes read from a client while its dial is pending, before reading pauses. */
const MAX_EARLY_BYTES = 64 * 1024;

/** Options of {@link ConnectFrontend.start}. */
export interface ConnectFrontendOptions {
  readonly listen: ResolvedListen;
  readonly dialer: Dialer;
  readonly logger: Logger;
  /** Serving certificate, used when `listen.tls` is true. */
  readonly tls: { readonly certPem: string; readonly keyPem: string };
}

function writeResponse(
  socket: Duplex,
  status: number,
  headers: Record<string, string>,
  text: string,
): void {
  if (socket.destroyed || !socket.writable) return;
  const body = `${text}\n`;
  const lines = Object.entries({
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...headers,
  }).map(([key, value]) => `${key}: ${value}\r\n`);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${lines.join('')}\r\n${body}`,
  );
}

/**
 * A running CONNECT frontend. Concurrency: any number of tunnels at once, each independent.
 * `close()` stops accepting and resolves once every bridged connection has finished (the agent
 * sessions' own close bounds that); `destroy()` ends every client socket now (their tunnel
 * streams are reset). Both idempotent.
 */
export class ConnectFrontend {
  /** `http://host:port` (or `https://` with TLS). */
  readonly address: string;
  readonly #server: HttpServer;
  readonly #sockets: SocketTracker;
  readonly #tunnels = new Set<Promise<unknown>>();

  private constructor(server: HttpServer, sockets: SocketTracker, address: string) {
    this.#server = server;
    this.#sockets = sockets;
    this.address = address;
  }

  /** Binds and starts serving. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(options: ConnectFrontendOptions): Promise<ConnectFrontend> {
    const common = { maxHeaderSize: MAX_CONNECT_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS };
    const server: HttpServer = options.listen.tls
      ? createHttpsServer({
          ...common,
          // Half-close must pass through the tunnel; http.Server allows it, tls.Server not by default.
          allowHalfOpen: true,
          cert: options.tls.certPem,
          key: options.tls.keyPem,
        })
      : createHttpServer(common);
    const sockets = new SocketTracker(server);
    const hostPort = await listenNodeServer(server, options.listen, 'connect');
    const frontend = new ConnectFrontend(
      server,
      sockets,
      `${options.listen.tls ? 'https' : 'http'}://${hostPort}`,
    );
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(405, {
        Allow: 'CONNECT',
        'Content-Type': 'text/plain; charset=utf-8',
        Connection: 'close',
      });
      res.end('this is an HTTP CONNECT proxy: only CONNECT host:port is supported\n');
    });
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const tunnel = frontend
        .#handleConnect(options, req, socket as Socket, head)
        .catch((err: unknown) => {
          // Only a bug gets here; the client must not hang on it.
          options.logger.error('connect handler failed', { err });
          socket.destroy();
        });
      frontend.#tunnels.add(tunnel);
      void tunnel.finally(() => frontend.#tunnels.delete(tunnel));
    });
    return frontend;
  }

  /** Connections being dialed or bridged. */
  get activeTunnels(): number {
    return this.#tunnels.size;
  }

  async close(): Promise<void> {
    const closed = closeNodeServer(this.#server);
    await Promise.all([...this.#tunnels]);
    await closed;
  }

  destroy(): void {
    this.#server.close();
    this.#sockets.destroyAll();
  }

  async #handleConnect(
    options: ConnectFrontendOptions,
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
  ): Promise<void> {
    const { dialer, logger } = options;
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('error', (err: Error) => logger.debug('connect client socket error', { peer, err }));
    const address = req.url ?? '';
    const clusters = req.headersDistinct[CLUSTER_HEADER] ?? [];
    if (clusters.length > 1) {
      this.#fail(socket, 'bad-request', `header ${CLUSTER_HEADER} must appear at most once`);
      return;
    }
    // While the agent dials, keep reading (bounded) so that a client that goes away — FIN or
    // close before the 200, which no HTTP client does otherwise — cancels the dial (DIAL_CLS).
    const early: Buffer[] = head.length > 0 ? [head] : [];
    let earlyBytes = head.length;
    const abort = new AbortController();
    const onGone = (): void => abort.abort();
    const onData = (chunk: Buffer): void => {
      early.push(chunk);
      earlyBytes += chunk.length;
      if (earlyBytes >= MAX_EARLY_BYTES) socket.pause();
    };
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
    let stream: TunnelStreamApi;
    try {
      stream = await dialer.dial({
        address,
        cluster: clusters[0],
        signal: abort.signal,
        source: 'connect',
      });
    } catch (err) {
      this.#fail(socket, dialFailureReasonOf(err), errorMessage(err));
      return;
    } finally {
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.pause();
    }
    if (abort.signal.aborted || socket.destroyed || !socket.writable) {
      stream.reset('canceled');
      socket.destroy();
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    for (const chunk of early) stream.write(chunk);
    const err = await bridgeStreams(socketEnd(socket), tunnelEnd(stream));
    logger.debug('connect tunnel closed', {
      peer,
      address,
      streamId: stream.streamId,
      ...(err === undefined ? {} : { err, resetCode: stream.resetCode }),
    });
  }

  #fail(socket: Socket, reason: Parameters<typeof statusForDialFailure>[0], message: string): void {
    writeResponse(
      socket,
      statusForDialFailure(reason),
      { [DIAL_FAILURE_HEADER]: reason },
      message.slice(0, MAX_FAILURE_TEXT).replace(/[\r\n]+/g, ' '),
    );
  }
}
