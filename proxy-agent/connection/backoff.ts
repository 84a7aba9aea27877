/**
 * The reconnect schedule: jittered exponential backoff, as grpc-js `src/backoff-timeout.ts`
 * computes it, as pure logic. It holds no timer; the caller owns the clock and calls `next()`
 * once per failed attempt, so the schedule is deterministic under an injected `random`.
 */
import { AgentError } from '../errors.ts';

/** First delay after a failure, in ms. */
export const INITIAL_BACKOFF_MS = 1_000;
/** Ceiling of the base delay, in ms (jitter may add up to `jitter` × this on top). */
export const MAX_BACKOFF_MS = 30_000;
/** Growth factor of the base delay per failed attempt. */
export const BACKOFF_MULTIPLIER = 1.6;
/** Each delay is the base delay × (1 ± jitter), uniformly distributed. */
export const BACKOFF_JITTER = 0.2;
/** Longest server-named retry delay the agent honours, in ms (a bound on a bad server's ask). */
export const MAX_PUSHBACK_MS = 120_000;

/** Backoff tunables; every field has the default named above. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  multiplier?: number;
  jitter?: number;
}

/** BackoffOptions with defaults applied and checked. */
export interface ResolvedBackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: number;
}

/**
 * Applies defaults and checks ranges: `initialMs` > 0, `maxMs` ≥ `initialMs`, `multiplier` ≥ 1,
 * `jitter` in [0, 1]. Throws AgentError `AGENT_ERR_INVALID_OPTIONS` naming the bad field.
 */
export function resolveBackoffOptions(options: BackoffOptions = {}): ResolvedBackoffOptions {
  const resolved = {
    initialMs: options.initialMs ?? INITIAL_BACKOFF_MS,
    maxMs: options.maxMs ?? MAX_BACKOFF_MS,
    multiplier: options.multiplier ?? BACKOFF_MULTIPLIER,
    jitter: options.jitter ?? BACKOFF_JITTER,
  };
  const bad = (field: string, rule: string): AgentError =>
    new AgentError('AGENT_ERR_INVALID_OPTIONS', `invalid options: backoff.${field} ${rule}`);
  if (!(Number.isFinite(resolved.initialMs) && resolved.initialMs > 0)) {
    throw bad('initialMs', 'must be a number > 0');
  }
  if (!(Number.isFinite(resolved.maxMs) && resolved.maxMs >= resolved.initialMs)) {
    throw bad('maxMs', 'must be a number ≥ initialMs');
  }
  if (!(Number.isFinite(resolved.multiplier) && resolved.multiplier >= 1)) {
    throw bad('multiplier', 'must be a number ≥ 1');
  }
  if (!(Number.isFinite(resolved.jitter) && resolved.jitter >= 0 && resolved.jitter <= 1)) {
    throw bad('jitter', 'must be a number in [0, 1]');
  }
  return resolved;
}

/**
 * Jittered exponential backoff. The n-th `next()` since the last `reset()` returns
 * min(initialMs × multiplier^(n-1), maxMs) × (1 + jitter × u), u uniform in [-1, 1).
 *
 * Not thread-bound state, just numbers: one instance per reconnect loop. `reset()` after a
 * connection proved healthy; `atMax()` for failures that retrying soon cannot fix (the server
 * refused us), so the loop does not hammer the server.
 */
export class Backoff {
  readonly #options: ResolvedBackoffOptions;
  readonly #random: () => number;
  #baseMs: number;
  #attempts = 0;

  /** @param random source of uniform [0, 1) numbers; injected by tests. */
  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.#options = resolveBackoffOptions(options);
    this.#random = random;
    this.#baseMs = this.#options.initialMs;
  }

  /** Failed attempts counted since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay before the next attempt, in ms; advances the schedule. */
  next(): number {
    const delay = this.#jittered(this.#baseMs);
    this.#baseMs = Math.min(this.#baseMs * this.#options.multiplier, this.#options.maxMs);
    this.#attempts += 1;
    return delay;
  }

  /** Jumps to the ceiling and returns a jittered `maxMs`; later `next()` calls stay there. */
  atMax(): number {
    this.#baseMs = this.#options.maxMs;
    return this.next();
  }

  /**
   * The delay before retrying after the server named one (`serverMs`, its admission pushback):
   * `serverMs` × (1 + jitter × u), u uniform in [0, 1) — never earlier than the server asked,
   * at most {@link MAX_PUSHBACK_MS}. Leaves the schedule where it is.
   */
  pushback(serverMs: number): number {
    const base = Math.min(Math.max(0, serverMs), MAX_PUSHBACK_MS);
    return Math.round(base * (1 + this.#options.jitter * this.#random()));
  }

  /** Back to `initialMs` (after a connection stayed up long enough to count as healthy). */
  reset(): void {
    this.#baseMs = this.#options.initialMs;
    this.#attempts = 0;
  }

  #jittered(baseMs: number): number {
    const u = this.#random() * 2 - 1;
    return Math.max(0, Math.round(baseMs * (1 + this.#options.jitter * u)));
  }
}
