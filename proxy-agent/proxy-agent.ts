/**
 * startProxyAgent(): the spoke side of the tunnel, assembled from its parts: the tunnel
 * manager (connection/), the dial handler (streams/), the agent API (agent-api/) and the
 * health listener (health/).
 */
import { assertKeyMatchesCertificate, parseCertificate } from '../certs/index.ts';
import { AgentApiServer } from './agent-api/agent-api-server.ts';
import { connectGrpc } from './connection/grpc-connector.ts';
import { TunnelManager } from './connection/tunnel-manager.ts';
import type { TunnelInfo } from './connection/tunnel-manager.ts';
import { connectWebSocket } from './connection/websocket-connector.ts';
import { AgentError, toError } from './errors.ts';
import { AgentMetrics } from './health/agent-metrics.ts';
import { startHealthServer } from './health/health-server.ts';
import type { HealthServer } from './health/health-server.ts';
import type { Logger } from './logger.ts';
import { validateOptions } from './options.ts';
import type { AgentTlsOptions, ProxyAgentOptions, ResolvedAgentOptions } from './options.ts';
import { DialHandler } from './streams/dial-handler.ts';

/** How long close() lets open streams finish before resetting them, in ms. */
export const CLOSE_TIMEOUT_MS = 5_000;
/** Default bound of drain()'s wait for open streams, in ms (a pod's default grace is 30 s). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;

/** Counters for metrics and leak checks; all return to 0 when the agent is idle. */
export interface ProxyAgentStats {
  /** Tunnels up (one per proxy-server replica). */
  tunnels: number;
  /** Streams bridged to a target and not yet finished. */
  openStreams: number;
  /** Target connects in flight. */
  pendingDials: number;
}

/**
 * A running agent. It starts connecting when created and reconnects on its own until
 * `drain()`, `close()` or `destroy()`.
 */
export interface ProxyAgent {
  /**
   * Resolves when at least one tunnel is up (and the health listener, if any, is listening);
   * at once if that is already so. Rejects with AgentError `AGENT_ERR_CLOSED` if the agent is
   * drained, closed or destroyed first, or with the health listener's error. Safe to call often.
   */
  ready(): Promise<void>;
  /** The tunnels up now, one per server replica. */
  connections(): TunnelInfo[];
  /** `http://host:port` of /healthz, /readyz, /metrics; undefined when disabled or not yet listening. */
  readonly healthAddress: string | undefined;
  stats(): ProxyAgentStats;
  /**
   * Graceful shutdown for SIGTERM: sends DRAIN on every tunnel (servers stop choosing this
   * agent for new dials unless it is the last one), turns the agent API's keep-alive off
   * (idle gateway connections end), stops reconnecting, keeps serving until
   * every open stream and pending dial has ended or `timeoutMs` (default
   * {@link DEFAULT_DRAIN_TIMEOUT_MS}) has passed, then `close()`. Idempotent: later calls
   * return the same promise.
   */
  drain(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Stops reconnecting, closes every tunnel gracefully (no new dials; open streams get up to
   * {@link CLOSE_TIMEOUT_MS} to finish, then are reset) and the health listener. Idempotent.
   * Pending `ready()` calls reject with `AGENT_ERR_CLOSED`.
   */
  close(): Promise<void>;
  /** Resets every stream and tunnel and closes the listener now. Idempotent; never throws. */
  destroy(err?: Error): void;
  /**
   * Uses a renewed client certificate (same CN, usually a new key) from now on: for every new
   * tunnel and for new agent API connections. Tunnels already up stay as they are (their TLS
   * was verified when they opened). Throws AgentError `AGENT_ERR_INVALID_OPTIONS` when the key
   * does not match the certificate or the certificate names another agent.
   */
  rotateCertificate(tls: { certPem: string; keyPem: string; caPem?: string }): void;
}

function checkCertificate(options: ResolvedAgentOptions): void {
  let commonName: string;
  try {
    commonName = parseCertificate(options.tls.certPem).commonName;
  } catch (err: unknown) {
    throw new AgentError(
      'AGENT_ERR_INVALID_OPTIONS',
      `invalid options: tls.certPem: ${toError(err).message}`,
      {
        cause: err,
      },
    );
  }
  if (commonName !== options.commonName) {
    // Not fatal here: the server decides, and its refusal is logged with its reason.
    options.logger.warn('client certificate does not name this agent', {
      clusterName: options.clusterName,
      agentId: options.agentId,
      certificateCommonName: commonName,
      expectedCommonName: options.commonName,
    });
  }
}

class Agent implements ProxyAgent {
  readonly #options: ResolvedAgentOptions;
  readonly #logger: Logger;
  readonly #dials: DialHandler;
  readonly #tunnels: TunnelManager;
  readonly #agentApi: AgentApiServer | undefined;
  readonly #metrics: AgentMetrics | undefined;
  readonly #healthStarting: Promise<void>;
  #health: HealthServer | undefined;
  #draining: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #isDestroyed = false;

  constructor(options: ResolvedAgentOptions) {
    this.#options = options;
    this.#logger = options.logger;
    // First: it reads the token file and throws AGENT_ERR_INVALID_OPTIONS if it cannot.
    this.#agentApi =
      options.agentApi === undefined
        ? undefined
        : new AgentApiServer({
            kubeApiserver: options.kubeApiserver,
            kubeApiserverCaPem: options.agentApi.kubeApiserverCaPem,
            tokenFile: options.agentApi.tokenFile,
            identityPrefix: options.agentApi.identityPrefix,
            tls: options.tls,
            connectTimeoutMs: options.dialTimeoutMs,
            logger: options.logger,
            onResponse: (statusCode) => this.#metrics?.agentApiResponse(statusCode),
            onRefused: (reason) => this.#metrics?.agentApiRefused(reason),
          });
    this.#dials = new DialHandler({
      policy: options,
      dialTimeoutMs: options.dialTimeoutMs,
      logger: options.logger,
      onDialResult: (reason) => this.#metrics?.dialResult(reason),
      ...(this.#agentApi === undefined ? {} : { agentApi: this.#agentApi }),
    });
    this.#tunnels = new TunnelManager({
      options,
      connector: options.transport === 'grpc' ? connectGrpc : connectWebSocket,
      onDial: (dial, context) => this.#dials.handle(dial, context),
      onReconnect: () => this.#metrics?.reconnect(),
    });
    if (options.health === false) {
      this.#healthStarting = Promise.resolve();
    } else {
      const metrics = new AgentMetrics({
        tunnels: () => this.#tunnels.size,
        openStreams: () => this.#dials.openStreams,
        pendingDials: () => this.#dials.pendingDials,
        bytes: () => this.#dials.bytes(),
      });
      this.#metrics = metrics;
      this.#healthStarting = startHealthServer({
        ...options.health,
        isReady: () => this.#tunnels.size > 0,
        registry: metrics.registry,
      }).then(
        (server) => {
          this.#health = server;
          if (this.#closing !== undefined || this.#isDestroyed) void server.close();
          else this.#logger.info('health listening', { address: server.address });
        },
        (err: unknown) => {
          const error = toError(err);
          this.#logger.error('health listener failed', { error: error.message });
          this.destroy(error);
          throw error;
        },
      );
      this.#healthStarting.catch(() => undefined);
    }
    this.#logger.info('agent starting', {
      clusterName: options.clusterName,
      agentId: options.agentId,
      transport: options.transport,
      servers: options.servers,
      isAgentApiEnabled: this.#agentApi !== undefined,
    });
    this.#tunnels.start();
  }

  get healthAddress(): string | undefined {
    return this.#health?.address;
  }

  rotateCertificate(next: { certPem: string; keyPem: string; caPem?: string }): void {
    let commonName: string;
    try {
      assertKeyMatchesCertificate(next.certPem, next.keyPem);
      commonName = parseCertificate(next.certPem).commonName;
    } catch (err: unknown) {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        `rotated certificate: ${toError(err).message}`,
        { cause: err },
      );
    }
    if (commonName !== this.#options.commonName) {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        `rotated certificate names "${commonName}", not this agent "${this.#options.commonName}"`,
      );
    }
    // The resolved options' tls object is this agent's own copy; the tunnel manager reads it
    // at each connect, so new tunnels use the new certificate.
    const tls = this.#options.tls as AgentTlsOptions;
    tls.certPem = next.certPem;
    tls.keyPem = next.keyPem;
    if (next.caPem !== undefined) tls.caPem = next.caPem;
    this.#agentApi?.updateCertificate(tls);
    this.#logger.info('client certificate rotated', {
      clusterName: this.#options.clusterName,
      agentId: this.#options.agentId,
    });
  }

  async ready(): Promise<void> {
    await this.#healthStarting;
    await this.#tunnels.ready();
  }

  connections(): TunnelInfo[] {
    return this.#tunnels.connections();
  }

  stats(): ProxyAgentStats {
    return {
      tunnels: this.#tunnels.size,
      openStreams: this.#dials.openStreams,
      pendingDials: this.#dials.pendingDials,
    };
  }

  drain(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#draining ??= (async () => {
      const timeoutMs = options.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      this.#tunnels.drain();
      this.#agentApi?.drain();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        this.#dials.whenIdle().then(() => 'idle' as const),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.#logger.warn('drain timed out', { timeoutMs, ...this.stats() });
      }
      await this.close();
    })();
    return this.#draining;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const agentApiClosed = this.#agentApi?.close();
      await this.#tunnels.close(CLOSE_TIMEOUT_MS);
      // The tunnels have ended or reset every stream; this only releases what is left.
      this.#agentApi?.destroy();
      await agentApiClosed;
      await this.#healthStarting.catch(() => undefined);
      await this.#health?.close();
      this.#logger.info('agent closed', {
        clusterName: this.#options.clusterName,
        agentId: this.#options.agentId,
      });
    })();
    return this.#closing;
  }

  destroy(err?: Error): void {
    if (this.#isDestroyed) return;
    this.#isDestroyed = true;
    this.#tunnels.destroy(err);
    this.#agentApi?.destroy(err);
    void this.#health?.close();
    if (err !== undefined) this.#logger.error('agent destroyed', { error: err.message });
  }
}

/**
 * Validates `options` and starts an agent: it begins dialling the servers at once. Throws
 * AgentError `AGENT_ERR_INVALID_OPTIONS` synchronously for bad options; everything later
 * (unreachable servers, refusals) is logged and retried, never thrown.
 */
export function startProxyAgent(options: ProxyAgentOptions): ProxyAgent {
  const resolved = validateOptions(options);
  checkCertificate(resolved);
  return new Agent(resolved);
}
