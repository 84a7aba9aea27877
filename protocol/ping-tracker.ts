import { randomInt } from 'node:crypto';

import type { PingPacket, PongPacket } from './packet.ts';

/** Options for {@link PingTracker}. */
export interface PingTrackerOptions {
  /** Pings awaiting a pong at most (default 8); further createPing calls return undefined. */
  readonly maxOutstanding?: number;
}

const UINT32_RANGE = 0x1_0000_0000;

/** The EXT_PONG answering `ping`: same nonce and timestamp. */
export function pongFor(ping: PingPacket): PongPacket {
  return { type: 'EXT_PONG', nonce: ping.nonce, timestampUs: ping.timestampUs };
}

/**
 * Round-trip-time bookkeeping for the `ping` extension on one tunnel. The caller owns the clock
 * and the timer: every interval it checks {@link oldestSentAtMs} against its deadline (then
 * terminates the tunnel), sends {@link createPing}'s packet, and feeds EXT_PONGs to
 * {@link handlePong}. Times are milliseconds from one monotonic clock (e.g. performance.now()).
 *
 * Pure state, no I/O or timers; one instance per tunnel; nothing to close ({@link clear} on reset).
 */
export class PingTracker {
  readonly #maxOutstanding: number;
  /** nonce → sent time (ms), in send order. */
  readonly #outstanding = new Map<number, number>();
  #nextNonce = randomInt(UINT32_RANGE);

  constructor(options: PingTrackerOptions = {}) {
    this.#maxOutstanding = options.maxOutstanding ?? 8;
  }

  /** Pings sent and not yet answered. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /** True while the ping with `nonce` is sent and not yet answered. */
  isOutstanding(nonce: number): boolean {
    return this.#outstanding.has(nonce);
  }

  /** Send time of the oldest unanswered ping, undefined when none is outstanding. */
  get oldestSentAtMs(): number | undefined {
    for (const sentAt of this.#outstanding.values()) return sentAt;
    return undefined;
  }

  /** A new EXT_PING stamped `nowMs`, or undefined when maxOutstanding pings are unanswered. */
  createPing(nowMs: number): PingPacket | undefined {
    if (this.#outstanding.size >= this.#maxOutstanding) return undefined;
    const nonce = this.#nextNonce;
    this.#nextNonce = (nonce + 1) % UINT32_RANGE;
    this.#outstanding.set(nonce, nowMs);
    return { type: 'EXT_PING', nonce, timestampUs: Math.max(0, Math.round(nowMs * 1000)) };
  }

  /**
   * Matches an EXT_PONG. Returns the round-trip time in ms, or undefined for a nonce not
   * outstanding (late, duplicate or forged: ignore it). A matched pong also settles older pings:
   * the tunnel is ordered, so their pongs will not come.
   */
  handlePong(pong: PongPacket, nowMs: number): number | undefined {
    const sentAt = this.#outstanding.get(pong.nonce);
    if (sentAt === undefined) return undefined;
    for (const nonce of this.#outstanding.keys()) {
      this.#outstanding.delete(nonce);
      if (nonce === pong.nonce) break;
    }
    return Math.max(0, nowMs - sentAt);
  }

  /** Forgets every outstanding ping (e.g. after a reconnect). */
  clear(): void {
    this.#outstanding.clear();
  }
}
