/**
 * startProxyServer(): the hub side of the tunnel, assembled. It owns the agent registry, the
 * dialer and the metrics, starts the listeners that are enabled, turns each authenticated agent
 * transport into an AgentSession, and shuts everything down in order.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';

import { TUNNEL_CLOSE_CODES, TunnelSession } from '../protocol/index.ts';
import type { DialOptions, TunnelStreamApi } from '../protocol/index.ts';

import {
  AdmissionRateLimiter,
  GrpcAgentListener,
  WebSocketAgentListener,
} from './agent-listener/index.ts';
import type { AcceptedAgent, AgentListenerContext } from './agent-listener/index.ts';
import { Dialer } from './dialer.ts';
import { ServerError, errorMessage } from './errors.ts';
import { ConnectFrontend, GrpcFrontend, WebSocketFrontend } from './frontend/index.ts';
import { ClusterGateway } from './gateway/index.ts';
import { SpokeClients, type SpokeKubeConfig, inProcessSpokeIdentity } from './gateway/index.ts';
import type { InProcessIdentity } from './gateway/index.ts';
import type * as SpokeKubeConfigExports from './gateway/spoke-kube-config.ts';
import { HealthServer } from './health-server.ts';
import type { Readiness } from './health-server.ts';
import { ServerMetrics } from './metrics.ts';
import { validateOptions } from './options.ts';
import type { ProxyServerOptions, ResolvedOptions } from './options.ts';
import { RegistrationListener } from './registration/index.ts';
import { AgentRegistry, AgentSession } from './sessions/index.ts';
import { awaitWarningIfSlow } from './slow-close.ts';
import type { AgentIdentity, AgentInfo, AgentTransportKind } from './sessions/index.ts';

/** Where each enabled listener is bound. */
export interface ProxyServerAddresses {
  /** `host:port` of AgentService.Connect. */
  readonly agentGrpc?: string;
  /** `wss://host:port/tunnel`. */
  readonly agentWebSocket?: string;
  /** `host:port` of ProxyService.Proxy. */
  readonly frontendGrpc?: string;
  /** `wss://host:port/frontend`. */
  readonly frontendWebSocket?: string;
  /** `http://host:port` (`https://` with TLS) of the CONNECT proxy. */
  readonly connect?: string;
  /** `http://host:port` of /healthz, /readyz, /metrics. */
  readonly health?: string;
  /** `https://host:port` of the cluster gateway (`/clusters/<cluster>/…`), when enabled. */
  readonly gateway?: string;
  /** `https://host:port` of the registration API (`/registration/v1/…`), when enabled. */
  readonly registration?: string;
}

/** Counters for leak checks: all return to 0 once streams and agents are gone. */
export interface ProxyServerStats {
  /** Connected agent sessions. */
  agents: number;
  /** Streams open on agent tunnels (one per tunnelled connection). */
  openStreams: number;
  /** Dials routed to an agent and not yet answered. */
  pendingDials: number;
}

/**
 * The module of SpokeKubeConfig, loaded on the first spokeKubeConfig() call (synchronously, as
 * that method is). The class extends @kubernetes/client-node's KubeConfig, and that client is
 * 30 of a proxy-server's 42 MiB of heap; only a hub's in-process controllers need it. Every full
 * garbage collection marks the whole heap, and the tunnel's Buffers bring several a second at
 * tunnel speed (README, tunnel benchmark), so a standalone proxy-server keeps its heap small.
 */
type SpokeKubeConfigModule = typeof SpokeKubeConfigExports;
let spokeKubeConfigModule: SpokeKubeConfigModule | undefined;
const loadModule = createRequire(import.meta.url);

/** After this long, close() names each part that has not closed yet (it may hold up close()). */
export const SLOW_CLOSE_MS = 10_000;
/** The message of that warning; its fields `part` and `waitedMs`. */
export const SERVER_SLOW_CLOSE_WARNING = 'proxy-server part slow to close';
/** Logged when close() gives up waiting (`shutdownTimeoutMs`) and destroys what is left. */
export const SERVER_SHUTDOWN_TIMEOUT_WARNING = 'graceful shutdown timed out, destroying';

/**
 * A running proxy-server.
 *
 * Lifecycle: `close()` stops accepting agents, frontends and dials, lets open streams finish
 * for up to `shutdownTimeoutMs` (no DRAIN is sent: agents simply see their tunnel end once its
 * streams are done), then destroys what is left; it resolves when every listener and socket is
 * closed; a part still closing after SLOW_CLOSE_MS is named in a warning
 * (SERVER_SLOW_CLOSE_WARNING). `destroy(err)` aborts now: every stream is reset
 * ('tunnel-closed'), every agent and frontend connection dropped; a pending close() then
 * resolves. Both are idempotent.
 * Concurrency: any number of dials may run at once; stats() and agents() are snapshots.
 */
export interface ProxyServer {
  readonly serverId: string;
  readonly addresses: ProxyServerAddresses;
  /** The metrics registry's text exposition, as /metrics serves it. */
  metricsText(): Promise<string>;
  agents(): AgentInfo[];
  /**
   * The clusters with at least one agent connected now and not draining (a new Set; O(agents)):
   * the clusters a new dial can reach.
   */
  connectedClusters(): Set<string>;
  /** Whether `cluster` has at least one agent connected now and not draining. */
  isConnected(cluster: string): boolean;
  /**
   * Whether one of `cluster`'s agents answers a tunnel ping (EXT_PING) within `timeoutMs`: true
   * at the first pong; false when none does (or none is connected); undefined when no agent of
   * the cluster negotiated `ping` (a stock ANP agent), so nothing can be told this way. Never
   * rejects. A cheap liveness check: no stream, no TLS, nothing reaches the spoke.
   */
  pingCluster(cluster: string, timeoutMs: number): Promise<boolean | undefined>;
  stats(): ProxyServerStats;
  /**
   * In-process dial with the same routing as the frontends: to one of `cluster`'s agents, the
   * address forwarded unchanged. Rejects with ProtocolError `PROTO_ERR_DIAL_FAILED` and its
   * `reason` (e.g. 'no-agent'), or ServerError `SERVER_ERR_CLOSED` once closing.
   */
  dial(cluster: string, address: string, options?: DialOptions): Promise<TunnelStreamApi>;
  /**
   * Ends the tunnels of every agent of `cluster` now (their streams are reset), e.g. when the
   * hub denies or deletes the cluster; `admitAgent` then keeps them from coming back. Returns
   * how many agent sessions were ended.
   */
  disconnectCluster(cluster: string, reason: string): number;
  /**
   * A @kubernetes/client-node KubeConfig for the hub's own in-process clients (controllers):
   * requests, watches and WebSocket verbs go through the tunnel to `cluster`'s agent API with
   * the gateway certificate (the agent's certificate must name `cluster`), and reach the spoke
   * as `<identityPrefix><user>` in `<identityPrefix><group>` for each group (`system:` names
   * kept, e.g. HUB_CONTROLLER_IDENTITY). Needs `gateway` options (its certificate). Cheap: the
   * connection pools are the server's, per cluster. Throws ServerError
   * `SERVER_ERR_INVALID_OPTIONS` without a gateway or for an invalid identity, and
   * `SERVER_ERR_CLOSED` once closing; close() ends these connections once their requests end.
   */
  spokeKubeConfig(cluster: string, identity: InProcessIdentity): SpokeKubeConfig;
  close(): Promise<void>;
  destroy(err?: Error): void;
}

interface Listeners {
  agentGrpc?: GrpcAgentListener;
  agentWebSocket?: WebSocketAgentListener;
  frontendGrpc?: GrpcFrontend;
  frontendWebSocket?: WebSocketFrontend;
  connect?: ConnectFrontend;
  health?: HealthServer;
  gateway?: ClusterGateway;
  registration?: RegistrationListener;
}

class RunningProxyServer implements ProxyServer {
  readonly serverId: string;
  addresses: ProxyServerAddresses = {};
  readonly #options: ResolvedOptions;
  readonly #registry = new AgentRegistry<AgentSession>();
  readonly #metrics: ServerMetrics;
  readonly #dialer: Dialer;
  readonly #listeners: Listeners = {};
  /** Totals of retired agent sessions, so byte and stall counters stay monotonic. */
  readonly #retired = { bytesIn: 0, bytesOut: 0, windowStalls: 0 };
  #isClosing = false;
  readonly #admissionLimiter: AdmissionRateLimiter | undefined;
  #isDestroyed = false;
  #closing: Promise<void> | undefined;
  /** Pools of spokeKubeConfig(), made on first use. */
  #spokeClients: SpokeClients | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#admissionLimiter =
      options.agentAdmissionRate === undefined
        ? undefined
        : new AdmissionRateLimiter(options.agentAdmissionRate);
    this.serverId = options.serverId;
    this.#metrics = new ServerMetrics({
      pendingDials: () => this.#dialer.pendingDials,
      openStreams: () => this.#agentStreams(),
      connectedAgents: () => {
        const counts = { grpc: 0, websocket: 0 };
        for (const agent of this.#registry.all()) counts[agent.transport] += 1;
        return counts;
      },
      bytes: () => {
        let bytesIn = this.#retired.bytesIn;
        let bytesOut = this.#retired.bytesOut;
        for (const agent of this.#registry.all()) {
          const stats = agent.stats();
          bytesIn += stats.bytesIn;
          bytesOut += stats.bytesOut;
        }
        return { in: bytesIn, out: bytesOut };
      },
      windowStalls: () => {
        const l = this.#listeners;
        let stalls =
          this.#retired.windowStalls +
          (l.frontendGrpc?.windowStalls() ?? 0) +
          (l.frontendWebSocket?.windowStalls() ?? 0);
        for (const agent of this.#registry.all()) stalls += agent.stats().windowStalls;
        return stalls;
      },
    });
    this.#dialer = new Dialer({
      registry: this.#registry,
      metrics: this.#metrics,
      logger: options.logger,
      agentDialTimeoutMs: options.agentDialTimeoutMs,
    });
  }

  async start(): Promise<void> {
    const { listen, tls, logger } = this.#options;
    const context: AgentListenerContext = {
      serverId: this.#options.serverId,
      serverCount: this.#options.serverCount,
      extensions: this.#options.extensions,
      logger,
      isClosing: () => this.#isClosing,
      rateLimit: (transport) => this.#rateLimit(transport),
      maxPendingHandshakes: this.#options.agentAdmissionRate?.maxPendingHandshakes,
      shed: (transport) => this.#metrics.agentShed(transport),
      admit: (identity) => this.#admit(identity),
      accept: (agent) => this.#acceptAgent(agent),
    };
    const l = this.#listeners;
    if (listen.agentGrpc !== false)
      l.agentGrpc = await GrpcAgentListener.start(listen.agentGrpc, tls, context);
    if (listen.agentWebSocket !== false) {
      l.agentWebSocket = await WebSocketAgentListener.start(listen.agentWebSocket, tls, context);
    }
    if (listen.frontendGrpc !== false) {
      l.frontendGrpc = await GrpcFrontend.start({
        listen: listen.frontendGrpc,
        tls,
        dialer: this.#dialer,
        logger,
        extensions: this.#options.extensions,
        isClosing: () => this.#isClosing,
      });
    }
    if (listen.frontendWebSocket !== false) {
      l.frontendWebSocket = await WebSocketFrontend.start({
        listen: listen.frontendWebSocket,
        tls,
        dialer: this.#dialer,
        logger,
        extensions: this.#options.extensions,
        isClosing: () => this.#isClosing,
      });
    }
    if (listen.connect !== false) {
      l.connect = await ConnectFrontend.start({
        listen: listen.connect,
        dialer: this.#dialer,
        logger,
        tls,
      });
      const host = listen.connect.host;
      if (
        !listen.connect.tls &&
        !(host === 'localhost' || (isIP(host) !== 0 && /^(127\.|::1$)/.test(host)))
      ) {
        logger.warn('connect listener is unauthenticated and not on loopback', {
          address: l.connect.address,
        });
      }
    }
    if (this.#options.gateway !== undefined) {
      l.gateway = await ClusterGateway.start({
        gateway: this.#options.gateway,
        tls,
        dial: (cluster, address) => this.#dialer.dial({ address, cluster, source: 'in-process' }),
        logger,
        registry: this.#metrics.registry,
      });
    }
    if (this.#options.registration !== undefined) {
      l.registration = await RegistrationListener.start({
        listen: this.#options.registration.listen,
        backend: this.#options.registration.backend,
        tls,
        logger,
        onAnswer: (endpoint, code) => this.#metrics.registrationAnswer(endpoint, code),
      });
    }
    if (listen.health !== false) {
      l.health = await HealthServer.start({
        listen: listen.health,
        metrics: this.#metrics,
        readiness: () => this.#readiness(),
        logger,
      });
    }
    this.addresses = {
      ...(l.agentGrpc === undefined ? {} : { agentGrpc: l.agentGrpc.address }),
      ...(l.agentWebSocket === undefined ? {} : { agentWebSocket: l.agentWebSocket.address }),
      ...(l.frontendGrpc === undefined ? {} : { frontendGrpc: l.frontendGrpc.address }),
      ...(l.frontendWebSocket === undefined
        ? {}
        : { frontendWebSocket: l.frontendWebSocket.address }),
      ...(l.connect === undefined ? {} : { connect: l.connect.address }),
      ...(l.health === undefined ? {} : { health: l.health.address }),
      ...(l.gateway === undefined ? {} : { gateway: l.gateway.address }),
      ...(l.registration === undefined ? {} : { registration: l.registration.address }),
    };
    logger.info('proxy-server listening', {
      serverId: this.serverId,
      serverCount: this.#options.serverCount,
      ...this.addresses,
    });
  }

  metricsText(): Promise<string> {
    return this.#metrics.registry.metrics();
  }

  agents(): AgentInfo[] {
    return this.#registry.all().map((agent) => agent.info());
  }

  connectedClusters(): Set<string> {
    return this.#registry.clusters();
  }

  isConnected(cluster: string): boolean {
    return this.#registry.hasCluster(cluster);
  }

  async pingCluster(cluster: string, timeoutMs: number): Promise<boolean | undefined> {
    const agents = this.#registry.agentsOf(cluster).filter((agent) => !agent.isRetired);
    if (agents.length === 0) return false;
    const pinging = agents.filter((agent) => agent.canPing);
    if (pinging.length === 0) return undefined;
    return Promise.any(pinging.map((agent) => agent.ping(timeoutMs))).then(
      () => true,
      () => false,
    );
  }

  stats(): ProxyServerStats {
    return {
      agents: this.#registry.size,
      openStreams: this.#agentStreams(),
      pendingDials: this.#dialer.pendingDials,
    };
  }

  dial(cluster: string, address: string, options: DialOptions = {}): Promise<TunnelStreamApi> {
    return this.#dialer.dial({
      address,
      cluster,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      source: 'in-process',
    });
  }

  disconnectCluster(cluster: string, reason: string): number {
    const agents = this.#registry.agentsOf(cluster);
    for (const agent of agents) {
      this.#options.logger.info('agent disconnected by the hub', {
        clusterName: cluster,
        agentId: agent.info().agentId,
        reason,
      });
      agent.destroy(new ServerError('SERVER_ERR_AGENT_NOT_ADMITTED', reason));
    }
    return agents.length;
  }

  spokeKubeConfig(cluster: string, identity: InProcessIdentity): SpokeKubeConfig {
    if (this.#isClosing) throw new ServerError('SERVER_ERR_CLOSED', 'proxy-server is closed');
    const gateway = this.#options.gateway;
    if (gateway === undefined)
      throw new ServerError(
        'SERVER_ERR_INVALID_OPTIONS',
        'spokeKubeConfig needs the gateway options (the gateway certificate for agent APIs)',
      );
    let spokeIdentity;
    try {
      spokeIdentity = inProcessSpokeIdentity(identity, gateway.identityPrefix);
    } catch (err: unknown) {
      throw new ServerError('SERVER_ERR_INVALID_OPTIONS', `spokeKubeConfig: ${errorMessage(err)}`);
    }
    this.#spokeClients ??= new SpokeClients({
      dial: (name, address) => this.#dialer.dial({ address, cluster: name, source: 'in-process' }),
      caPem: this.#options.tls.caPem,
      cert: gateway.cert,
    });
    spokeKubeConfigModule ??= loadModule('./gateway/spoke-kube-config.ts') as SpokeKubeConfigModule;
    return new spokeKubeConfigModule.SpokeKubeConfig(this.#spokeClients, cluster, spokeIdentity);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  destroy(err?: Error): void {
    if (this.#isDestroyed) return;
    this.#isDestroyed = true;
    this.#isClosing = true;
    this.#dialer.close();
    const l = this.#listeners;
    for (const agent of this.#registry.all()) agent.destroy(err);
    l.frontendGrpc?.destroy(err);
    l.frontendWebSocket?.destroy(err);
    l.agentGrpc?.destroy();
    l.agentWebSocket?.destroy();
    l.connect?.destroy();
    l.health?.destroy();
    l.gateway?.destroy();
    this.#spokeClients?.destroy();
    l.registration?.destroy();
    this.#options.logger.info('proxy-server destroyed', {
      serverId: this.serverId,
      ...(err === undefined ? {} : { err }),
    });
  }

  async #close(): Promise<void> {
    const { logger, shutdownTimeoutMs } = this.#options;
    this.#isClosing = true;
    this.#dialer.close();
    logger.info('proxy-server closing', { serverId: this.serverId, agents: this.#registry.size });
    const l = this.#listeners;
    const timer = setTimeout(() => {
      logger.warn(SERVER_SHUTDOWN_TIMEOUT_WARNING, { shutdownTimeoutMs });
      this.destroy(
        new ServerError(
          'SERVER_ERR_CLOSED',
          `proxy-server shutdown exceeded ${shutdownTimeoutMs} ms`,
        ),
      );
    }, shutdownTimeoutMs);
    const parts: Array<readonly [string, Promise<void> | undefined]> = [
      ['agent tunnels', Promise.all(this.#registry.all().map((agent) => agent.close())).then()],
      ['gRPC frontend sessions', l.frontendGrpc?.closeSessions()],
      ['WebSocket frontend sessions', l.frontendWebSocket?.closeSessions()],
      ['HTTP CONNECT frontend', l.connect?.close()],
      ['gRPC agent listener', l.agentGrpc?.close(shutdownTimeoutMs)],
      ['gRPC frontend listener', l.frontendGrpc?.close(shutdownTimeoutMs)],
      ['WebSocket agent listener', l.agentWebSocket?.close()],
      ['WebSocket frontend listener', l.frontendWebSocket?.close()],
      // Its pooled agent-api connections are agent streams: they end once it has closed.
      ['gateway', l.gateway?.close()],
      ['in-process spoke clients', this.#spokeClients?.close()],
      ['registration', l.registration?.close()],
    ];
    const namedIfSlow = (part: string, closing: Promise<unknown>): Promise<void> =>
      awaitWarningIfSlow(closing, SLOW_CLOSE_MS, () =>
        logger.warn(SERVER_SLOW_CLOSE_WARNING, { part, waitedMs: SLOW_CLOSE_MS }),
      );
    try {
      await Promise.all(
        parts.map(([part, closing]) =>
          closing === undefined ? undefined : namedIfSlow(part, closing),
        ),
      );
    } finally {
      clearTimeout(timer);
    }
    // Last, so that /healthz and /metrics answer while the rest closes.
    if (l.health !== undefined) await namedIfSlow('health listener', l.health.close());
    logger.info('proxy-server closed', { serverId: this.serverId });
  }

  #rateLimit(transport: AgentTransportKind): number | undefined {
    const limiter = this.#admissionLimiter;
    if (limiter === undefined || limiter.tryTake()) return undefined;
    this.#metrics.agentRateLimited(transport);
    return limiter.reserveRetryMs();
  }

  #admit(identity: AgentIdentity): AgentIdentity {
    const admit = this.#options.admitAgent;
    if (admit === undefined) return identity;
    try {
      admit(identity);
    } catch (err: unknown) {
      throw new ServerError(
        'SERVER_ERR_AGENT_NOT_ADMITTED',
        `cluster "${identity.cluster}" is not admitted: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return identity;
  }

  #acceptAgent(agent: AcceptedAgent): void {
    const { identity } = agent;
    const { logger } = this.#options;
    if (this.#isClosing) {
      agent.packets.destroy(
        new ServerError('SERVER_ERR_CLOSED', 'proxy-server is shutting down'),
        TUNNEL_CLOSE_CODES.DRAINING,
      );
      return;
    }
    const session = new TunnelSession({
      transport: agent.packets,
      role: 'dialer',
      extensions: agent.extensions,
      label: `cluster ${identity.cluster} agent ${identity.agentId}`,
    });
    const agentSession = new AgentSession({
      identity,
      transport: agent.transport,
      session,
      logger,
      onRetire: (retired) => {
        this.#registry.remove(retired);
        const stats = retired.stats();
        this.#retired.bytesIn += stats.bytesIn;
        this.#retired.bytesOut += stats.bytesOut;
        this.#retired.windowStalls += stats.windowStalls;
      },
    });
    if (agentSession.isRetired) return;
    this.#registry.add(agentSession);
    logger.info('agent connected', {
      clusterName: identity.cluster,
      agentId: identity.agentId,
      transport: agent.transport,
      peer: agent.peer,
      hosts: identity.hosts.join(','),
      extensions: [...agent.extensions].join(','),
    });
  }

  #agentStreams(): number {
    let total = 0;
    for (const agent of this.#registry.all()) total += agent.openStreams;
    return total;
  }

  #readiness(): Readiness {
    if (this.#isClosing) return { isReady: false, reason: 'shutting down' };
    if (this.#registry.size === 0) return { isReady: false, reason: 'no agent connected' };
    return { isReady: true };
  }
}

/**
 * Validates `options`, starts every enabled listener and resolves with the running server.
 * Rejects with ServerError `SERVER_ERR_INVALID_OPTIONS` or `SERVER_ERR_LISTEN`; listeners
 * already started are destroyed first, so a failed start leaves nothing open.
 */
export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const server = new RunningProxyServer(validateOptions(options));
  try {
    await server.start();
  } catch (err) {
    server.destroy();
    throw err;
  }
  return server;
}
