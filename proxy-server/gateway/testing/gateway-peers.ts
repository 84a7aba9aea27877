/**
 * Test-only peers for the cluster gateway's tests, over real loopback sockets: a hub API server
 * that answers TokenReview and SubjectAccessReview from tables (and records what it was
 * asked), and a minimal agent API that a test agent serves on `agent-api` dials (it echoes the
 * request it got, streams a slow "watch", and switches protocols on an upgrade). The real agent
 * API lives in proxy-agent/, which proxy-server may not import.
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import type { IncomingDial } from '../../../protocol/index.ts';

/** A user the fake hub authenticates, by token. */
export interface FakeHubUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Record<string, string[]>;
}

/** One SubjectAccessReview the fake hub answered. */
export interface RecordedAccessReview {
  readonly user: string;
  readonly groups: readonly string[];
  readonly uid: string | undefined;
  readonly resourceAttributes: Record<string, string>;
}

/** Options of {@link startFakeHub}. */
export interface FakeHubOptions {
  readonly certPem: string;
  readonly keyPem: string;
  /** Bearer token → user; any other token is not authenticated. */
  readonly users: Readonly<Record<string, FakeHubUser>>;
  /** Decides SubjectAccessReviews; default: allow. */
  readonly decide?: (review: RecordedAccessReview) => { allowed: boolean; reason?: string };
  /** The token the gateway must present; requests without it get 401. */
  readonly gatewayToken: string;
}

/** A running fake hub API server. */
export interface FakeHub {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly tokenReviews: string[];
  readonly accessReviews: RecordedAccessReview[];
  /** When set, every review answers 500 (the hub failing). */
  isFailing: boolean;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', reject);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Starts the fake hub on 127.0.0.1:0. */
export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const tokenReviews: string[] = [];
  const accessReviews: RecordedAccessReview[] = [];
  const hub = { isFailing: false };
  const server: HttpsServer = createHttpsServer({ cert: options.certPem, key: options.keyPem });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = JSON.parse(await readBody(req)) as { spec: Record<string, unknown> };
      if (req.headers.authorization !== `Bearer ${options.gatewayToken}`) {
        json(res, 401, { kind: 'Status', code: 401, message: 'Unauthorized' });
        return;
      }
      if (hub.isFailing) {
        json(res, 500, { kind: 'Status', code: 500, message: 'etcd is on fire' });
        return;
      }
      if (req.url === '/apis/authentication.k8s.io/v1/tokenreviews') {
        const token = String(body.spec['token']);
        tokenReviews.push(token);
        const user = options.users[token];
        json(res, 201, {
          kind: 'TokenReview',
          status:
            user === undefined
              ? { authenticated: false, error: 'invalid bearer token' }
              : { authenticated: true, user, audiences: ['https://kubernetes.default.svc'] },
        });
        return;
      }
      if (req.url === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
        const spec = body.spec;
        const review: RecordedAccessReview = {
          user: String(spec['user']),
          groups: (spec['groups'] as string[] | undefined) ?? [],
          uid: spec['uid'] as string | undefined,
          resourceAttributes: spec['resourceAttributes'] as Record<string, string>,
        };
        accessReviews.push(review);
        const decision = options.decide?.(review) ?? { allowed: true };
        json(res, 201, { kind: 'SubjectAccessReview', status: decision });
        return;
      }
      json(res, 404, { kind: 'Status', code: 404, message: 'not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return Object.assign(hub, {
    server: `https://127.0.0.1:${port}`,
    tokenReviews,
    accessReviews,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** What the fake agent API saw of one request (what it echoes back as JSON). */
export interface EchoedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string[]>;
  readonly body: string;
  /** CN of the client certificate (the gateway's). */
  readonly caller: string;
}

/** A minimal agent API: serve it on accepted `agent-api` dials. */
export interface FakeAgentApi {
  /** For `connectTestAgent({ onDial })`: accepts every dial and serves it. */
  onDial(dial: IncomingDial): void;
  /** Tunnel streams served so far (one per connection the gateway opened). */
  readonly connections: number;
  /** Ends every pending `/watch` with a last line. */
  finishWatches(): void;
  close(): void;
}

/**
 * `GET|POST /echo…` → 200 JSON {@link EchoedRequest}; `GET /watch` → 200 unsized, one line now
 * and one on `finishWatches()`; `GET /status/<code>` → that status; an upgrade to `test-echo`
 * → 101, then every byte echoed back.
 */
export function fakeAgentApi(tls: {
  certPem: string;
  keyPem: string;
  caPem: string;
}): FakeAgentApi {
  let connections = 0;
  const watches = new Set<ServerResponse>();
  const server = createHttpsServer({
    cert: tls.certPem,
    key: tls.keyPem,
    ca: tls.caPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      const url = req.url ?? '';
      if (url.startsWith('/watch')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        res.write('{"type":"ADDED"}\n');
        watches.add(res);
        res.once('close', () => watches.delete(res));
        return;
      }
      const code = /^\/status\/(\d{3})/.exec(url)?.[1];
      if (code !== undefined) {
        json(res, Number(code), {
          kind: 'Status',
          code: Number(code),
          message: `answered ${code}`,
        });
        return;
      }
      const cert = (req.socket as TLSSocket).getPeerCertificate();
      const echoed: EchoedRequest = {
        method: req.method ?? '',
        url,
        headers: req.headersDistinct as Record<string, string[]>,
        body,
        caller: String(cert.subject.CN),
      };
      json(res, 200, echoed);
    })();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    if (req.headers.upgrade !== 'test-echo') {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 11\r\n\r\nbad upgrade',
      );
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test-echo\r\n' +
        `X-Impersonate-User: ${String(req.headers['impersonate-user'])}\r\n\r\n`,
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  return {
    onDial(dial) {
      const stream = dial.accept();
      stream.on('error', () => undefined);
      connections += 1;
      server.emit('connection', stream);
    },
    get connections() {
      return connections;
    },
    finishWatches() {
      for (const res of watches) res.end('{"type":"DELETED"}\n');
    },
    close() {
      for (const res of watches) res.destroy();
      server.close();
    },
  };
}
