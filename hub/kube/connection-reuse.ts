/**
 * Keep-alive for a KubeConfig's fetch-based calls. @kubernetes/client-node (v2) builds a new
 * undici Agent for every request, so every API call, list and watch opens its own TCP and TLS
 * connection (a handshake and a fresh TLS context per call). A hub with thousands of clusters
 * makes many calls a second; `reuseConnections(kc)` gives a KubeConfig whose calls share one
 * keep-alive undici Agent per distinct TLS set-up (server, CA, client certificate, …), as
 * client-go shares its transport.
 *
 * Credentials still come from `kc` on every request (bearer tokens, token files, exec plugins are
 * read as before); only the connection pool is shared. A client certificate that changes (a
 * rotated file) gives a different key and so a new Agent.
 */
import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';

import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';

/** What {@link reuseConnections} returns: the config, its pool's size, and `close()`. */
export interface ReusingKubeConfig {
  /** Use this wherever `kc` was used; it reads everything else from `kc`. */
  readonly kubeConfig: KubeConfig;
  /** Distinct keep-alive Agents made so far (1 for one server and one identity). */
  agents(): number;
  /**
   * Closes the pooled Agents: requests in flight get {@link CLOSE_GRACE_MS} to finish, then the
   * connections are dropped (a watch nobody aborted would otherwise hold it forever). Idempotent.
   */
  close(): Promise<void>;
}

/** How long close() lets requests in flight finish before dropping the connections, in ms. */
export const CLOSE_GRACE_MS = 2_000;

type CreateDispatcher = (cluster: Cluster | null, options: AgentOptions) => Dispatcher | undefined;
type DispatcherOptions = ReturnType<KubeConfig['createDispatcherOptions']>;

/** Whether any request is queued or running on `agent`. */
function busy(agent: Agent): boolean {
  return Object.values(agent.stats).some((stats) => stats.pending + stats.running > 0);
}

/**
 * The pool key of a TLS set-up: a hash over its fields (PEM buffers hashed as bytes; JSON of a
 * Buffer would spell every byte out as a number, on every request).
 */
function keyOf(connect: object): string {
  const hash = createHash('sha256');
  for (const [name, value] of Object.entries(connect).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`${name}=`);
    const parts: unknown[] = Array.isArray(value) ? value : [value];
    for (const part of parts) {
      if (Buffer.isBuffer(part) || typeof part === 'string') hash.update(part);
      else hash.update(String(part));
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

/**
 * Wraps `kc` (which is not changed). Throws when the installed client-node no longer builds its
 * dispatchers the way this relies on, so an upgrade fails loudly instead of silently losing
 * keep-alive.
 */
export function reuseConnections(kc: KubeConfig): ReusingKubeConfig {
  const original = (kc as unknown as { createDispatcher?: CreateDispatcher }).createDispatcher;
  if (typeof original !== 'function' || typeof kc.createDispatcherOptions !== 'function') {
    throw new Error(
      'reuseConnections: @kubernetes/client-node no longer has createDispatcher/createDispatcherOptions',
    );
  }
  const pool = new Map<string, Agent>();
  let closed = false;
  // A config that reads through to `kc` (clusters, users, contexts, token files) with one
  // method of its own.
  const derived = Object.create(kc) as KubeConfig;
  const createDispatcher: CreateDispatcher = function (this: KubeConfig, cluster, options) {
    const plan: DispatcherOptions = kc.createDispatcherOptions.call(this, cluster, options);
    // Proxies and SOCKS keep the library's own handling; plain TLS set-ups are pooled.
    if (plan.type !== 'agent' || closed) return original.call(this, cluster, options);
    const key = keyOf(plan.connect);
    let agent = pool.get(key);
    if (agent === undefined) {
      agent = new Agent({
        connect: plan.connect as NonNullable<Agent.Options['connect']>,
        // As client-go: idle connections are closed after 90 s.
        keepAliveTimeout: 90_000,
      });
      pool.set(key, agent);
    }
    return agent;
  };
  Object.defineProperty(derived, 'createDispatcher', { value: createDispatcher });
  return {
    kubeConfig: derived,
    agents: () => pool.size,
    async close() {
      if (closed) return;
      closed = true;
      const agents = [...pool.values()];
      pool.clear();
      // Callers have finished their requests by now; a watch nobody aborted must not hold the
      // shutdown: a short grace, then the connections are dropped.
      await Promise.all(
        agents.map(async (agent) => {
          // Not agent.close(): once it has begun, destroy() no longer ends an HTTP/2 stream.
          const deadline = Date.now() + CLOSE_GRACE_MS;
          while (busy(agent) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await agent
            .destroy(new Error('the hub connection pool was closed'))
            .catch(() => undefined);
        }),
      );
    },
  };
}
