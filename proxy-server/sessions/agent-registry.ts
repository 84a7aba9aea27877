/**
 * The connected agents, indexed by cluster and by identifier host, and the routing decision:
 * which agent serves a dial. Pure bookkeeping: no sockets, no timers.
 */
import { parseDialAddress } from '../../protocol/index.ts';

/** What routing needs to know about an agent; AgentSession implements it. */
export interface RoutableAgent {
  /** Cluster name from the agent's certificate. */
  readonly cluster: string;
  /** Lowercase identifier hosts: the cluster name and `<cluster>.…` aliases. */
  readonly hosts: readonly string[];
  /** The agent sent DRAIN: avoid it for new dials while another agent can serve. */
  readonly isDraining: boolean;
  /** Open streams plus pending dials; the agent with the least load wins. */
  readonly load: number;
}

/** A routing decision: the agent to dial, or why there is none. */
export type RouteResult<A> =
  { readonly agent: A } | { readonly reason: 'no-agent' | 'bad-request'; readonly message: string };

/** Options of {@link AgentRegistry}. */
export interface AgentRegistryOptions {
  /** Uniform in [0, 1), for tie-breaks; default Math.random (tests pass a fixed sequence). */
  random?: () => number;
}

function hasActive(agents: Iterable<RoutableAgent> | undefined): boolean {
  for (const agent of agents ?? []) if (!agent.isDraining) return true;
  return false;
}

function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * The agents of one server. Several agents per cluster are allowed (spoke HA). `pick` prefers
 * agents that are not draining, then the least loaded, breaking ties at random; it falls back
 * to a draining agent only when no other is left (ANP backend_manager behaviour).
 *
 * Routing (`route`): an explicit cluster picks among that cluster's agents and the address is
 * not interpreted; otherwise the host of `host:port` is matched, case-insensitively, against
 * the agents' identifier hosts (ANP `destHost`). ipv4/ipv6/cidr identifiers are not used for
 * routing: nothing proves that an agent owns an address, while its hosts are checked against
 * its certificate's cluster when it connects.
 *
 * Not thread-shared: call from the event loop only. add/remove are idempotent.
 */
export class AgentRegistry<A extends RoutableAgent> {
  readonly #random: () => number;
  readonly #all = new Set<A>();
  // Arrays, not Sets: a cluster has one agent or a few, and a hub thousands of clusters (a Set
  // of one costs ≈ 150 bytes, an array of one ≈ 40).
  readonly #byCluster = new Map<string, A[]>();
  readonly #byHost = new Map<string, A[]>();

  constructor(options: AgentRegistryOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  /** Number of registered agents. */
  get size(): number {
    return this.#all.size;
  }

  /** Registers an agent under its cluster and its hosts. Adding twice is a no-op. */
  add(agent: A): void {
    if (this.#all.has(agent)) return;
    this.#all.add(agent);
    addTo(this.#byCluster, agent.cluster, agent);
    for (const host of new Set(agent.hosts.map(normalizeHost))) addTo(this.#byHost, host, agent);
  }

  /** Unregisters an agent; returns false when it was not registered. */
  remove(agent: A): boolean {
    if (!this.#all.delete(agent)) return false;
    removeFrom(this.#byCluster, agent.cluster, agent);
    for (const host of new Set(agent.hosts.map(normalizeHost)))
      removeFrom(this.#byHost, host, agent);
    return true;
  }

  /** Every registered agent, in registration order. */
  all(): A[] {
    return [...this.#all];
  }

  /**
   * Whether `cluster` has at least one agent that is not draining: one that takes new dials (a
   * draining agent is going away and refuses them once it closes). O(agents of the cluster).
   */
  hasCluster(cluster: string): boolean {
    return hasActive(this.#byCluster.get(cluster));
  }

  /** The clusters with at least one agent that is not draining, as a new Set. */
  clusters(): Set<string> {
    const clusters = new Set<string>();
    for (const [cluster, agents] of this.#byCluster) if (hasActive(agents)) clusters.add(cluster);
    return clusters;
  }

  /** The agents of one cluster (empty when none). */
  agentsOf(cluster: string): A[] {
    return [...(this.#byCluster.get(cluster) ?? [])];
  }

  /** The best agent among `candidates`; see the class comment. */
  pick(candidates: Iterable<A>): A | undefined {
    let best: A[] = [];
    let bestKey: [number, number] | undefined;
    for (const agent of candidates) {
      const key: [number, number] = [agent.isDraining ? 1 : 0, agent.load];
      const cmp = bestKey === undefined ? -1 : key[0] - bestKey[0] || key[1] - bestKey[1];
      if (cmp < 0) {
        best = [agent];
        bestKey = key;
      } else if (cmp === 0) {
        best.push(agent);
      }
    }
    if (best.length <= 1) return best[0];
    return best[Math.min(best.length - 1, Math.floor(this.#random() * best.length))];
  }

  /**
   * Chooses the agent for a dial to `address`, by `cluster` when given, else by the address's
   * host. Never throws: an unparsable address is `bad-request`, no candidate is `no-agent`
   * (whose message starts with ANP's "No agent available").
   */
  route(address: string, cluster?: string): RouteResult<A> {
    if (cluster !== undefined) {
      const agent = this.pick(this.#byCluster.get(cluster) ?? []);
      return agent !== undefined
        ? { agent }
        : {
            reason: 'no-agent',
            message: `No agent available for cluster ${JSON.stringify(cluster)}`,
          };
    }
    let host: string;
    try {
      host = parseDialAddress(address).host;
    } catch (err) {
      return { reason: 'bad-request', message: (err as Error).message };
    }
    const agent = this.pick(this.#byHost.get(normalizeHost(host)) ?? []);
    return agent !== undefined
      ? { agent }
      : { reason: 'no-agent', message: `No agent available for host ${JSON.stringify(host)}` };
  }
}

function addTo<A>(map: Map<string, A[]>, key: string, agent: A): void {
  const agents = map.get(key);
  if (agents === undefined) map.set(key, [agent]);
  else if (!agents.includes(agent)) agents.push(agent);
}

function removeFrom<A>(map: Map<string, A[]>, key: string, agent: A): void {
  const agents = map.get(key);
  const at = agents?.indexOf(agent) ?? -1;
  if (agents === undefined || at < 0) return;
  if (agents.length === 1) map.delete(key);
  else agents.splice(at, 1);
}
