/**
 * The health listener (ANP's health port): `/healthz` (the process serves), `/readyz` (at
 * least one agent is connected, as ANP's readiness manager decides) and `/metrics`
 * (Prometheus text from the server's own registry). Plain HTTP, GET and HEAD only.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

import { SocketTracker, closeNodeServer, listenNodeServer } from './listen.ts';
import type { Logger } from './logger.ts';
import type { ServerMetrics } from './metrics.ts';
import type { ResolvedListen } from './options.ts';

/** Readiness as the server sees it: ready, or why not. */
export type Readiness =
  { readonly isReady: true } | { readonly isReady: false; readonly reason: string };

/** Options of {@link HealthServer.start}. */
export interface HealthServerOptions {
  readonly listen: ResolvedListen;
  readonly metrics: ServerMetrics;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
}

function text(res: ServerResponse, status: number, body: string, method: string | undefined): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(method === 'HEAD' ? undefined : `${body}\n`);
}

/**
 * A running health listener. Stateless per request; `close()` stops it once in-flight
 * requests are answered, `destroy()` drops its sockets. Both idempotent.
 */
export class HealthServer {
  /** `http://host:port`. */
  readonly address: string;
  readonly #server: Server;
  readonly #sockets: SocketTracker;

  private constructor(server: Server, sockets: SocketTracker, address: string) {
    this.#server = server;
    this.#sockets = sockets;
    this.address = address;
  }

  /** Binds and starts serving. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(options: HealthServerOptions): Promise<HealthServer> {
    const server = createServer({ maxHeaderSize: 8 * 1024 }, (req, res) => {
      void handle(options, req, res);
    });
    const sockets = new SocketTracker(server);
    const hostPort = await listenNodeServer(server, options.listen, 'health');
    return new HealthServer(server, sockets, `http://${hostPort}`);
  }

  close(): Promise<void> {
    const closed = closeNodeServer(this.#server);
    this.#server.closeIdleConnections();
    return closed;
  }

  destroy(): void {
    this.#server.close();
    this.#sockets.destroyAll();
  }
}

async function handle(
  options: HealthServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  res.on('error', () => {});
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    text(res, 405, 'method not allowed', req.method);
    return;
  }
  const path = new URL(req.url ?? '/', 'http://health.invalid').pathname;
  switch (path) {
    case '/healthz':
    case '/livez':
      text(res, 200, 'ok', req.method);
      return;
    case '/readyz':
    case '/ready': {
      const readiness = options.readiness();
      if (readiness.isReady) text(res, 200, 'ok', req.method);
      else text(res, 503, `not ready: ${readiness.reason}`, req.method);
      return;
    }
    case '/metrics': {
      try {
        const { contentType, body } = await options.metrics.render();
        res.writeHead(200, { 'Content-Type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch (err) {
        options.logger.error('metrics render failed', { err });
        text(res, 500, 'metrics unavailable', req.method);
      }
      return;
    }
    default:
      text(res, 404, 'not found: try /healthz, /readyz or /metrics', req.method);
  }
}
