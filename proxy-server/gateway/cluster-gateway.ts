/**
 * The cluster gateway (DESIGN §4, issue 4 item 4): `https://<hub>/clusters/<cluster>/…`. A hub
 * user's request is admitted (admit-request.ts: hub authentication, then a SubjectAccessReview
 * on `managedclusters/proxy`) and forwarded through the tunnel to the cluster's agent API, which
 * acts on the spoke API server as the prefixed identity the gateway names. A bearer token the
 * hub does not authenticate (a spoke token) passes straight through: the agent API forwards it
 * unchanged and the spoke judges it. kubectl uses the gateway as an ordinary API server URL
 * (`spokelink kubeconfig <cluster>`, or a spoke token with `--server <gateway>/clusters/<c>`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import type { Registry } from 'prom-client';

import { ServerError, errorMessage } from '../errors.ts';
import { SocketTracker, closeNodeServer, formatHostPort } from '../listen.ts';
import type { Logger } from '../logger.ts';
import { admitRequest } from './admit-request.ts';
import type { Admission, AdmissionContext } from './admit-request.ts';
import { AgentApiPool } from './agent-api-pool.ts';
import type { ClusterDial } from './agent-api-pool.ts';
import { forwardRequest, relayUpgrade } from './forward-to-agent.ts';
import type { ResolvedGatewayOptions } from './gateway-options.ts';
import { GatewayMetrics } from './gateway-metrics.ts';
import { HubReviewer } from './hub-reviews.ts';
import { kubeStatus, sendStatus, writeRawStatus } from './kube-status.ts';
import { ReviewCache } from './review-cache.ts';

/** A caller must finish its request headers within this time, in ms. */
const HEADERS_TIMEOUT_MS = 30_000;

/** Options of {@link ClusterGateway.start}. */
export interface ClusterGatewayOptions {
  readonly gateway: ResolvedGatewayOptions;
  /** The proxy-server's serving certificate and key, and the hub CA (agents' certificates). */
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
  readonly dial: ClusterDial;
  readonly logger: Logger;
  /** The proxy-server's metrics registry. */
  readonly registry: Registry;
  /** Idle agent-api connections are closed after this long; default 60 s (tests shorten it). */
  readonly idleCloseMs?: number;
}

/** Counters for leak checks: both return to 0 when no request is in flight and pools are idle-closed. */
export interface ClusterGatewayStats {
  /** Requests and upgrades being admitted, forwarded or relayed. */
  readonly activeRequests: number;
  /** Connections to agent APIs, in use or idle in a pool. */
  readonly agentConnections: number;
}

/** Who is calling, for logs: the hub user, or `passThrough` (a spoke token is never logged). */
function callerFields(admission: Admission & { isAdmitted: true }): Record<string, unknown> {
  return admission.user === undefined
    ? { passThrough: true }
    : { user: admission.user.username, passThrough: false };
}

function listen(server: HttpsServer, gateway: ResolvedGatewayOptions): Promise<string> {
  const { host, port } = gateway.listen;
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(
        new ServerError(
          'SERVER_ERR_LISTEN',
          `cannot listen on ${formatHostPort(host, port)} for gateway: ${errorMessage(err)}`,
          { cause: err },
        ),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      resolve(formatHostPort(host, bound));
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

/**
 * A running cluster gateway.
 *
 * Concurrency: any number of callers; requests to one cluster share a keep-alive pool of agent
 * API connections (one tunnel stream each). Lifecycle: `close()` stops accepting, answers
 * requests still arriving on open connections with `Connection: close`, and resolves once
 * every request and upgrade has ended (long watches end when the caller or the proxy-server's
 * shutdown deadline ends them), then drops the pools. `destroy()` drops every caller and agent
 * connection now and settles a pending close(). Both idempotent.
 */
export class ClusterGateway {
  /** `https://host:port` */
  readonly address: string;
  readonly #server: HttpsServer;
  readonly #sockets: SocketTracker;
  readonly #pool: AgentApiPool;
  readonly #reviewer: HubReviewer;
  readonly #context: AdmissionContext;
  readonly #metrics: GatewayMetrics;
  readonly #logger: Logger;
  #active = 0;
  #isClosing = false;
  #closing: Promise<void> | undefined;

  private constructor(
    server: HttpsServer,
    address: string,
    options: ClusterGatewayOptions,
    reviewer: HubReviewer,
  ) {
    const { gateway } = options;
    this.#server = server;
    this.#sockets = new SocketTracker(server);
    this.address = address;
    this.#logger = options.logger;
    this.#reviewer = reviewer;
    this.#metrics = new GatewayMetrics(options.registry);
    this.#pool = new AgentApiPool({
      dial: options.dial,
      caPem: options.tls.caPem,
      cert: gateway.cert,
      ...(options.idleCloseMs === undefined ? {} : { idleCloseMs: options.idleCloseMs }),
    });
    this.#context = {
      reviewer,
      tokens: new ReviewCache(),
      accessReviews: new ReviewCache(),
      hasClientCa: gateway.clientCaPem !== undefined,
      identityPrefix: gateway.identityPrefix,
    };
  }

  /** Binds and starts serving. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(options: ClusterGatewayOptions): Promise<ClusterGateway> {
    const { gateway, tls } = options;
    const server = createHttpsServer({
      cert: tls.certPem,
      key: tls.keyPem,
      minVersion: 'TLSv1.2',
      // Client certificates are asked for only with a client CA, and judged in HTTP (401 with a
      // reason) rather than by failing the handshake; bearer-token callers send none.
      ...(gateway.clientCaPem === undefined
        ? {}
        : { ca: gateway.clientCaPem, requestCert: true, rejectUnauthorized: false }),
      headersTimeout: HEADERS_TIMEOUT_MS,
      // Watches and long uploads: no whole-request deadline.
      requestTimeout: 0,
    });
    const reviewer = new HubReviewer(gateway.hub);
    let address: string;
    try {
      address = `https://${await listen(server, gateway)}`;
    } catch (err) {
      reviewer.close();
      throw err;
    }
    const instance = new ClusterGateway(server, address, options, reviewer);
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      options.logger.debug('gateway tls handshake failed', { error: err.message });
      socket.destroy();
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      instance.#track(instance.#onRequest(req, res));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined); // the relay's pipelines report errors
      instance.#track(instance.#onUpgrade(req, socket, head));
    });
    return instance;
  }

  stats(): ClusterGatewayStats {
    return { activeRequests: this.#active, agentConnections: this.#pool.openConnections };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#isClosing = true;
      const closed = closeNodeServer(this.#server);
      this.#server.closeIdleConnections();
      await closed;
      this.#dispose();
    })();
    return this.#closing;
  }

  destroy(): void {
    this.#isClosing = true;
    this.#server.close();
    this.#sockets.destroyAll();
    this.#dispose();
  }

  #dispose(): void {
    this.#pool.destroy();
    this.#reviewer.close();
  }

  /** Counts a request until it has fully ended; a bug in a handler must not hang the caller. */
  #track(work: Promise<void>): void {
    this.#active += 1;
    work
      .catch((err: unknown) => this.#logger.error('gateway handler failed', { err }))
      .finally(() => {
        this.#active -= 1;
        if (this.#isClosing) this.#server.closeIdleConnections();
      });
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', () => undefined); // a caller that aborts is seen through res 'close'
    const ended = new Promise<void>((resolve) => res.once('close', resolve));
    res.once('close', () => {
      if (res.headersSent) this.#metrics.answered(res.statusCode);
    });
    if (this.#isClosing) res.setHeader('connection', 'close');
    const admission = await admitRequest(req, this.#context);
    if (!admission.isAdmitted) {
      if (admission.authFailure !== undefined) this.#metrics.authFailed(admission.authFailure);
      this.#logger.debug('gateway request refused', {
        method: req.method,
        status: admission.status.code,
        reason: admission.authFailure,
      });
      req.resume();
      sendStatus(res, admission.status);
      await ended;
      return;
    }
    if (this.#isClosing) {
      sendStatus(res, kubeStatus(503, 'the cluster gateway is shutting down'));
      await ended;
      return;
    }
    this.#logger.debug('gateway request', {
      clusterName: admission.cluster,
      method: req.method,
      ...callerFields(admission),
    });
    if (admission.forwarding.kind === 'pass-through') this.#metrics.passedThrough();
    forwardRequest(req, res, {
      pool: this.#pool,
      cluster: admission.cluster,
      path: admission.path,
      forwarding: admission.forwarding,
    });
    await ended;
  }

  async #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const admission = await admitRequest(req, this.#context);
    if (!admission.isAdmitted || this.#isClosing) {
      const status = admission.isAdmitted
        ? kubeStatus(503, 'the cluster gateway is shutting down')
        : admission.status;
      if (!admission.isAdmitted && admission.authFailure !== undefined)
        this.#metrics.authFailed(admission.authFailure);
      this.#metrics.answered(status.code);
      writeRawStatus(socket, status);
      await new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else socket.once('close', () => resolve());
      });
      return;
    }
    this.#logger.debug('gateway upgrade', {
      clusterName: admission.cluster,
      method: req.method,
      ...callerFields(admission),
      upgrade: req.headers.upgrade,
    });
    if (admission.forwarding.kind === 'pass-through') this.#metrics.passedThrough();
    await new Promise<void>((resolve) => {
      relayUpgrade(
        req,
        socket,
        head,
        {
          pool: this.#pool,
          cluster: admission.cluster,
          path: admission.path,
          forwarding: admission.forwarding,
        },
        (statusCode) => {
          if (statusCode !== undefined) this.#metrics.answered(statusCode);
          resolve();
        },
      );
    });
  }
}
