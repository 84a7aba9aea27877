/**
 * The agent's tunnels: one TunnelSession (role acceptor: the server sends DIAL_REQ) per
 * proxy-server replica, kept up with jittered exponential backoff.
 *
 * HA as ANP's agent clientset does it: the server says `serverCount`; the agent dials the
 * configured addresses round-robin until it holds that many distinct `serverID`s. A tunnel to a
 * serverID it already holds is dropped and retried later with backoff (ANP retries those without
 * backoff, which turns a load balancer's stickiness into a connection storm). A lost tunnel is
 * redialled with backoff; the backoff resets once a tunnel stayed up STABLE_TUNNEL_MS.
 */
import { TUNNEL_CLOSE_CODES, TunnelSession, negotiateExtensions } from '../../protocol/index.ts';
import type { IncomingDial, TunnelSessionApi } from '../../protocol/index.ts';
import { AgentError, toError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AgentTransport, ResolvedAgentOptions } from '../options.ts';
import type { DialContext } from '../streams/dial-handler.ts';
import { Backoff } from './backoff.ts';
import { HANDSHAKE_TIMEOUT_MS } from './connector.ts';
import type { ConnectAttempt, Connector, TunnelHandshake } from './connector.ts';
import { isGrpcRefusal } from './grpc-connector.ts';

/** A tunnel that stays up this long resets the backoff (a flapping server keeps backing off). */
export const STABLE_TUNNEL_MS = 10_000;

/** One tunnel as `ProxyAgent.connections()` reports it. */
export interface TunnelInfo {
  readonly serverId: string;
  readonly address: string;
  readonly transport: AgentTransport;
  readonly connectedAt: Date;
}

/** Options of {@link TunnelManager}. */
export interface TunnelManagerOptions {
  readonly options: ResolvedAgentOptions;
  readonly connector: Connector;
  /** The session's onDial, with the tunnel it came on. */
  readonly onDial: (dial: IncomingDial, context: DialContext) => void;
  /** Called for each attempt made after a failure, a duplicate or a lost tunnel (metrics). */
  readonly onReconnect?: () => void;
  /** Uniform [0, 1) source for jitter; tests inject one. */
  readonly random?: () => number;
  readonly handshakeTimeoutMs?: number;
}

interface Tunnel extends TunnelInfo {
  readonly session: TunnelSessionApi;
  readonly release: () => void;
  readonly stableTimer: NodeJS.Timeout;
}

type ManagerState = 'running' | 'draining' | 'closed';

/** True when a tunnel-level error means the server refused this agent (auth or identity). */
export function isRefusal(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof AgentError) return e.code === 'AGENT_ERR_REFUSED_BY_SERVER';
    const { code, closeCode } = e as { code?: unknown; closeCode?: unknown };
    if (typeof code === 'number' && isGrpcRefusal(code)) return true;
    if (
      closeCode === TUNNEL_CLOSE_CODES.UNAUTHORIZED ||
      closeCode === TUNNEL_CLOSE_CODES.CLUSTER_MISMATCH
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Owns the reconnect loop and the sessions.
 *
 * Lifecycle: `start()` once; `drain()` sends DRAIN on every tunnel and stops dialling (the
 * tunnels keep serving); `close(timeoutMs)` stops dialling and closes every session gracefully
 * (streams may finish for up to `timeoutMs`, then are reset); `destroy(err)` resets everything
 * now. `close` and `destroy` are idempotent and settle every `ready()` waiter. At most one
 * connection attempt is in flight at any time, and at most one retry timer is armed.
 */
export class TunnelManager {
  readonly #config: TunnelManagerOptions;
  readonly #options: ResolvedAgentOptions;
  readonly #logger: Logger;
  readonly #backoff: Backoff;
  readonly #tunnels = new Map<string, Tunnel>();
  #serverCount = 1;
  #nextAddress = 0;
  #attempt: ConnectAttempt | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #isRetry = false;
  #state: ManagerState = 'running';
  #readyWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  #closing: Promise<void> | undefined;

  constructor(config: TunnelManagerOptions) {
    this.#config = config;
    this.#options = config.options;
    this.#logger = config.options.logger;
    this.#backoff = new Backoff(config.options.backoff, config.random);
  }

  /** Starts dialling. */
  start(): void {
    this.#sync();
  }

  /** Tunnels up now. */
  get size(): number {
    return this.#tunnels.size;
  }

  /** The serverCount last announced (at least 1). */
  get serverCount(): number {
    return this.#serverCount;
  }

  connections(): TunnelInfo[] {
    return [...this.#tunnels.values()].map(({ serverId, address, transport, connectedAt }) => ({
      serverId,
      address,
      transport,
      connectedAt,
    }));
  }

  sessions(): TunnelSessionApi[] {
    return [...this.#tunnels.values()].map((t) => t.session);
  }

  /** Resolves once at least one tunnel is up (at once if one is); rejects once stopped. */
  ready(): Promise<void> {
    if (this.#tunnels.size > 0) return Promise.resolve();
    if (this.#state !== 'running') {
      return Promise.reject(
        new AgentError('AGENT_ERR_CLOSED', `agent is ${this.#state}; no tunnel will be opened`),
      );
    }
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Sends DRAIN on every tunnel and stops dialling. Idempotent. */
  drain(): void {
    if (this.#state !== 'running') return;
    this.#stopDialling('draining');
    this.#logger.info('draining', { tunnels: this.#tunnels.size });
    for (const tunnel of this.#tunnels.values()) tunnel.session.sendDrain();
  }

  /**
   * Stops dialling; tells every server (DRAIN, unless `drain()` did) so that it stops choosing
   * this agent and stops counting its cluster as reachable through it while the streams end;
   * closes every session, resetting what is left after `timeoutMs`.
   */
  close(timeoutMs: number): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#state === 'running') {
        for (const tunnel of this.#tunnels.values()) tunnel.session.sendDrain();
      }
      this.#stopDialling('closed');
      await Promise.all([...this.#tunnels.values()].map((t) => closeSession(t.session, timeoutMs)));
    })();
    return this.#closing;
  }

  /** Resets every stream and tunnel now. Idempotent. */
  destroy(err?: Error): void {
    this.#stopDialling('closed', err);
    for (const tunnel of this.#tunnels.values()) tunnel.session.destroy(err);
  }

  #stopDialling(state: Exclude<ManagerState, 'running'>, cause?: Error): void {
    if (this.#state !== 'closed') this.#state = state;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#attempt?.cancel();
    this.#attempt = undefined;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) {
      waiter.reject(
        new AgentError(
          'AGENT_ERR_CLOSED',
          `agent ${state} before a tunnel was up`,
          cause === undefined ? {} : { cause },
        ),
      );
    }
  }

  #sync(): void {
    const countsAsReconnect = this.#isRetry;
    this.#isRetry = false;
    if (this.#state !== 'running' || this.#attempt !== undefined || this.#retryTimer !== undefined)
      return;
    if (this.#tunnels.size >= this.#serverCount) return;
    const { servers } = this.#options;
    const address = servers[this.#nextAddress % servers.length] as string;
    this.#nextAddress = (this.#nextAddress + 1) % servers.length;
    if (countsAsReconnect) this.#config.onReconnect?.();
    this.#logger.debug('tunnel connecting', {
      address,
      tunnels: this.#tunnels.size,
      serverCount: this.#serverCount,
    });
    let isDone = false;
    const attempt = this.#config.connector(
      {
        address,
        tls: this.#options.tls,
        agentId: this.#options.agentId,
        identifiersValue: this.#options.identifiersValue,
        extensions: this.#options.extensions,
        handshakeTimeoutMs: this.#config.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      },
      {
        onOpen: (handshake) => {
          isDone = true;
          this.#attempt = undefined;
          this.#onOpen(address, handshake);
        },
        onFail: (err) => {
          isDone = true;
          this.#attempt = undefined;
          this.#onFail(address, err);
        },
      },
    );
    if (!isDone) this.#attempt = attempt;
  }

  #scheduleRetry(delayMs: number): void {
    if (this.#state !== 'running' || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#isRetry = true;
      this.#sync();
    }, delayMs);
  }

  #onFail(address: string, err: AgentError): void {
    if (this.#state !== 'running') return;
    if (err.code === 'AGENT_ERR_REFUSED_BY_SERVER') {
      const retryInMs = this.#backoff.atMax();
      this.#logger.error('server refused the agent', { address, error: err.message, retryInMs });
      this.#scheduleRetry(retryInMs);
      return;
    }
    if (err.retryAfterMs !== undefined) {
      // The server is admitting agents at its rate and named a slot for us: come back then
      // (plus jitter, never earlier) without growing the backoff, which only lengthens the tail.
      const retryInMs = this.#backoff.pushback(err.retryAfterMs);
      this.#logger.info('tunnel connect deferred by the server', { address, retryInMs });
      this.#scheduleRetry(retryInMs);
      return;
    }
    const retryInMs = this.#backoff.next();
    this.#logger.warn('tunnel connect failed', {
      address,
      code: err.code,
      error: err.message,
      retryInMs,
    });
    this.#scheduleRetry(retryInMs);
  }

  #onOpen(address: string, handshake: TunnelHandshake): void {
    const { serverId, transport } = handshake;
    if (this.#state !== 'running') {
      transport.destroy();
      handshake.release();
      return;
    }
    if (this.#tunnels.has(serverId)) {
      // Same replica again (typically a sticky load balancer): keep the tunnel we have.
      transport.destroy();
      handshake.release();
      const retryInMs = this.#backoff.next();
      this.#logger.info('duplicate server, tunnel dropped', { serverId, address, retryInMs });
      this.#scheduleRetry(retryInMs);
      return;
    }
    // ANP: a serverCount of 0 (misconfigured server) counts as 1.
    this.#serverCount = Math.max(1, handshake.serverCount);
    const extensions = negotiateExtensions(this.#options.extensions, handshake.peerExtensions);
    const context: DialContext = { serverId };
    const session = new TunnelSession({
      transport,
      role: 'acceptor',
      extensions,
      onDial: (dial: IncomingDial) => this.#config.onDial(dial, context),
      label: `cluster ${this.#options.clusterName} agent ${this.#options.agentName} server ${serverId}`,
    });
    const stableTimer = setTimeout(() => this.#backoff.reset(), STABLE_TUNNEL_MS);
    stableTimer.unref();
    const tunnel: Tunnel = {
      serverId,
      address,
      transport: this.#options.transport,
      connectedAt: new Date(),
      session,
      release: handshake.release,
      stableTimer,
    };
    this.#tunnels.set(serverId, tunnel);
    session.on('close', (err?: Error) => this.#onClosed(tunnel, err));
    session.on('peer-drain', () => this.#logger.info('server draining', { serverId, address }));
    this.#logger.info('tunnel connected', {
      serverId,
      address,
      serverCount: handshake.serverCount,
      extensions: [...extensions],
    });
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    this.#sync();
  }

  #onClosed(tunnel: Tunnel, err: Error | undefined): void {
    clearTimeout(tunnel.stableTimer);
    tunnel.release();
    if (this.#tunnels.get(tunnel.serverId) === tunnel) this.#tunnels.delete(tunnel.serverId);
    const upMs = Date.now() - tunnel.connectedAt.getTime();
    const fields = { serverId: tunnel.serverId, address: tunnel.address, upMs };
    if (this.#state !== 'running') {
      this.#logger.info('tunnel closed', fields);
      return;
    }
    if (upMs >= STABLE_TUNNEL_MS) this.#backoff.reset();
    const refused = isRefusal(err);
    const retryInMs = refused ? this.#backoff.atMax() : this.#backoff.next();
    if (refused) {
      this.#logger.error('server refused the agent', {
        ...fields,
        error: toError(err).message,
        retryInMs,
      });
    } else {
      this.#logger.warn('tunnel disconnected', {
        ...fields,
        retryInMs,
        ...(err === undefined ? {} : { error: err.message }),
      });
    }
    this.#scheduleRetry(retryInMs);
  }
}

/** session.close() bounded by `timeoutMs`, then destroy (which resets what is left). */
async function closeSession(session: TunnelSessionApi, timeoutMs: number): Promise<void> {
  if (session.isClosed) return;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  session.close().catch(() => undefined);
  const outcome = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    session.destroy(
      new AgentError('AGENT_ERR_CLOSED', `tunnel did not close within ${timeoutMs} ms`),
    );
    await closed;
  }
}
