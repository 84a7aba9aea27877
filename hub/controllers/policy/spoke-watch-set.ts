/**
 * Watch-driven re-evaluation for one cluster (issue 7): one watch per group/version/resource
 * that some policy reads, cluster-wide, through the tunnel; an event on an object a policy cares
 * about (its namespace and, for named templates, its name) reports that policy's key. A watch
 * that fails is started again with backoff; after a re-list every owner is reported (events may
 * have been missed).
 */
import type { SpokeClient, WatchEvent, WatchHandle } from '../manifest-work/spoke-client.ts';
import type { WatchInterest } from './evaluate-policy.ts';

/** First delay before a failed watch starts again, in ms; doubled per failure in a row. */
export const POLICY_WATCH_RETRY_BASE_MS = 500;
/** Longest delay before a failed watch starts again, in ms. */
export const POLICY_WATCH_RETRY_MAX_MS = 5_000;
/** Each watch request asks the server to end it after this many seconds; it is resumed. */
const WATCH_TIMEOUT_S = 300;

interface GvrWatch {
  readonly key: string;
  readonly interest: Pick<WatchInterest, 'group' | 'version' | 'resource'>;
  /** Owner key → what it cares about in this GVR. */
  readonly owners: Map<string, WatchInterest[]>;
  handle: WatchHandle | undefined;
  timer: NodeJS.Timeout | undefined;
  resourceVersion: string | undefined;
  failures: number;
  isStopped: boolean;
}

function gvrKey(i: Pick<WatchInterest, 'group' | 'version' | 'resource'>): string {
  return `${i.group}/${i.version}/${i.resource}`;
}

function concerns(interest: WatchInterest, namespace: string, name: string): boolean {
  if (interest.name !== undefined && interest.name !== name) return false;
  if (interest.namespaces !== undefined && !interest.namespaces.includes(namespace)) return false;
  return true;
}

/** Options of {@link SpokeWatchSet}. */
export interface SpokeWatchSetOptions {
  readonly client: Pick<SpokeClient, 'list' | 'watch'>;
  /** Owners whose objects changed (or may have). Called synchronously from watch events. */
  readonly onChange: (keys: ReadonlySet<string>) => void;
  /** The first failure of a watch in a row (it is retried with backoff). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Lifecycle: a GVR's watch starts with the first owner interested in it and stops with the last;
 * `stop()` (idempotent) aborts every watch and timer. Single-threaded bookkeeping.
 */
export class SpokeWatchSet {
  readonly #options: SpokeWatchSetOptions;
  readonly #watches = new Map<string, GvrWatch>();
  #isStopped = false;

  constructor(options: SpokeWatchSetOptions) {
    this.#options = options;
  }

  /** Replaces what `owner` watches with `interests`. */
  track(owner: string, interests: readonly WatchInterest[]): void {
    if (this.#isStopped) return;
    const byGvr = new Map<string, WatchInterest[]>();
    for (const i of interests) byGvr.set(gvrKey(i), [...(byGvr.get(gvrKey(i)) ?? []), i]);
    for (const [key, watch] of this.#watches) {
      if (byGvr.has(key)) continue;
      watch.owners.delete(owner);
      if (watch.owners.size === 0) this.#end(watch);
    }
    for (const [key, list] of byGvr) {
      let watch = this.#watches.get(key);
      if (watch === undefined) {
        const first = list[0] as WatchInterest;
        watch = {
          key,
          interest: { group: first.group, version: first.version, resource: first.resource },
          owners: new Map(),
          handle: undefined,
          timer: undefined,
          resourceVersion: undefined,
          failures: 0,
          isStopped: false,
        };
        this.#watches.set(key, watch);
        watch.owners.set(owner, list);
        this.#start(watch);
      } else watch.owners.set(owner, list);
    }
  }

  /** `owner` watches nothing any more. */
  untrack(owner: string): void {
    this.track(owner, []);
  }

  /** The GVRs watched now, as `group/version/resource`. */
  watched(): string[] {
    return [...this.#watches.keys()];
  }

  stop(): void {
    this.#isStopped = true;
    for (const watch of [...this.#watches.values()]) this.#end(watch);
  }

  #end(watch: GvrWatch): void {
    watch.isStopped = true;
    clearTimeout(watch.timer);
    watch.handle?.abort();
    this.#watches.delete(watch.key);
  }

  #retry(watch: GvrWatch, err: unknown): void {
    if (watch.isStopped) return;
    watch.handle = undefined;
    if (err !== undefined) {
      if (watch.failures === 0) this.#options.onError?.(err);
      watch.failures++;
    }
    const delay =
      err === undefined
        ? 0
        : Math.min(
            POLICY_WATCH_RETRY_MAX_MS,
            POLICY_WATCH_RETRY_BASE_MS * 2 ** (watch.failures - 1),
          );
    watch.timer = setTimeout(() => this.#start(watch), delay);
    watch.timer.unref();
  }

  #start(watch: GvrWatch): void {
    if (watch.isStopped) return;
    void (async () => {
      if (watch.resourceVersion === undefined) {
        const list = await this.#options.client.list({ ...watch.interest }, { limit: '1' });
        const meta = list.metadata as { resourceVersion?: string } | undefined;
        watch.resourceVersion = meta?.resourceVersion;
        if (watch.isStopped) return;
        if (watch.failures > 0 && watch.owners.size > 0) {
          this.#options.onChange(new Set(watch.owners.keys()));
        }
      }
      watch.handle = this.#options.client.watch(
        { ...watch.interest },
        {
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(WATCH_TIMEOUT_S),
          ...(watch.resourceVersion === undefined
            ? {}
            : { resourceVersion: watch.resourceVersion }),
        },
        (event) => this.#onEvent(watch, event),
        (err) => this.#retry(watch, err),
      );
    })().catch((err: unknown) => this.#retry(watch, err));
  }

  #onEvent(watch: GvrWatch, event: WatchEvent): void {
    if (watch.isStopped) return;
    watch.failures = 0;
    if (event.type === 'ERROR') {
      // 410 Gone or another error: list again, and report every owner (events were missed).
      watch.resourceVersion = undefined;
      watch.handle?.abort();
      this.#options.onChange(new Set(watch.owners.keys()));
      this.#retry(watch, undefined);
      return;
    }
    const meta = (event.object.metadata ?? {}) as {
      namespace?: string;
      name?: string;
      resourceVersion?: string;
    };
    if (meta.resourceVersion !== undefined) watch.resourceVersion = meta.resourceVersion;
    if (event.type === 'BOOKMARK' || meta.name === undefined) return;
    const changed = new Set<string>();
    for (const [owner, interests] of watch.owners) {
      if (interests.some((i) => concerns(i, meta.namespace ?? '', meta.name ?? ''))) {
        changed.add(owner);
      }
    }
    if (changed.size > 0) this.#options.onChange(changed);
  }
}
