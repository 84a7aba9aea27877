/**
 * Test peer for the agent API: a plain node:https server standing where the spoke API server
 * would, that records and echoes what it received. It makes no claim to behave like an API
 * server (the e2e test uses a real one); it lets tests check header rewriting, streaming and
 * upgrades byte for byte.
 *
 * Routes:
 * - `GET|POST /echo…` → 200 JSON `{ method, url, headers (headersDistinct), bodyBytes }`;
 * - `GET /stream` → 200 chunked, writes `event-1\n` at once and `event-2\n` + end on `release()`;
 * - `GET /hang` → sends the head and never ends (tests watch aborts);
 * - upgrade `/upgrade` → 101 (Upgrade: SPDY/3.1), then echoes bytes until the peer ends;
 * - upgrade `/upgrade-refused` → a 403 JSON answer on a connection left open (keep-alive).
 */
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** One request the peer received. */
export interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string[]>;
  readonly isUpgrade: boolean;
}

export interface EchoUpstream {
  /** `127.0.0.1:port` */
  readonly address: string;
  readonly requests: UpstreamRequest[];
  /** TLS connections accepted so far (keep-alive reuse keeps this at 1). */
  readonly connectionsAccepted: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Responses of `/hang` and `/stream` whose connection went away before they ended. */
  readonly abortedResponses: number;
  /** Ends every pending `/stream` response with `event-2\n`. */
  release(): void;
  close(): Promise<void>;
}

/** Starts the peer with a serving certificate for 127.0.0.1. */
export async function startEchoUpstream(tls: {
  certPem: string;
  keyPem: string;
}): Promise<EchoUpstream> {
  const requests: UpstreamRequest[] = [];
  const sockets = new Set<Duplex>();
  const pendingStreams = new Set<ServerResponse>();
  let connectionsAccepted = 0;
  let abortedResponses = 0;

  const record = (req: IncomingMessage, isUpgrade: boolean): void => {
    const headers: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(req.headersDistinct)) {
      if (values !== undefined) headers[name] = values;
    }
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers, isUpgrade });
  };

  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    record(req, false);
    const watchAbort = (): void => {
      res.once('close', () => {
        pendingStreams.delete(res);
        if (!res.writableFinished) abortedResponses += 1;
      });
    };
    if (req.url === '/hang') {
      watchAbort();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return;
    }
    if (req.url === '/stream') {
      watchAbort();
      pendingStreams.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('event-1\n');
      return;
    }
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
    });
    req.on('end', () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: requests.at(-1)?.headers,
        bodyBytes,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo' });
      res.end(body);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    connectionsAccepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    record(req, true);
    socket.on('error', () => undefined);
    if (req.url === '/upgrade-refused') {
      const body = '{"kind":"Status","code":403}';
      socket.write(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    requests,
    get connectionsAccepted() {
      return connectionsAccepted;
    },
    get openConnections() {
      return sockets.size;
    },
    get abortedResponses() {
      return abortedResponses;
    },
    release() {
      for (const res of pendingStreams) res.end('event-2\n');
      pendingStreams.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
