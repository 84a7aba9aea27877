/**
 * Drift detection for one cluster: one watch per applied group/version/resource and namespace
 * (cluster-scoped kinds: one for the kind), through the tunnel; a watch that tracks a single
 * object asks the API server for that name only (`fieldSelector=metadata.name=…`), so the tunnel
 * carries the events of what works applied and not every change of that kind on the spoke.
 * Events are filtered here to the tracked objects. A change to such an object (an edit, a status
 * update, a delete) that is not the controller's own write requeues every work that applied it.
 */
import type { SpokeApi, WatchEvent, WatchHandle } from './spoke-client.ts';
import { gvrKey, objectKey, type Gvr } from './resource-ref.ts';

/** First delay before a failed watch starts again, in ms; doubled per failure in a row. */
export const WATCH_RETRY_BASE_MS = 500;
/** Longest delay before a failed watch starts again, in ms. */
export const WATCH_RETRY_MAX_MS = 5_000;
/** The server ends each watch request after a random 5–10 min; it is resumed at once. */
const WATCH_TIMEOUT_MIN_S = 300;

/** An object a work applied (or reads), with the resourceVersion the controller last saw. */
export interface TrackedObject {
  readonly gvr: Gvr;
  readonly namespace?: string;
  readonly name: string;
  readonly resourceVersion?: string;
}

/** Options of {@link ClusterWatches}. */
export interface ClusterWatchesOptions {
  readonly client: SpokeApi;
  /** Works whose objects changed on the spoke (or may have: after a watch had to list again). */
  readonly onChange: (workKeys: ReadonlySet<string>) => void;
  /** The first failure of a watch in a row (it is retried with backoff). */
  readonly onError?: (err: unknown) => void;
}

interface TrackedState {
  readonly owners: Set<string>;
  resourceVersion: string | undefined;
}

interface GvrWatch {
  readonly gvr: Gvr;
  /** The namespace watched; undefined: cluster-scoped objects. */
  readonly namespace: string | undefined;
  readonly objects: Map<string, TrackedState>;
  /** The only name the running watch asks for; undefined: every object of its scope. */
  selectedName: string | undefined;
  /** Bumped by every (re)start: a start that lost the race to a newer one gives up. */
  generation: number;
  handle: WatchHandle | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Where to resume; undefined: list first. */
  resourceVersion: string | undefined;
  failures: number;
  isStopped: boolean;
}

/** The key of one watch: its GVR and namespace (`@` never appears in either). */
function watchKey(gvr: Gvr, namespace: string | undefined): string {
  return `${gvrKey(gvr)}@${namespace ?? ''}`;
}

function metaOf(object: Record<string, unknown>): {
  namespace?: string;
  name?: string;
  resourceVersion?: string;
} {
  return (object.metadata ?? {}) as { namespace?: string; name?: string; resourceVersion?: string };
}

/**
 * Lifecycle: watches start with the first `track()` of a GVR and stop when no work tracks it;
 * `stop()` (idempotent) aborts every watch and timer. Concurrency: single-threaded bookkeeping,
 * `onChange` is called synchronously from watch events.
 */
export class ClusterWatches {
  readonly #options: ClusterWatchesOptions;
  readonly #watches = new Map<string, GvrWatch>();
  /** workKey → the objects it tracks, as `gvrKey|objectKey`. */
  readonly #byWork = new Map<string, Set<string>>();
  #isStopped = false;

  constructor(options: ClusterWatchesOptions) {
    this.#options = options;
  }

  /** Replaces what `workKey` tracks with `objects` (their resourceVersions are the latest seen). */
  track(workKey: string, objects: readonly TrackedObject[]): void {
    if (this.#isStopped) return;
    const next = new Set<string>();
    const created = new Set<GvrWatch>();
    const grown = new Set<GvrWatch>();
    for (const object of objects) {
      const namespace = object.namespace === '' ? undefined : object.namespace;
      const key = watchKey(object.gvr, namespace);
      const inner = objectKey(object.namespace, object.name);
      next.add(`${key}|${inner}`);
      let watch = this.#watches.get(key);
      if (watch === undefined) {
        watch = {
          gvr: object.gvr,
          namespace,
          objects: new Map(),
          selectedName: undefined,
          generation: 0,
          handle: undefined,
          timer: undefined,
          resourceVersion: undefined,
          failures: 0,
          isStopped: false,
        };
        this.#watches.set(key, watch);
        created.add(watch);
      }
      if (!watch.objects.has(inner)) grown.add(watch);
      const state = watch.objects.get(inner) ?? { owners: new Set(), resourceVersion: undefined };
      state.owners.add(workKey);
      if (object.resourceVersion !== undefined) state.resourceVersion = object.resourceVersion;
      watch.objects.set(inner, state);
    }
    // Started once every object is in: a watch of one object asks for its name only.
    for (const watch of created) this.#start(watch);
    // A watch narrowed to one name that now tracks another widens to its whole scope, from
    // where it is (nothing after its resourceVersion is missed).
    for (const watch of grown) {
      if (created.has(watch) || watch.selectedName === undefined) continue;
      watch.handle?.abort();
      watch.handle = undefined;
      clearTimeout(watch.timer);
      this.#start(watch);
    }
    for (const old of this.#byWork.get(workKey) ?? []) {
      if (!next.has(old)) this.#release(workKey, old);
    }
    if (next.size > 0) this.#byWork.set(workKey, next);
    else this.#byWork.delete(workKey);
  }

  /** `workKey` tracks nothing any more. */
  untrack(workKey: string): void {
    this.track(workKey, []);
  }

  /**
   * What is watched now (for tests and logs): `group/version/resource`, then ` in <namespace>`
   * for a namespaced scope and ` name=<name>` for a watch of one object.
   */
  watched(): string[] {
    return [...this.#watches.values()].map(
      (w) =>
        `${gvrKey(w.gvr)}${w.namespace === undefined ? '' : ` in ${w.namespace}`}` +
        `${w.selectedName === undefined ? '' : ` name=${w.selectedName}`}`,
    );
  }

  stop(): void {
    this.#isStopped = true;
    for (const watch of this.#watches.values()) this.#end(watch);
    this.#watches.clear();
    this.#byWork.clear();
  }

  #release(workKey: string, tracked: string): void {
    const [key = '', inner = ''] = tracked.split('|');
    const watch = this.#watches.get(key);
    const state = watch?.objects.get(inner);
    if (watch === undefined || state === undefined) return;
    state.owners.delete(workKey);
    if (state.owners.size === 0) watch.objects.delete(inner);
    if (watch.objects.size === 0) {
      this.#end(watch);
      this.#watches.delete(key);
    }
  }

  #end(watch: GvrWatch): void {
    watch.isStopped = true;
    clearTimeout(watch.timer);
    watch.handle?.abort();
  }

  #owners(watch: GvrWatch): Set<string> {
    const owners = new Set<string>();
    for (const state of watch.objects.values()) for (const o of state.owners) owners.add(o);
    return owners;
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
        : Math.min(WATCH_RETRY_MAX_MS, WATCH_RETRY_BASE_MS * 2 ** (watch.failures - 1));
    watch.timer = setTimeout(() => this.#start(watch), delay);
    watch.timer.unref();
  }

  #start(watch: GvrWatch): void {
    if (watch.isStopped) return;
    const generation = ++watch.generation;
    const current = () => !watch.isStopped && watch.generation === generation;
    const [only] = watch.objects.size === 1 ? watch.objects.keys() : [];
    watch.selectedName = only === undefined ? undefined : only.slice(only.indexOf('/') + 1);
    const scope = {
      ...watch.gvr,
      ...(watch.namespace === undefined ? {} : { namespace: watch.namespace }),
    };
    const selector =
      watch.selectedName === undefined
        ? {}
        : { fieldSelector: `metadata.name=${watch.selectedName}` };
    // A new watch of one object starts where the controller last saw it (its own write): nothing
    // after that is missed, so neither a list nor a requeue is needed.
    const [state] = generation === 1 && only !== undefined ? watch.objects.values() : [];
    if (watch.resourceVersion === undefined && state?.resourceVersion !== undefined)
      watch.resourceVersion = state.resourceVersion;
    void (async () => {
      if (watch.resourceVersion === undefined) {
        // Start from now; whatever happened before may have been missed: requeue the owners.
        const list = await this.#options.client.list(scope, { ...selector, limit: '1' });
        if (!current()) return;
        watch.resourceVersion = metaOf(list).resourceVersion;
        const owners = this.#owners(watch);
        if (owners.size > 0) this.#options.onChange(owners);
      }
      const timeoutSeconds = WATCH_TIMEOUT_MIN_S + Math.floor(Math.random() * WATCH_TIMEOUT_MIN_S);
      watch.handle = this.#options.client.watch(
        scope,
        {
          ...selector,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(timeoutSeconds),
          ...(watch.resourceVersion === undefined
            ? {}
            : { resourceVersion: watch.resourceVersion }),
        },
        (event) => {
          if (current()) this.#onEvent(watch, event);
        },
        (err) => {
          if (current()) this.#retry(watch, err);
        },
      );
    })().catch((err: unknown) => {
      if (current()) this.#retry(watch, err);
    });
  }

  #onEvent(watch: GvrWatch, event: WatchEvent): void {
    if (watch.isStopped) return;
    watch.failures = 0;
    if (event.type === 'ERROR') {
      const code = (event.object as { code?: unknown }).code;
      // 410 Gone: the resourceVersion is too old; list again (and requeue the owners).
      watch.resourceVersion = undefined;
      watch.handle?.abort();
      this.#retry(
        watch,
        code === 410
          ? undefined
          : new Error(`watch ${gvrKey(watch.gvr)}: error event ${String(code)}`),
      );
      return;
    }
    const meta = metaOf(event.object);
    if (meta.resourceVersion !== undefined) watch.resourceVersion = meta.resourceVersion;
    if (event.type === 'BOOKMARK' || meta.name === undefined) return;
    const state = watch.objects.get(objectKey(meta.namespace, meta.name));
    if (state === undefined) return;
    // Our own write comes back with the resourceVersion the write answered: not a change.
    if (event.type !== 'DELETED' && state.resourceVersion === meta.resourceVersion) return;
    state.resourceVersion = event.type === 'DELETED' ? undefined : meta.resourceVersion;
    this.#options.onChange(new Set(state.owners));
  }
}
