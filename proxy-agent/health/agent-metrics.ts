/**
 * The agent's Prometheus metrics, in a Registry of its own (several agents may share a process
 * in tests and the sandbox). Gauges and byte counts are read from their sources at scrape
 * time, so the data path does no metric work per packet.
 */
import { Counter, Gauge, Registry } from 'prom-client';

import type { DialFailureReason } from '../../protocol/index.ts';
import type { AgentApiRefusalReason } from '../agent-api/request-policy.ts';

/** Where the scrape-time values come from. */
export interface AgentMetricsSources {
  tunnels(): number;
  openStreams(): number;
  pendingDials(): number;
  bytes(): { toTarget: number; fromTarget: number };
}

/**
 * Metrics (names are part of the public contract, README.md):
 * - `spokelink_agent_tunnels` — tunnels up (one per proxy-server replica);
 * - `spokelink_agent_dials_total{result}` — dials served, `result` = `success` | `failure`;
 * - `spokelink_agent_dial_failures_total{reason}` — failed dials by DialFailureReason;
 * - `spokelink_agent_open_streams`, `spokelink_agent_pending_dials`;
 * - `spokelink_agent_bytes_total{direction}` — `to-target` | `from-target`;
 * - `spokelink_agent_reconnects_total` — tunnel attempts made after a failure or a lost tunnel;
 * - `spokelink_agent_api_requests_total{code}` — agent API answers by HTTP status (101 for a
 *   relayed upgrade, 403 for refusals, the API server's status otherwise);
 * - `spokelink_agent_api_refused_total{reason}` — agent API refusals by AgentApiRefusalReason.
 */
export class AgentMetrics {
  /** Serve `registry.metrics()` with `registry.contentType`. */
  readonly registry = new Registry();
  readonly #dials: Counter<'result'>;
  readonly #dialFailures: Counter<'reason'>;
  readonly #reconnects: Counter;
  readonly #agentApiRequests: Counter<'code'>;
  readonly #agentApiRefused: Counter<'reason'>;

  constructor(sources: AgentMetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'spokelink_agent_tunnels',
      help: 'Tunnels to proxy-server replicas that are up.',
      registers,
      collect() {
        this.set(sources.tunnels());
      },
    });
    this.#dials = new Counter({
      name: 'spokelink_agent_dials_total',
      help: 'Dials received from proxy-servers, by result (success, failure).',
      labelNames: ['result'],
      registers,
    });
    this.#dialFailures = new Counter({
      name: 'spokelink_agent_dial_failures_total',
      help: 'Dials that failed, by reason (the DialFailureReason sent in DIAL_RSP).',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'spokelink_agent_open_streams',
      help: 'Streams bridged to a target and not yet finished.',
      registers,
      collect() {
        this.set(sources.openStreams());
      },
    });
    new Gauge({
      name: 'spokelink_agent_pending_dials',
      help: 'Target connects in flight.',
      registers,
      collect() {
        this.set(sources.pendingDials());
      },
    });
    const reported = { toTarget: 0, fromTarget: 0 };
    new Counter({
      name: 'spokelink_agent_bytes_total',
      help: 'Payload bytes between tunnels and targets, by direction (to-target, from-target).',
      labelNames: ['direction'],
      registers,
      collect() {
        // Totals only grow; add what was moved since the last scrape.
        const now = sources.bytes();
        this.inc({ direction: 'to-target' }, Math.max(0, now.toTarget - reported.toTarget));
        this.inc({ direction: 'from-target' }, Math.max(0, now.fromTarget - reported.fromTarget));
        reported.toTarget = Math.max(reported.toTarget, now.toTarget);
        reported.fromTarget = Math.max(reported.fromTarget, now.fromTarget);
      },
    });
    this.#reconnects = new Counter({
      name: 'spokelink_agent_reconnects_total',
      help: 'Tunnel attempts made after a failed attempt or a lost tunnel.',
      registers,
    });
    this.#agentApiRequests = new Counter({
      name: 'spokelink_agent_api_requests_total',
      help: 'Agent API answers sent to the gateway, by HTTP status code.',
      labelNames: ['code'],
      registers,
    });
    this.#agentApiRefused = new Counter({
      name: 'spokelink_agent_api_refused_total',
      help: 'Agent API callers and requests refused, by reason.',
      labelNames: ['reason'],
      registers,
    });
    // Series that exist before the first event, so dashboards see zeros rather than gaps.
    this.#dials.inc({ result: 'success' }, 0);
    this.#dials.inc({ result: 'failure' }, 0);
  }

  /** Records one dial's outcome: undefined = success, else its failure reason. */
  dialResult(reason: DialFailureReason | undefined): void {
    if (reason === undefined) {
      this.#dials.inc({ result: 'success' });
    } else {
      this.#dials.inc({ result: 'failure' });
      this.#dialFailures.inc({ reason });
    }
  }

  reconnect(): void {
    this.#reconnects.inc();
  }

  /** Records one agent API answer with the HTTP status sent to the gateway. */
  agentApiResponse(statusCode: number): void {
    this.#agentApiRequests.inc({ code: String(statusCode) });
  }

  /** Records one agent API refusal. */
  agentApiRefused(reason: AgentApiRefusalReason): void {
    this.#agentApiRefused.inc({ reason });
  }
}
