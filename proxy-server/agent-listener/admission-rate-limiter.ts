/**
 * Handshake admission rate limiting: a token bucket on new agent tunnels, so that a fleet
 * reconnecting at once (a proxy-server restart, a network blip) is admitted at a rate the
 * server, and the hub behind it, can take, instead of every agent queueing on the server at
 * once. An agent that finds the bucket empty is refused with a retryable status (gRPC
 * RESOURCE_EXHAUSTED with `grpc-retry-pushback-ms`, HTTP 503 with `Retry-After`) that names a
 * time slot of its own: each refusal reserves the next free slot after those already promised,
 * one per 1/perSecond, so a storm of N agents is spread over N / perSecond seconds instead of
 * retrying on exponential backoff (whose tail grows with every refusal).
 *
 * Pure logic with an injected clock: no timers, nothing to close.
 */

/** Default agent tunnels admitted per second (measured: README "Benchmarks", `npm run scale`). */
export const DEFAULT_AGENT_ADMISSION_RATE = 300;
/** Default bucket size: tunnels that may be admitted at once after a quiet spell. */
export const DEFAULT_AGENT_ADMISSION_BURST = 300;
/** Longest retry delay a refusal names, ms: beyond it slots are not reserved further out. */
export const MAX_ADMISSION_PUSHBACK_MS = 120_000;

/** `ProxyServerOptions.agentAdmissionRate`. */
export interface AgentAdmissionRate {
  /** New agent tunnels admitted per second, on average (> 0). */
  perSecond: number;
  /** Bucket size (≥ 1); default `perSecond` rounded up. */
  burst?: number;
  /**
   * Agent TLS handshakes in progress per listener (≥ 1) before new connections are closed
   * unanswered (handshake-guard.ts); default DEFAULT_MAX_PENDING_HANDSHAKES.
   */
  maxPendingHandshakes?: number;
}

/**
 * A token bucket: it holds at most `burst` tokens, gains `perSecond` tokens a second, and each
 * admitted agent tunnel takes one. It starts full.
 *
 * Concurrency: single-threaded by construction (called from listener callbacks on the event
 * loop); `tryTake()` is O(1).
 */
export class AdmissionRateLimiter {
  readonly perSecond: number;
  readonly burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAtMs: number;
  /** The last slot promised to a refused agent (clock ms). */
  #lastSlotMs = -Infinity;

  /** @param now a monotonic clock in ms (default `performance.now`); injected by tests. */
  constructor(
    rate: { perSecond: number; burst: number },
    now: () => number = () => performance.now(),
  ) {
    this.perSecond = rate.perSecond;
    this.burst = rate.burst;
    this.#now = now;
    this.#tokens = rate.burst;
    this.#updatedAtMs = now();
  }

  /** Takes a token if there is one: true admits the agent, false refuses it (retry later). */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * For a refused agent: reserves the next free slot (1/perSecond after the last one promised,
   * and not before a token is due) and returns the ms until it, at least 1 and at most
   * {@link MAX_ADMISSION_PUSHBACK_MS}. Agents add their own jitter on top.
   */
  reserveRetryMs(): number {
    this.#refill();
    const now = this.#updatedAtMs;
    const intervalMs = 1000 / this.perSecond;
    const firstTokenAtMs = now + Math.max(0, (1 - this.#tokens) * intervalMs);
    const slot = Math.min(
      Math.max(this.#lastSlotMs + intervalMs, firstTokenAtMs),
      now + MAX_ADMISSION_PUSHBACK_MS,
    );
    this.#lastSlotMs = slot;
    return Math.max(1, Math.ceil(slot - now));
  }

  #refill(): void {
    const now = this.#now();
    const elapsedMs = Math.max(0, now - this.#updatedAtMs);
    this.#updatedAtMs = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsedMs * this.perSecond) / 1000);
  }
}
