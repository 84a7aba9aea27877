import type { IncomingMessage } from 'node:http';

import { WebSocket } from 'ws';

import {
  type DialFailureReason,
  EXTENSIONS_METADATA_KEY,
  formatExtensions,
  MAX_PACKET_BYTES,
  negotiateExtensions,
  parseExtensions,
  ProtocolError,
  TunnelSession,
  type TunnelStreamApi,
  webSocketTransport,
  zeroWebSocketMask,
} from '../../protocol/index.ts';
import {
  type ClientTunnel,
  type ClientTunnelOptions,
  DEFAULT_DIAL_TIMEOUT_MS,
  type TunnelDialOptions,
} from './client-tunnel.ts';
import { FRONTEND_WEBSOCKET_PATH, formatFrontendDialAddress } from './frontend-address.ts';

/**
 * Opening the WebSocket (TCP + TLS + upgrade) must finish within this time, ms; then the dials
 * waiting for it fail 'timeout'. A dial's own `timeoutMs` starts once the WebSocket is open.
 */
const CONNECT_TIMEOUT_MS = 10_000;
/** Most of a refusal's body kept for the error message (the server's reason). */
const MAX_REFUSAL_BODY_CHARS = 512;

/** Why opening the frontend WebSocket failed, as every dial waiting for it reports. */
class ConnectFailure extends Error {
  readonly reason: DialFailureReason;

  constructor(message: string, reason: DialFailureReason, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

/** `wss://host:port/frontend` from a `wss://` URL (kept) or a bare `host:port`. */
function frontendWebSocketUrl(server: string): string {
  return /^wss:\/\//i.test(server) ? server : `wss://${server}${FRONTEND_WEBSOCKET_PATH}`;
}

/**
 * The WebSocket way to the frontend: ONE mTLS WebSocket (`wss://…/frontend`) and one
 * TunnelSession (dialer) on it carry every dial, for every cluster, each dial a stream with its
 * own credit window (a slow stream stalls only itself). The WebSocket is opened by the first
 * dial (concurrent dials share the attempt) and kept open; once it is lost (or the server sent
 * DRAIN) the next dial opens a new one. Streams of a lost WebSocket fail with 'tunnel-closed';
 * nothing is retried behind the caller's back.
 *
 * `close()`: no new dials, waits for open streams to end, then closes the WebSocket (1000).
 * `destroy(err)`: resets every stream and drops the WebSocket, or the attempt to open it.
 */
export class WebSocketTunnel implements ClientTunnel {
  readonly #url: string;
  readonly #options: ClientTunnelOptions;
  /** Every session not yet closed: the current one and any still finishing after DRAIN. */
  readonly #sessions = new Set<TunnelSession>();
  #current: TunnelSession | undefined;
  #connecting: Promise<TunnelSession> | undefined;
  #connectingSocket: WebSocket | undefined;
  #isClosed = false;

  constructor(options: ClientTunnelOptions) {
    this.#options = options;
    this.#url = frontendWebSocketUrl(options.server);
  }

  async dial(
    cluster: string,
    address: string,
    options: TunnelDialOptions,
  ): Promise<TunnelStreamApi> {
    let combined: string;
    try {
      combined = formatFrontendDialAddress(cluster, address);
    } catch (err) {
      throw new ProtocolError(
        'PROTO_ERR_DIAL_FAILED',
        `dial ${cluster}/${address}: ${(err as Error).message}`,
        { reason: 'bad-request', cause: err },
      );
    }
    let session: TunnelSession;
    try {
      session = await this.#session(options.signal);
    } catch (err) {
      const reason =
        options.signal?.aborted === true
          ? 'canceled'
          : err instanceof ConnectFailure
            ? err.reason
            : 'tunnel-closed';
      throw new ProtocolError(
        'PROTO_ERR_DIAL_FAILED',
        `dial ${cluster}/${address}: ${(err as Error).message}`,
        { reason, cause: err },
      );
    }
    return session.dial(combined, {
      timeoutMs: options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  stats(): { openStreams: number; pendingDials: number } {
    let openStreams = 0;
    let pendingDials = 0;
    for (const session of this.#sessions) {
      const s = session.stats();
      openStreams += s.openStreams;
      pendingDials += s.pendingDials;
    }
    return { openStreams, pendingDials };
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await this.#connecting?.catch(() => undefined);
    await Promise.all([...this.#sessions].map((s) => s.close()));
  }

  destroy(err?: Error): void {
    this.#isClosed = true;
    this.#connectingSocket?.terminate();
    for (const session of this.#sessions) session.destroy(err);
  }

  /** The open session, or the one being opened; rejects early when `signal` aborts. */
  #session(signal: AbortSignal | undefined): Promise<TunnelSession> {
    const current = this.#current;
    if (current !== undefined && !current.isClosed && !current.isPeerDraining) {
      return Promise.resolve(current);
    }
    if (this.#isClosed) {
      return Promise.reject(new ConnectFailure('the tunnel client is closed', 'tunnel-closed'));
    }
    if (signal?.aborted === true) {
      return Promise.reject(new ConnectFailure('canceled', 'canceled'));
    }
    let connecting = this.#connecting;
    if (connecting === undefined) {
      connecting = this.#connect().finally(() => {
        this.#connecting = undefined;
        this.#connectingSocket = undefined;
      });
      // Every dial waiting for it handles its failure; this one only keeps an attempt that all
      // its dials gave up on (canceled) from becoming an unhandled rejection.
      connecting.catch(() => undefined);
      this.#connecting = connecting;
    }
    if (signal === undefined) return connecting;
    // Other dials may still want this attempt: a canceled dial only stops waiting for it.
    const attempt = connecting;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new ConnectFailure('canceled', 'canceled'));
      signal.addEventListener('abort', onAbort, { once: true });
      attempt.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #connect(): Promise<TunnelSession> {
    const { tls, extensions } = this.#options;
    const announced = formatExtensions(extensions);
    const ws = new WebSocket(this.#url, {
      cert: tls.certPem,
      key: tls.keyPem,
      ca: tls.caPem,
      ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
      perMessageDeflate: false,
      maxPayload: MAX_PACKET_BYTES,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
      followRedirects: false,
      // Zero masking keys (protocol/session/web-socket-transport.ts says why it is sound here).
      generateMask: zeroWebSocketMask,
      headers: announced === '' ? {} : { [EXTENSIONS_METADATA_KEY]: announced },
    });
    this.#connectingSocket = ws;
    return new Promise((resolve, reject) => {
      let upgrade: IncomingMessage | undefined;
      let isSettled = false;
      const fail = (failure: ConnectFailure): void => {
        if (isSettled) return;
        isSettled = true;
        ws.terminate();
        reject(failure);
      };
      const what = `cannot open the frontend WebSocket ${this.#url}`;
      ws.on('error', (err: Error) => {
        const reason = /handshake has timed out/i.test(err.message) ? 'timeout' : 'tunnel-closed';
        fail(new ConnectFailure(`${what}: ${err.message}`, reason, err));
      });
      ws.on('close', () =>
        fail(new ConnectFailure(`${what}: closed during the handshake`, 'tunnel-closed')),
      );
      ws.on('unexpected-response', (_req, res: IncomingMessage) => {
        readRefusal(res, (status, body) => {
          const reason = status === 401 || status === 403 ? 'not-allowed' : 'tunnel-closed';
          fail(new ConnectFailure(`${what}: HTTP ${status} ${body}`, reason));
        });
      });
      ws.on('upgrade', (res: IncomingMessage) => {
        upgrade = res;
      });
      ws.on('open', () => {
        if (isSettled) return;
        if (this.#isClosed) {
          fail(new ConnectFailure('the tunnel client is closed', 'tunnel-closed'));
          return;
        }
        isSettled = true;
        const transport = webSocketTransport(ws);
        const session = new TunnelSession({
          transport,
          role: 'dialer',
          extensions: negotiateExtensions(
            extensions,
            parseExtensions(upgrade?.headers[EXTENSIONS_METADATA_KEY]),
          ),
          label: `frontend websocket ${this.#url}`,
        });
        this.#adopt(session);
        resolve(session);
      });
    });
  }

  #adopt(session: TunnelSession): void {
    this.#sessions.add(session);
    this.#current = session;
    session.once('close', () => {
      this.#sessions.delete(session);
      if (this.#current === session) this.#current = undefined;
    });
    // The server wants no new dials here: later dials open a new WebSocket (perhaps to another
    // replica), and this one closes once its streams are done.
    session.once('peer-drain', () => {
      if (this.#current === session) this.#current = undefined;
      void session.close().catch(() => undefined);
    });
  }
}

/** Reads a refused upgrade's status and (bounded) text body. */
function readRefusal(res: IncomingMessage, done: (status: number, body: string) => void): void {
  const status = res.statusCode ?? 0;
  let body = '';
  let isDone = false;
  const finish = (): void => {
    if (isDone) return;
    isDone = true;
    done(status, body.trim() === '' ? (res.statusMessage ?? '') : body.trim());
  };
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    if (body.length < MAX_REFUSAL_BODY_CHARS)
      body += chunk.slice(0, MAX_REFUSAL_BODY_CHARS - body.length);
  });
  res.on('end', finish);
  res.on('error', finish);
  res.on('close', finish);
}
