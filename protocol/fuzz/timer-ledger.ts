/**
 * Counts the timers armed and not yet cleared or fired while it is installed. The session's
 * timers are unref'd, so `process.getActiveResourcesInfo()` does not see them; the fuzzers
 * wrap the global timer functions instead. Test code only: install() replaces
 * globalThis.setTimeout/setInterval/clearTimeout/clearInterval until uninstall().
 * Not reentrant: one ledger installed at a time.
 */
export class TimerLedger {
  readonly #live = new Set<unknown>();
  #restore: (() => void) | undefined;

  /** Timers armed since install() and still pending. */
  get live(): number {
    return this.#live.size;
  }

  install(): void {
    if (this.#restore !== undefined) return;
    const g = globalThis;
    const { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci } = g;
    const live = this.#live;
    const wrapClear =
      (clear: (t: NodeJS.Timeout | undefined) => void) =>
      (t: NodeJS.Timeout | string | number | undefined): void => {
        live.delete(t);
        clear(t as NodeJS.Timeout | undefined);
      };
    g.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer: NodeJS.Timeout = st(
        (...a: unknown[]) => {
          live.delete(timer);
          fn(...a);
        },
        ms,
        ...args,
      );
      live.add(timer);
      return timer;
    }) as typeof g.setTimeout;
    g.setInterval = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer = si(fn, ms, ...args);
      live.add(timer);
      return timer;
    }) as typeof g.setInterval;
    g.clearTimeout = wrapClear(ct) as typeof g.clearTimeout;
    g.clearInterval = wrapClear(ci) as typeof g.clearInterval;
    this.#restore = () => {
      g.setTimeout = st;
      g.setInterval = si;
      g.clearTimeout = ct;
      g.clearInterval = ci;
    };
  }

  /** Restores the global timer functions. Idempotent. */
  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
    this.#live.clear();
  }
}
