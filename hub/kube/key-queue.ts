/**
 * A work queue keyed by string, for controllers whose objects are not clusters (e.g. one key per
 * ManifestWork, `<namespace>/<name>`): the same key never runs twice at once, requests for a key
 * coalesce, a failure is retried with exponential backoff, a run may ask to be run again later.
 */

/** Default number of keys processed at once. */
export const DEFAULT_QUEUE_WORKERS = 10;
/** First retry after a failure, in ms; doubled per consecutive failure of the key. */
export const QUEUE_RETRY_BASE_MS = 1_000;
/** Longest retry delay after failures, in ms. */
export const QUEUE_RETRY_MAX_MS = 30_000;

/** What one run of a key asks for; nothing means done until the key is added again. */
export interface KeyResult {
  /** Run the key again at once (e.g. a write conflict: read again and retry). */
  readonly again?: boolean;
  /** Run the key again after this many ms (e.g. a deletion still in progress). */
  readonly requeueAfterMs?: number;
}

/** Options of {@link createKeyQueue}. */
export interface KeyQueueOptions {
  /** Processes one key. Rejections go to `onError` and are retried with backoff. */
  readonly process: (key: string) => Promise<KeyResult | void>;
  /** Keys processed at once; default {@link DEFAULT_QUEUE_WORKERS}. */
  readonly workers?: number;
  /** A run of `key` failed; it is retried after the backoff. */
  readonly onError?: (key: string, err: unknown) => void;
  /** Default {@link QUEUE_RETRY_BASE_MS}. */
  readonly retryBaseMs?: number;
  /** Default {@link QUEUE_RETRY_MAX_MS}. */
  readonly retryMaxMs?: number;
}

/**
 * Lifecycle: runs keys from creation on; `stop()` (idempotent) drops pending keys and timers and
 * resolves once the runs in flight have settled; `add` after it is a no-op. Concurrency: at most
 * `workers` keys run at once, in the order they were added; a key added while it runs is run
 * once more after it (any number of adds coalesce into one run).
 */
export interface KeyQueue {
  /** Runs `key` soon (once more after the current run if it is running). */
  add(key: string): void;
  /** Runs `key` after `delayMs`, unless an earlier timer for it is already set. */
  addAfter(key: string, delayMs: number): void;
  /** Keys waiting, running or scheduled (for tests and metrics). */
  size(): number;
  stop(): Promise<void>;
}

export function createKeyQueue(options: KeyQueueOptions): KeyQueue {
  const workers = Math.max(1, options.workers ?? DEFAULT_QUEUE_WORKERS);
  const baseMs = options.retryBaseMs ?? QUEUE_RETRY_BASE_MS;
  const maxMs = options.retryMaxMs ?? QUEUE_RETRY_MAX_MS;
  const ready = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const dirty = new Set<string>();
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  const failures = new Map<string, number>();
  let isStopped = false;

  const schedule = (key: string, delayMs: number): void => {
    if (isStopped) return;
    const at = Date.now() + delayMs;
    const existing = timers.get(key);
    if (existing !== undefined && existing.at <= at) return;
    if (existing !== undefined) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
    }, delayMs);
    timer.unref();
    timers.set(key, { at, timer });
  };

  const runOne = async (key: string): Promise<void> => {
    let result: KeyResult | void = undefined;
    try {
      result = await options.process(key);
      failures.delete(key);
    } catch (err: unknown) {
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      options.onError?.(key, err);
      schedule(key, Math.min(maxMs, baseMs * 2 ** (count - 1)));
    } finally {
      running.delete(key);
    }
    if (result?.again === true) dirty.add(key);
    if (result?.requeueAfterMs !== undefined) schedule(key, result.requeueAfterMs);
    if (dirty.delete(key)) ready.add(key);
    pump();
  };

  const pump = (): void => {
    if (isStopped) return;
    for (const key of ready) {
      if (running.size >= workers) return;
      if (running.has(key)) continue;
      ready.delete(key);
      running.set(key, runOne(key));
    }
  };

  const add = (key: string): void => {
    if (isStopped) return;
    if (running.has(key)) dirty.add(key);
    else ready.add(key);
    pump();
  };

  return {
    add,
    addAfter: schedule,
    size: () => new Set([...ready, ...running.keys(), ...dirty, ...timers.keys()]).size,
    async stop() {
      isStopped = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
      ready.clear();
      dirty.clear();
      await Promise.allSettled([...running.values()]);
    },
  };
}
