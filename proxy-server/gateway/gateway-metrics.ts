/**
 * The cluster gateway's Prometheus series, registered in the proxy-server's own registry (so
 * they appear on its /metrics).
 */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

import { GATEWAY_AUTH_FAILURE_REASONS } from './authenticate-caller.ts';
import type { GatewayAuthFailureReason } from './authenticate-caller.ts';

/**
 * `spokelink_gateway_requests_total{code}`: requests answered, by the HTTP status the caller got
 * (101 for a switched upgrade; the agent's or spoke's own status when forwarded).
 * `spokelink_gateway_auth_failures_total{reason}`: requests refused before forwarding, by
 * {@link GatewayAuthFailureReason}. `spokelink_gateway_pass_through_total`: requests and upgrades
 * forwarded with the caller's own spoke token (their answers count in requests_total too).
 * Nothing to close.
 */
export class GatewayMetrics {
  readonly #requests: Counter<'code'>;
  readonly #authFailures: Counter<'reason'>;
  readonly #passThrough: Counter;

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: 'spokelink_gateway_requests_total',
      help: 'Cluster gateway requests answered, by HTTP status code.',
      labelNames: ['code'],
      registers: [registry],
    });
    this.#authFailures = new Counter({
      name: 'spokelink_gateway_auth_failures_total',
      help: 'Cluster gateway requests refused by authentication or authorization, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.#passThrough = new Counter({
      name: 'spokelink_gateway_pass_through_total',
      help: "Cluster gateway requests and upgrades forwarded with the caller's own spoke token.",
      registers: [registry],
    });
    // Every reason present from the start, at 0, so rates work before the first failure.
    for (const reason of GATEWAY_AUTH_FAILURE_REASONS) this.#authFailures.inc({ reason }, 0);
  }

  answered(code: number): void {
    this.#requests.inc({ code: String(code) });
  }

  passedThrough(): void {
    this.#passThrough.inc();
  }

  authFailed(reason: GatewayAuthFailureReason): void {
    this.#authFailures.inc({ reason });
  }
}
