/**
 * /healthz, /readyz and /metrics over plain HTTP (node:http), for kubelet probes and
 * Prometheus. /readyz is 200 only while at least one tunnel is up (ANP semantics).
 */
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import { toError } from '../errors.ts';

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  /** Read on every /readyz request. */
  readonly isReady: () => boolean;
  readonly registry: Registry;
}

/** A listening health server. `close()` is idempotent and drops keep-alive connections. */
export interface HealthServer {
  /** `http://host:port` */
  readonly address: string;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Listens on `host:port`; rejects with the listen error (e.g. EADDRINUSE). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
      case '/livez':
        send(res, 200, 'ok\n');
        return;
      case '/readyz':
        if (options.isReady()) send(res, 200, 'ok\n');
        else send(res, 503, 'no tunnel to a proxy-server\n');
        return;
      case '/metrics':
        options.registry.metrics().then(
          (text) => send(res, 200, text, options.registry.contentType),
          (err: unknown) => send(res, 500, `${toError(err).message}\n`),
        );
        return;
      default:
        send(res, 404, 'not found\n');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  const info = server.address() as AddressInfo;
  const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
  let closed: Promise<void> | undefined;
  return {
    address: `http://${host}:${info.port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
