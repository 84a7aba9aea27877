/**
 * Keep-alive HTTP/1.1 connections to each cluster's agent API: one `http.Agent` per cluster
 * whose connections are tunnel streams dialled to `agent-api:443` and wrapped in TLS with the
 * gateway certificate. The agent's certificate must chain to the hub CA AND name the dialled
 * cluster in its CN (`spokelink:agent:<cluster>:<agent>`); there is no DNS name to check.
 * Idle connections close after {@link AGENT_API_IDLE_CLOSE_MS}, before the agent's own 120 s,
 * so the gateway never reuses a connection the agent is closing.
 */
import { Agent } from 'node:http';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import type { PeerCertificate, SecureContext, TLSSocket } from 'node:tls';

import { AGENT_API_TARGET, parseAgentCommonName } from '../../protocol/index.ts';
import type { TunnelStreamApi } from '../../protocol/index.ts';

/** An idle pooled connection is closed after this long, in ms (the agent's limit is 120 s). */
export const AGENT_API_IDLE_CLOSE_MS = 60_000;
/** Deadline of the TLS handshake with an agent, in ms. */
export const AGENT_API_TLS_TIMEOUT_MS = 10_000;
/** Idle connections kept per cluster. */
const MAX_FREE_SOCKETS_PER_CLUSTER = 16;
/** The dial address of the agent API (any port; the agent serves it in-process). */
export const AGENT_API_ADDRESS = `${AGENT_API_TARGET}:443`;

/** Opens a tunnel stream to `address` on one of `cluster`'s agents (ProxyServer.dial's path). */
export type ClusterDial = (cluster: string, address: string) => Promise<TunnelStreamApi>;

/** The agent's TLS identity could not be verified: the connection is refused (502). */
export class AgentIdentityError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AgentIdentityError';
  }
}

/** Options of {@link AgentApiPool}. */
export interface AgentApiPoolOptions {
  readonly dial: ClusterDial;
  /** The hub CA: agents' certificates must chain to it. */
  readonly caPem: string;
  /** The gateway's client certificate (O `spokelink:gateways`) and key. */
  readonly cert: { readonly certPem: string; readonly keyPem: string };
  /** Default {@link AGENT_API_IDLE_CLOSE_MS}. */
  readonly idleCloseMs?: number;
}

/** The CN check of an agent's certificate, for `tls.connect`'s checkServerIdentity. */
export function checkAgentIdentity(cluster: string, cert: PeerCertificate): Error | undefined {
  const cn = (cert.subject as unknown as Record<string, unknown> | undefined)?.['CN'];
  const commonName = typeof cn === 'string' ? cn : undefined;
  const identity = commonName === undefined ? undefined : parseAgentCommonName(commonName);
  if (identity?.cluster === cluster) return undefined;
  return new AgentIdentityError(
    `the agent API of cluster "${cluster}" presented a certificate for ${commonName === undefined ? 'no agent' : JSON.stringify(commonName)}, not an agent of "${cluster}"`,
  );
}

/**
 * One keep-alive pool per cluster. Concurrency: any number of requests; each new connection is
 * one dial + TLS handshake, reused after. A cluster's pool is dropped once it holds no
 * connection. `destroy()` ends every connection now; idempotent.
 */
export class AgentApiPool {
  readonly #options: AgentApiPoolOptions;
  readonly #agents = new Map<string, Agent>();
  #isDestroyed = false;

  constructor(options: AgentApiPoolOptions) {
    this.#options = options;
  }

  /** Clusters with a pool (dropped once a pool holds no connection). */
  get clusters(): number {
    return this.#agents.size;
  }

  /** Open connections, all clusters (leak checks). */
  get openConnections(): number {
    let total = 0;
    for (const agent of this.#agents.values()) {
      for (const list of Object.values(agent.sockets)) total += list?.length ?? 0;
      for (const list of Object.values(agent.freeSockets)) total += list?.length ?? 0;
    }
    return total;
  }

  /** The `http.Agent` for requests to `cluster`'s agent API (host `agent-api`, port 443). */
  agentFor(cluster: string): Agent {
    if (this.#isDestroyed) throw new Error('the gateway is closed');
    let agent = this.#agents.get(cluster);
    if (agent === undefined) {
      agent = this.#createAgent(cluster);
      this.#agents.set(cluster, agent);
    }
    return agent;
  }

  destroy(): void {
    this.#isDestroyed = true;
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  #createAgent(cluster: string): Agent {
    const agent = new Agent({
      keepAlive: true,
      // On a free socket only: closes idle connections; requests in flight (watches) are not timed.
      timeout: this.#options.idleCloseMs ?? AGENT_API_IDLE_CLOSE_MS,
      maxFreeSockets: MAX_FREE_SOCKETS_PER_CLUSTER,
      scheduling: 'lifo',
    });
    agent.createConnection = (
      _options: ClientRequestArgs,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | undefined => {
      // Checked on the next turn: node:http forgets a socket in its own 'close' listener, which
      // runs after ours, and settles a failed connection after this callback.
      const checkLater = (): void => {
        setImmediate(() => this.#dropIfEmpty(cluster, agent));
      };
      this.#connect(cluster).then(
        (socket) => {
          socket.once('close', checkLater);
          callback?.(null, socket);
        },
        (err: unknown) => {
          callback?.(err instanceof Error ? err : new Error(String(err)), undefined as never);
          checkLater();
        },
      );
      return undefined;
    };
    return agent;
  }

  #dropIfEmpty(cluster: string, agent: Agent): void {
    if (this.#agents.get(cluster) !== agent) return;
    const isEmpty = (lists: NodeJS.ReadOnlyDict<readonly unknown[]>): boolean =>
      Object.values(lists).every((list) => list === undefined || list.length === 0);
    // Requests waiting for a connection keep the pool; they will open one.
    if (isEmpty(agent.sockets) && isEmpty(agent.freeSockets) && isEmpty(agent.requests)) {
      this.#agents.delete(cluster);
      agent.destroy();
    }
  }

  /** Dials `agent-api` on `cluster` and completes TLS; rejects with the dial's error as is. */
  #connect(cluster: string): Promise<TLSSocket> {
    return connectAgentApi(this.#options, cluster);
  }
}

/**
 * The TLS context of agent API connections (hub CA, gateway certificate), made once per options
 * object: parsing the PEMs into a new context for every connection cost more than the handshake's
 * own arithmetic when thousands of clusters are probed.
 */
const secureContexts = new WeakMap<AgentApiConnectOptions, SecureContext>();
function secureContextOf(options: AgentApiConnectOptions): SecureContext {
  let context = secureContexts.get(options);
  if (context === undefined) {
    context = createSecureContext({
      ca: options.caPem,
      cert: options.cert.certPem,
      key: options.cert.keyPem,
      minVersion: 'TLSv1.2',
    });
    secureContexts.set(options, context);
  }
  return context;
}

/**
 * The latest TLS session of each cluster's agent API, per options object: a new connection
 * resumes it (an abbreviated handshake: no certificates, no signatures), which is most of what a
 * connection costs the hub when thousands of clusters are probed. Only sessions of connections
 * whose agent certificate was checked are kept (TLS 1.3 tickets arrive after the handshake), a
 * session is only offered to the cluster it was made with, and an agent that cannot resume it
 * (another agent of the cluster, a restarted one, an expired ticket) makes a full handshake,
 * checked as always.
 */
const agentApiSessions = new WeakMap<AgentApiConnectOptions, Map<string, Buffer>>();
function sessionsOf(options: AgentApiConnectOptions): Map<string, Buffer> {
  let sessions = agentApiSessions.get(options);
  if (sessions === undefined) {
    sessions = new Map();
    agentApiSessions.set(options, sessions);
  }
  return sessions;
}

/** What {@link connectAgentApi} needs: the dial path, the hub CA, the gateway certificate. */
export type AgentApiConnectOptions = Pick<AgentApiPoolOptions, 'dial' | 'caPem' | 'cert'>;

/**
 * One connection to `cluster`'s agent API: a tunnel stream to `agent-api:443` with TLS on top,
 * the gateway certificate as client certificate, and the agent's certificate checked to chain
 * to the hub CA and to name `cluster` ({@link checkAgentIdentity}). Resolves once the handshake
 * is done (bounded by {@link AGENT_API_TLS_TIMEOUT_MS}); the socket then has a no-op 'error'
 * listener and its new owner reports errors. A failed dial rejects with the dial's error as is;
 * any TLS failure with an {@link AgentIdentityError}. Shared by the gateway's pool and the
 * in-process spoke clients (spoke-clients.ts).
 */
export async function connectAgentApi(
  options: AgentApiConnectOptions,
  cluster: string,
): Promise<TLSSocket> {
  const stream = await options.dial(cluster, AGENT_API_ADDRESS);
  stream.on('error', () => undefined); // the TLS socket on top reports
  const sessions = sessionsOf(options);
  const session = sessions.get(cluster);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      socket: stream,
      servername: AGENT_API_TARGET,
      secureContext: secureContextOf(options),
      ALPNProtocols: ['http/1.1'],
      // Not called for a resumed session: its agent was checked when the session was made.
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        checkAgentIdentity(cluster, cert),
      ...(session === undefined ? {} : { session }),
    });
    // Kept only once this connection's agent has passed the check (a TLS 1.2 ticket can come
    // before the handshake's end).
    let isChecked = false;
    let early: Buffer | undefined;
    socket.on('session', (ticket: Buffer) => {
      if (isChecked) sessions.set(cluster, ticket);
      else early = ticket;
    });
    const timer = setTimeout(() => {
      socket.destroy(
        new AgentIdentityError(
          `TLS handshake with the agent API of cluster "${cluster}" took over ${AGENT_API_TLS_TIMEOUT_MS} ms`,
        ),
      );
    }, AGENT_API_TLS_TIMEOUT_MS);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      stream.destroy();
      reject(
        err instanceof AgentIdentityError
          ? err
          : new AgentIdentityError(
              `cannot verify the agent API of cluster "${cluster}": ${err.message}`,
              err,
            ),
      );
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      isChecked = true;
      if (early !== undefined) sessions.set(cluster, early);
      clearTimeout(timer);
      socket.off('error', onError);
      // From here the caller (node:http, undici) owns the socket and its errors.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
