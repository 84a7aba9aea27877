/**
 * The server's Prometheus metrics, in a Registry of its own (several servers can live in one
 * process, as in tests). Event metrics (dial latency and failures) are recorded as they happen;
 * level metrics (pending dials, open streams, agents, bytes, stalls) are read from their
 * sources at scrape time, so they can never drift from the truth.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { DialFailureReason } from '../protocol/index.ts';

/** Dial latency buckets, in seconds: sub-millisecond on loopback to the 30 s backstop. */
export const DIAL_DURATION_BUCKETS_S = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Levels read at scrape time. Every function must be cheap and must not throw. */
export interface MetricSources {
  pendingDials(): number;
  openStreams(): number;
  /** Agents by transport. */
  connectedAgents(): { grpc: number; websocket: number };
  /** Monotonic byte totals on agent tunnels: `in` = received from agents, `out` = sent to them. */
  bytes(): { in: number; out: number };
  /** Monotonic count of times a stream found zero send credit, all tunnels. */
  windowStalls(): number;
}

/**
 * The metric families of one proxy-server. Construct once per server; `registry.metrics()`
 * renders the exposition text. Not tied to any socket: nothing to close.
 */
export class ServerMetrics {
  /** The server's own registry (never prom-client's global one). */
  readonly registry: Registry;
  readonly #dialDuration: Histogram;
  readonly #dialFailures: Counter<'reason'>;
  readonly #registrations: Counter<'endpoint' | 'code'>;
  readonly #rateLimited: Counter<'transport'>;
  readonly #shed: Counter<'transport'>;

  constructor(sources: MetricSources) {
    const registry = new Registry();
    this.registry = registry;
    this.#dialDuration = new Histogram({
      name: 'spokelink_server_dial_duration_seconds',
      help: 'Time from a dial reaching the server to the agent answering it successfully.',
      buckets: DIAL_DURATION_BUCKETS_S,
      registers: [registry],
    });
    this.#dialFailures = new Counter({
      name: 'spokelink_server_dial_failures_total',
      help: 'Dials that failed, by DialFailureReason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.#registrations = new Counter({
      name: 'spokelink_server_registration_requests_total',
      help: "Registration API answers, by endpoint and code ('ok' or a REG_ERR_ code).",
      labelNames: ['endpoint', 'code'],
      registers: [registry],
    });
    this.#rateLimited = new Counter({
      name: 'spokelink_server_agent_handshakes_rate_limited_total',
      help: 'Agent tunnels refused by handshake admission rate limiting, by transport.',
      labelNames: ['transport'],
      registers: [registry],
    });
    this.#shed = new Counter({
      name: 'spokelink_server_agent_connections_shed_total',
      help: 'Agent connections closed before TLS because too many handshakes were in progress, by transport.',
      labelNames: ['transport'],
      registers: [registry],
    });
    new Gauge({
      name: 'spokelink_server_pending_dials',
      help: 'Dials waiting for an agent answer.',
      registers: [registry],
      collect() {
        this.set(sources.pendingDials());
      },
    });
    new Gauge({
      name: 'spokelink_server_open_streams',
      help: 'Streams open on agent tunnels.',
      registers: [registry],
      collect() {
        this.set(sources.openStreams());
      },
    });
    new Gauge({
      name: 'spokelink_server_connected_agents',
      help: 'Connected agent sessions, by transport.',
      labelNames: ['transport'],
      registers: [registry],
      collect() {
        const agents = sources.connectedAgents();
        this.set({ transport: 'grpc' }, agents.grpc);
        this.set({ transport: 'websocket' }, agents.websocket);
      },
    });
    // Counters fed from monotonic totals: add the difference since the last scrape.
    let reportedIn = 0;
    let reportedOut = 0;
    new Counter({
      name: 'spokelink_server_bytes_total',
      help: 'Bytes on agent tunnels; direction "in" is from agents, "out" is to agents.',
      labelNames: ['direction'],
      registers: [registry],
      collect() {
        const now = sources.bytes();
        this.inc({ direction: 'in' }, Math.max(0, now.in - reportedIn));
        this.inc({ direction: 'out' }, Math.max(0, now.out - reportedOut));
        reportedIn = Math.max(reportedIn, now.in);
        reportedOut = Math.max(reportedOut, now.out);
      },
    });
    let reportedStalls = 0;
    new Counter({
      name: 'spokelink_server_window_stalls_total',
      help: 'Times a stream sender found zero flow-control credit.',
      registers: [registry],
      collect() {
        const now = sources.windowStalls();
        this.inc(Math.max(0, now - reportedStalls));
        reportedStalls = Math.max(reportedStalls, now);
      },
    });
  }

  /** Records a successful dial's latency, in seconds. */
  observeDial(seconds: number): void {
    this.#dialDuration.observe(seconds);
  }

  /** Counts one failed dial. */
  dialFailed(reason: DialFailureReason): void {
    this.#dialFailures.inc({ reason });
  }

  /** Counts one agent tunnel refused by the admission rate limit. */
  agentRateLimited(transport: 'grpc' | 'websocket'): void {
    this.#rateLimited.inc({ transport });
  }

  /** Counts one agent connection closed before TLS by the handshake guard. */
  agentShed(transport: 'grpc' | 'websocket'): void {
    this.#shed.inc({ transport });
  }

  /** Counts one registration API answer. */
  registrationAnswer(endpoint: string, code: string): void {
    this.#registrations.inc({ endpoint, code });
  }

  /** The exposition text and its content type, for /metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
