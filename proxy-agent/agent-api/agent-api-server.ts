/**
 * The agent API (`agent-api` dial target, DESIGN §3.4): an HTTPS server that listens on no port.
 * Each tunnel stream dialled to `agent-api:*` is handed to it as a raw connection; it terminates
 * TLS with the agent's own certificate, admits only the hub's gateway (client certificate from
 * the hub CA, Organization `spokelink:gateways`), checks each request's impersonation headers
 * (request-policy.ts) and forwards it to the spoke API server with the agent's own
 * ServiceAccount token. Spoke credentials never leave the spoke; the hub can only act as
 * prefixed identities that the spoke's RBAC grants explicitly. A request the gateway marks as
 * pass-through (`Spokelink-Pass-Through`) carries a caller's own spoke token instead: it is
 * forwarded with that token and without the agent's, for the spoke to judge.
 */
import { Agent as HttpsAgent, createServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import type { DialAddress } from '../../protocol/index.ts';
import type { LogFields, Logger } from '../logger.ts';
import { describeCaller } from './describe-caller.ts';
import { forwardRequest, sendStatus } from './forward-request.ts';
import type { ForwardContext } from './forward-request.ts';
import type { UpstreamCredential } from './http-headers.ts';
import { endWithStatus, relayUpgrade } from './relay-upgrade.ts';
import {
  checkCaller,
  checkImpersonation,
  checkPassThrough,
  isPassThrough,
} from './request-policy.ts';
import type {
  AgentApiRefusal,
  AgentApiRefusalReason,
  CallerCertificate,
} from './request-policy.ts';
import { TokenFile } from './token-file.ts';

/** The credential of every pass-through request: the caller's own `Authorization`. */
const PASS_THROUGH_CREDENTIAL: UpstreamCredential = { kind: 'pass-through' };

/** A gateway connection with no request in flight is ended after this long, in ms. */
export const AGENT_API_IDLE_TIMEOUT_MS = 120_000;
/** Deadline of the TLS handshake on a new agent-api stream, in ms. */
export const AGENT_API_HANDSHAKE_TIMEOUT_MS = 10_000;
/** After the agent ends a connection, the gateway has this long to close its side, in ms. */
const END_GRACE_MS = 5_000;
/** Idle keep-alive connections kept open to the API server. */
const MAX_FREE_UPSTREAM_SOCKETS = 16;

/** Options of {@link AgentApiServer}. */
export interface AgentApiServerOptions {
  /** Where requests go: this cluster's API server. */
  readonly kubeApiserver: DialAddress;
  /** CA bundle that verifies the API server's serving certificate. */
  readonly kubeApiserverCaPem: string;
  /** The agent's ServiceAccount token file (needs RBAC `impersonate` on the spoke). */
  readonly tokenFile: string;
  /** Every impersonated user and group must start with it. */
  readonly identityPrefix: string;
  /** Serving certificate and key (the agent's own), and the hub CA that issues gateway certs. */
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
  /** Bound on connecting to the API server, in ms. */
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** Called once per answered request (and upgrade) with the status sent to the gateway. */
  readonly onResponse?: (statusCode: number) => void;
  /** Called once per refusal (TLS handshake, caller or impersonation). */
  readonly onRefused?: (reason: AgentApiRefusalReason) => void;
  /** Default {@link AGENT_API_IDLE_TIMEOUT_MS}. */
  readonly idleTimeoutMs?: number;
  /** How often the token file is re-read without a change event; default 60 000 ms. */
  readonly tokenRefreshIntervalMs?: number;
}

/** Per gateway connection (one TLS session on one tunnel stream). */
interface Connection {
  readonly socket: TLSSocket;
  readonly caller: CallerCertificate;
  inFlight: number;
  isUpgraded: boolean;
  isEnding: boolean;
  timer: NodeJS.Timeout | undefined;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0] ?? '/';
}

/**
 * Serves agent-api streams.
 *
 * Concurrency: any number of streams at once, one HTTP/1.1 connection each (requests on one
 * connection are sequential, so the tunnel's stream limit bounds concurrency). Upstream
 * connections to the API server are pooled with keep-alive.
 *
 * Lifecycle: the constructor reads the token file (throws AgentError `AGENT_ERR_INVALID_OPTIONS`
 * if unreadable) and starts watching it. `drain()` turns keep-alive off: idle connections end
 * now, the others after their current response; new streams are still served. `close()` drains,
 * refuses new streams, and resolves once every stream has closed (long watches and upgrades end
 * when the gateway or the tunnel ends them), then stops the token watcher and the upstream
 * pool. `destroy()` aborts every stream now. All three are idempotent.
 */
export class AgentApiServer {
  readonly #options: AgentApiServerOptions;
  readonly #logger: Logger;
  readonly #token: TokenFile;
  readonly #upstream: HttpsAgent;
  readonly #https: HttpsServer;
  readonly #streams = new Set<Duplex>();
  readonly #connections = new Map<TLSSocket, Connection>();
  #closeWaiters: Array<() => void> = [];
  #closing: Promise<void> | undefined;
  #isDraining = false;
  #isClosed = false;
  #isDisposed = false;

  constructor(options: AgentApiServerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#token = new TokenFile({
      path: options.tokenFile,
      logger: options.logger,
      ...(options.tokenRefreshIntervalMs === undefined
        ? {}
        : { refreshIntervalMs: options.tokenRefreshIntervalMs }),
    });
    this.#upstream = new HttpsAgent({
      keepAlive: true,
      ca: options.kubeApiserverCaPem,
      maxFreeSockets: MAX_FREE_UPSTREAM_SOCKETS,
      scheduling: 'lifo',
    });
    this.#https = createServer({
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      ca: options.tls.caPem,
      // Ask for a certificate but decide in HTTP: a wrong one gets a 403 that says why.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      handshakeTimeout: AGENT_API_HANDSHAKE_TIMEOUT_MS,
      // Idle connections are ended gracefully by this class, not destroyed by node:http.
      keepAliveTimeout: 0,
      requestTimeout: 0,
    });
    this.#https.on('secureConnection', (socket: TLSSocket) => this.#connectionOf(socket));
    this.#https.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      this.#options.onRefused?.('tls-handshake');
      this.#logger.warn('agent api tls handshake failed', { error: err.message });
      socket.destroy();
    });
    this.#https.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      this.#onClientError(err, socket);
    });
    this.#https.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#onRequest(req, res);
    });
    this.#https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#onUpgrade(req, socket, head);
    });
  }

  /**
   * Serves new connections with a rotated certificate (same identity, new key); connections
   * already established keep theirs.
   */
  updateCertificate(tls: { certPem: string; keyPem: string; caPem: string }): void {
    this.#https.setSecureContext({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem });
  }

  /** Streams handed to {@link serve} and not yet closed. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /**
   * Serves one tunnel stream as a gateway connection. The stream must already have an 'error'
   * listener. It is destroyed at once after close() or destroy().
   */
  serve(stream: Duplex): void {
    if (this.#isClosed) {
      stream.destroy();
      return;
    }
    this.#streams.add(stream);
    stream.once('close', () => {
      this.#streams.delete(stream);
      if (this.#streams.size === 0) this.#settleCloseWaiters();
    });
    this.#https.emit('connection', stream);
  }

  /** Keep-alive off: idle connections end now, busy ones after their response. Idempotent. */
  drain(): void {
    if (this.#isDraining) return;
    this.#isDraining = true;
    for (const connection of this.#connections.values()) {
      if (connection.inFlight === 0 && !connection.isUpgraded) this.#endConnection(connection);
    }
  }

  /** See the class comment. Idempotent: later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#isClosed = true;
      this.drain();
      if (this.#streams.size > 0) {
        await new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
      }
      this.#dispose();
    })();
    return this.#closing;
  }

  /** Destroys every stream and upstream connection now. Idempotent; never throws. */
  destroy(err?: Error): void {
    this.#isClosed = true;
    for (const stream of this.#streams) stream.destroy(err);
    for (const connection of this.#connections.values()) connection.socket.destroy();
    this.#dispose();
  }

  #dispose(): void {
    if (this.#isDisposed) return;
    this.#isDisposed = true;
    this.#token.close();
    this.#upstream.destroy();
    for (const connection of this.#connections.values()) clearTimeout(connection.timer);
  }

  #settleCloseWaiters(): void {
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #connectionOf(socket: TLSSocket): Connection {
    let connection = this.#connections.get(socket);
    if (connection !== undefined) return connection;
    connection = {
      socket,
      caller: describeCaller(socket),
      inFlight: 0,
      isUpgraded: false,
      isEnding: false,
      timer: undefined,
    };
    const added = connection;
    this.#connections.set(socket, added);
    socket.once('close', () => {
      clearTimeout(added.timer);
      this.#connections.delete(socket);
    });
    this.#logger.debug('agent api connection', { gateway: added.caller.commonName });
    if (this.#isDraining) this.#endConnection(added);
    else this.#armIdleTimer(added);
    return added;
  }

  #armIdleTimer(connection: Connection): void {
    clearTimeout(connection.timer);
    const idleTimeoutMs = this.#options.idleTimeoutMs ?? AGENT_API_IDLE_TIMEOUT_MS;
    connection.timer = setTimeout(() => this.#endConnection(connection), idleTimeoutMs);
    connection.timer.unref();
  }

  /** Ends a connection gracefully (close_notify, then the stream's FIN); destroys it later. */
  #endConnection(connection: Connection): void {
    if (connection.isEnding) return;
    connection.isEnding = true;
    clearTimeout(connection.timer);
    connection.socket.end();
    connection.timer = setTimeout(() => connection.socket.destroy(), END_GRACE_MS);
    connection.timer.unref();
  }

  #refuse(refusal: AgentApiRefusal, connection: Connection, req: IncomingMessage): void {
    this.#options.onRefused?.(refusal.reason);
    this.#logger.warn('agent api request refused', {
      reason: refusal.reason,
      gateway: connection.caller.commonName,
      method: req.method,
      path: pathOf(req),
    });
  }

  /** `isPassThrough` is decided once per request and used for both the check and forwarding. */
  #check(
    connection: Connection,
    req: IncomingMessage,
    isPassThrough: boolean,
  ): AgentApiRefusal | undefined {
    return (
      checkCaller(connection.caller) ??
      (isPassThrough
        ? checkPassThrough(req.headersDistinct)
        : checkImpersonation(req.headersDistinct, this.#options.identityPrefix))
    );
  }

  #forwardContext(
    connection: Connection,
    req: IncomingMessage,
    isPassThrough: boolean,
  ): ForwardContext {
    const fields: LogFields = {
      gateway: connection.caller.commonName,
      method: req.method,
      path: pathOf(req),
      passThrough: isPassThrough,
    };
    return {
      agent: this.#upstream,
      kubeApiserver: this.#options.kubeApiserver,
      // A pass-through request never gets the agent's token: the caller's own goes instead.
      credential: isPassThrough
        ? () => PASS_THROUGH_CREDENTIAL
        : () => ({ kind: 'agent-token', token: this.#token.token }),
      connectTimeoutMs: this.#options.connectTimeoutMs,
      logger: this.#logger,
      fields,
    };
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const connection = this.#connectionOf(req.socket as TLSSocket);
    req.on('error', () => undefined); // a gateway that aborts is seen through res 'close'
    connection.inFlight += 1;
    clearTimeout(connection.timer);
    res.once('close', () => {
      if (res.headersSent) this.#options.onResponse?.(res.statusCode);
      this.#logger.debug('agent api request', {
        gateway: connection.caller.commonName,
        method: req.method,
        path: pathOf(req),
        passThrough: isPassThrough(req.headersDistinct),
        statusCode: res.headersSent ? res.statusCode : undefined,
        isComplete: res.writableFinished,
      });
      connection.inFlight -= 1;
      if (connection.inFlight > 0 || connection.isUpgraded || connection.isEnding) return;
      if (this.#isDraining) this.#endConnection(connection);
      else this.#armIdleTimer(connection);
    });
    if (this.#isDraining) res.setHeader('connection', 'close');
    const passThrough = isPassThrough(req.headersDistinct);
    const refusal = this.#check(connection, req, passThrough);
    if (refusal !== undefined) {
      this.#refuse(refusal, connection, req);
      // A caller that is not the gateway gets nothing more on this connection.
      if (checkCaller(connection.caller) !== undefined) res.setHeader('connection', 'close');
      sendStatus(res, 403, 'Forbidden', refusal.message);
      return;
    }
    forwardRequest(req, res, this.#forwardContext(connection, req, passThrough));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const connection = this.#connectionOf(socket as TLSSocket);
    socket.on('error', () => undefined); // the relay's pipelines report errors
    connection.isUpgraded = true;
    clearTimeout(connection.timer);
    const passThrough = isPassThrough(req.headersDistinct);
    const refusal = this.#check(connection, req, passThrough);
    if (refusal !== undefined) {
      this.#refuse(refusal, connection, req);
      this.#options.onResponse?.(403);
      endWithStatus(socket, 403, 'Forbidden', 'Forbidden', refusal.message);
      connection.isEnding = true;
      connection.timer = setTimeout(() => socket.destroy(), END_GRACE_MS);
      connection.timer.unref();
      return;
    }
    const context = this.#forwardContext(connection, req, passThrough);
    relayUpgrade(req, socket, head, context, (result) => {
      if (result.statusCode !== undefined) this.#options.onResponse?.(result.statusCode);
      this.#logger.debug('agent api upgrade ended', {
        ...context.fields,
        statusCode: result.statusCode,
        ...(result.error === undefined ? {} : { error: result.error.message }),
      });
    });
  }

  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // Malformed HTTP from the gateway (or a connection reset mid-request): answer if possible.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const isTooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = isTooLarge ? 431 : 400;
    this.#logger.debug('agent api bad request', { error: err.message, code: err.code });
    endWithStatus(
      socket,
      status,
      isTooLarge ? 'RequestHeaderFieldsTooLarge' : 'BadRequest',
      isTooLarge ? 'Request Header Fields Too Large' : 'Bad Request',
      `malformed request: ${err.code ?? err.message}`,
    );
    setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
  }
}
