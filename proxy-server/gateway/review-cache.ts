/**
 * A small bounded cache with a time to live, for the hub's TokenReview and SubjectAccessReview
 * answers (positive and negative alike), so kubectl's bursts of discovery requests cost the hub
 * one review each per TTL instead of one per request. Lookups of the same key that overlap share
 * one review. Failed lookups (the hub unreachable) are never cached.
 */

/** How long a review answer is reused, in ms (cluster-proxy caches TokenReviews likewise). */
export const REVIEW_CACHE_TTL_MS = 10_000;
/** Most answers kept per cache; the oldest entry goes first when full. */
export const REVIEW_CACHE_MAX_ENTRIES = 4096;

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/** Options of {@link ReviewCache}. */
export interface ReviewCacheOptions {
  /** Default {@link REVIEW_CACHE_TTL_MS}. */
  readonly ttlMs?: number;
  /** Default {@link REVIEW_CACHE_MAX_ENTRIES}. */
  readonly maxEntries?: number;
  /** Clock in ms; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Concurrency: any number of `get()` calls at once; calls for one key while its lookup runs
 * wait for that lookup. Memory: at most `maxEntries` answers plus the lookups in flight. No
 * timers: expired entries are dropped when read or when evicted, so there is nothing to close.
 */
export class ReviewCache<V> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inFlight = new Map<string, Promise<V>>();

  constructor(options: ReviewCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? REVIEW_CACHE_TTL_MS;
    this.#maxEntries = options.maxEntries ?? REVIEW_CACHE_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  /** Answers kept (some may have expired but not been dropped yet). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The cached answer for `key`, or the result of `lookup()` (then cached). A rejected lookup
   * rejects every caller waiting on it and leaves nothing cached.
   */
  get(key: string, lookup: () => Promise<V>): Promise<V> {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > this.#now()) return Promise.resolve(entry.value);
      this.#entries.delete(key);
    }
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const started = lookup().then(
      (value) => {
        this.#inFlight.delete(key);
        this.#set(key, value);
        return value;
      },
      (err: unknown) => {
        this.#inFlight.delete(key);
        throw err;
      },
    );
    this.#inFlight.set(key, started);
    return started;
  }

  #set(key: string, value: V): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }
}
