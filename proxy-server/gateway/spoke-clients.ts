/**
 * Connection pools for the hub's in-process clients of agent APIs (`ProxyServer.spokeKubeConfig`):
 * per cluster one undici Agent (fetch: API calls, watches, logs) and one `https.Agent`
 * (node:https and WebSocket upgrades: exec, attach, port-forward). Every connection is one
 * tunnel stream to `agent-api:443`, with TLS and the agent certificate check of the gateway
 * ({@link connectAgentApi}); only the impersonation headers differ per request, so every
 * identity shares the pools of a cluster.
 */
import { Agent as HttpsAgent } from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';

import { Agent as UndiciAgent } from 'undici';
import type { Dispatcher } from 'undici';

import { AGENT_API_IDLE_CLOSE_MS, connectAgentApi } from './agent-api-pool.ts';
import type { AgentApiConnectOptions } from './agent-api-pool.ts';

/** Idle connections kept per cluster by each pool. */
const MAX_FREE_SOCKETS_PER_CLUSTER = 8;

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** An `https.Agent` whose connections are TLS sessions with one cluster's agent API. */
class AgentApiHttpsAgent extends HttpsAgent {
  readonly #connect: () => Promise<Duplex>;

  constructor(connect: () => Promise<Duplex>) {
    super({
      keepAlive: true,
      // On a free socket only: idle connections close before the agent's own 120 s.
      timeout: AGENT_API_IDLE_CLOSE_MS,
      maxFreeSockets: MAX_FREE_SOCKETS_PER_CLUSTER,
      scheduling: 'lifo',
    });
    this.#connect = connect;
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    this.#connect().then(
      (socket) => callback?.(null, socket),
      (err: unknown) => callback?.(toError(err), undefined as never),
    );
    return undefined;
  }
}

/** The two pools of one cluster. */
interface ClusterClients {
  readonly dispatcher: UndiciAgent;
  readonly httpsAgent: AgentApiHttpsAgent;
}

/**
 * Pools per cluster, created on first use and kept until close.
 *
 * Concurrency: any number of requests on any clusters; a new connection is one dial + TLS
 * handshake, reused after (keep-alive; idle connections close after
 * {@link AGENT_API_IDLE_CLOSE_MS}). Lifecycle: `close()` refuses new requests, closes idle
 * connections now and resolves once requests in flight have ended (a watch ends when its
 * caller aborts it); `destroy()` ends every connection now and settles a pending `close()`.
 * Both idempotent. A cluster's pools outlive its agents: a request after a reconnect dials again.
 */
export class SpokeClients {
  readonly #options: AgentApiConnectOptions;
  readonly #clusters = new Map<string, ClusterClients>();
  #isClosed = false;

  constructor(options: AgentApiConnectOptions) {
    this.#options = options;
  }

  /** The undici dispatcher for `cluster`'s agent API (origin `https://agent-api`). */
  dispatcherFor(cluster: string): Dispatcher {
    return this.#clientsOf(cluster).dispatcher;
  }

  /** The `https.Agent` for `cluster`'s agent API (node:https requests and WebSocket upgrades). */
  httpsAgentFor(cluster: string): HttpsAgent {
    return this.#clientsOf(cluster).httpsAgent;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    const clusters = [...this.#clusters.values()];
    await Promise.all(
      clusters.map(async ({ dispatcher, httpsAgent }) => {
        // Idle keep-alive sockets only; sockets in use go back to the pool, then get destroyed.
        for (const list of Object.values(httpsAgent.freeSockets)) {
          for (const socket of list ?? []) socket.destroy();
        }
        httpsAgent.on('free', (socket: Duplex) => socket.destroy());
        await dispatcher.close();
        httpsAgent.destroy();
      }),
    );
  }

  destroy(): void {
    this.#isClosed = true;
    for (const { dispatcher, httpsAgent } of this.#clusters.values()) {
      dispatcher.destroy().catch(() => undefined);
      httpsAgent.destroy();
    }
    this.#clusters.clear();
  }

  #clientsOf(cluster: string): ClusterClients {
    if (this.#isClosed) throw new Error('the proxy-server is closed');
    let clients = this.#clusters.get(cluster);
    if (clients === undefined) {
      const connect = () => connectAgentApi(this.#options, cluster);
      clients = {
        dispatcher: new UndiciAgent({
          keepAliveTimeout: AGENT_API_IDLE_CLOSE_MS,
          keepAliveMaxTimeout: AGENT_API_IDLE_CLOSE_MS,
          connections: null,
          connect: (_options, callback) => {
            connect().then(
              (socket) => callback(null, socket),
              (err: unknown) => callback(toError(err), null),
            );
          },
        }),
        httpsAgent: new AgentApiHttpsAgent(connect),
      };
      this.#clusters.set(cluster, clients);
    }
    return clients;
  }
}
