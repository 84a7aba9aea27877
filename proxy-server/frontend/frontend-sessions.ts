/**
 * The tunnel sessions of one frontend listener (gRPC ProxyService calls or frontend
 * WebSockets), for counters and shutdown.
 */
import type { TunnelSessionApi } from '../../protocol/index.ts';

/**
 * A set of open frontend sessions. `add()` tracks a session until its 'close'; counters are
 * read at call time and `windowStalls()` stays monotonic across closed sessions. Event loop
 * only.
 */
export class FrontendSessions {
  readonly #sessions = new Set<TunnelSessionApi>();
  #retiredStalls = 0;

  /** Sessions currently open. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Tracks `session` until it closes. */
  add(session: TunnelSessionApi): void {
    this.#sessions.add(session);
    session.once('close', () => {
      this.#sessions.delete(session);
      this.#retiredStalls += session.stats().windowStalls;
    });
  }

  /** Streams currently open on these sessions. */
  openStreams(): number {
    let total = 0;
    for (const session of this.#sessions) total += session.stats().openStreams;
    return total;
  }

  /** Monotonic: zero-credit stalls on these sessions, including closed ones. */
  windowStalls(): number {
    let total = this.#retiredStalls;
    for (const session of this.#sessions) total += session.stats().windowStalls;
    return total;
  }

  /** Closes every session gracefully (no new dials, open streams finish); resolves when all closed. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#sessions].map((session) => session.close().catch(() => {})));
  }

  /** Destroys every session now (streams reset 'tunnel-closed'). */
  destroyAll(err?: Error): void {
    for (const session of this.#sessions) session.destroy(err);
  }
}
