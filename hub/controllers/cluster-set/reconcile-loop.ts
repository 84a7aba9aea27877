/**
 * A keyed reconcile loop for controllers that read watched caches: hub/kube's
 * `createClusterReconciler` (per-key coalescing, parallel keys, a periodic resync, `stop()`
 * that waits for reconciles in flight) with keys of any shape (`name`, `namespace/name`), plus
 * what a cache-driven controller needs on top: `enqueue` from watch handlers, `enqueueAfter`
 * for work that falls due later (a toleration that expires), and a per-key retry with
 * exponential backoff after a failure, so a failed write is tried again in about a second
 * rather than at the next resync.
 */
import { createClusterReconciler, DEFAULT_RESYNC_INTERVAL_MS } from '../../kube/index.ts';

/** First retry delay after a failed reconcile, in ms; doubles per failure. */
export const RETRY_INITIAL_MS = 1_000;
/** Longest retry delay, in ms. */
export const RETRY_MAX_MS = 30_000;

const NO_AGENTS: ReadonlySet<string> = new Set();

/** Options of {@link createReconcileLoop}. */
export interface ReconcileLoopOptions {
  /** Reconciles one key; resolves true to run again at once (e.g. a write conflict). */
  readonly reconcileOnce: (key: string) => Promise<boolean>;
  /** Every key, for resyncs. */
  readonly listKeys: () => Promise<readonly string[]>;
  /** Full resync period; default {@link DEFAULT_RESYNC_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** A reconcile (or, with `key` undefined, a resync list) failed; it is retried on its own. */
  readonly onError?: (key: string | undefined, err: unknown) => void;
}

/**
 * Lifecycle: `start()` runs a resync now and then every `intervalMs`, and from then on accepts
 * `enqueue`/`enqueueAfter` (calls before `start()` are dropped: the first resync covers them);
 * a second call is a no-op. `stop()` (idempotent) cancels timers and resolves once reconciles in
 * flight settled. Concurrency: one reconcile per key at a time; an enqueue during one runs once
 * more after it; different keys run in parallel.
 */
export interface ReconcileLoop {
  start(): void;
  stop(): Promise<void>;
  /** Reconciles `key` soon (in the background; failures are retried with backoff). */
  enqueue(key: string): void;
  /** Reconciles `key` after `delayMs` (the earliest pending delay of a key wins). */
  enqueueAfter(key: string, delayMs: number): void;
  /** Reconciles `key` now; rejects with its failure (which is also reported and retried). */
  reconcile(key: string): Promise<void>;
}

export function createReconcileLoop(options: ReconcileLoopOptions): ReconcileLoop {
  const onError = options.onError ?? (() => undefined);
  const timers = new Map<string, { readonly timer: NodeJS.Timeout; readonly at: number }>();
  const failures = new Map<string, number>();
  let isStarted = false;
  let isStopped = false;

  const enqueueAfter = (key: string, delayMs: number): void => {
    if (!isStarted || isStopped) return;
    const at = Date.now() + Math.max(0, delayMs);
    const pending = timers.get(key);
    if (pending !== undefined && pending.at <= at) return;
    if (pending !== undefined) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      timers.delete(key);
      enqueue(key);
    }, at - Date.now());
    timer.unref();
    timers.set(key, { timer, at });
  };

  const retryLater = (key: string): void => {
    const count = (failures.get(key) ?? 0) + 1;
    failures.set(key, count);
    enqueueAfter(key, Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (count - 1)));
  };

  const reconciler = createClusterReconciler({
    // Failures are reported here, once per failed pass, whoever asked for the pass.
    reconcileOnce: async (key) => {
      try {
        const again = await options.reconcileOnce(key);
        failures.delete(key);
        return again;
      } catch (err: unknown) {
        if (!isStopped) {
          onError(key, err);
          retryLater(key);
        }
        throw err;
      }
    },
    listClusters: options.listKeys,
    connectedClusters: () => NO_AGENTS,
    intervalMs: options.intervalMs ?? DEFAULT_RESYNC_INTERVAL_MS,
    // Reconcile failures were reported above; only a failed resync list is left.
    onError: (key, err) => {
      if (key === undefined) onError(undefined, err);
    },
  });

  function enqueue(key: string): void {
    if (!isStarted || isStopped) return;
    // Reported and retried by reconcileOnce above.
    reconciler.reconcile(key).catch(() => undefined);
  }

  return {
    start() {
      if (isStarted || isStopped) return;
      isStarted = true;
      reconciler.start();
    },
    async stop() {
      isStopped = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
      await reconciler.stop();
    },
    enqueue,
    enqueueAfter,
    reconcile: (key) => reconciler.reconcile(key),
  };
}
