/**
 * A list-and-watch cache that keeps going: @kubernetes/client-node's informer re-watches from
 * the last resourceVersion and lists again after a 410, but stops on any other error (and a
 * failed first list rejects its start). This one starts it again after a delay, until stopped.
 */
import {
  ADD,
  CustomObjectsApi,
  DELETE,
  ERROR,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  UPDATE,
  makeInformer,
} from '@kubernetes/client-node';

/** Delay before a failed list or watch is started again, in ms. */
export const WATCH_RESTART_DELAY_MS = 2_000;

/** Options of {@link startInformer}. */
export interface InformerOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** The watch path, e.g. `/apis/certificates.k8s.io/v1/certificatesigningrequests`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  /** Adds (the first list's too), updates and deletes, in the order the API server sent them. */
  readonly onChange: (object: T, isDeleted: boolean) => void;
  /** A list or watch failed; it restarts after `restartDelayMs`. */
  readonly onError?: (err: unknown) => void;
  /** Default {@link WATCH_RESTART_DELAY_MS}. */
  readonly restartDelayMs?: number;
}

/** A running informer: its cache, when it first filled, and `stop()` (idempotent). */
export interface RunningInformer<T extends KubernetesObject> {
  /** Resolves once a first list has filled the cache (after retries; never rejects). */
  readonly synced: Promise<void>;
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  stop(): Promise<void>;
}

/** Starts an informer now; see {@link RunningInformer.synced} for when its cache is full. */
export function startInformer<T extends KubernetesObject>(
  options: InformerOptions<T>,
): RunningInformer<T> {
  const informer = makeInformer<T>(
    options.kubeConfig,
    options.path,
    options.list,
    options.labelSelector,
  );
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  const start = (): void => {
    informer.start().then(markSynced, restart);
  };
  const restart = (err: unknown): void => {
    if (isStopped) return;
    options.onError?.(err);
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!isStopped) start();
    }, options.restartDelayMs ?? WATCH_RESTART_DELAY_MS);
    timer.unref();
  };
  informer.on(ADD, (o) => options.onChange(o, false));
  informer.on(UPDATE, (o) => options.onChange(o, false));
  informer.on(DELETE, (o) => options.onChange(o, true));
  informer.on(ERROR, restart);
  start();
  return {
    synced,
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    async stop() {
      if (isStopped) return;
      isStopped = true;
      clearTimeout(timer);
      markSynced();
      await informer.stop();
    },
  };
}

/** A custom resource's collection in every namespace (or cluster-scoped). */
export interface CustomCollection {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/**
 * {@link startInformer} on a custom resource's collection: its path and list made from it (the
 * list with the same `labelSelector` as the watch, so the cache never holds objects the watch
 * would not update).
 */
export function startCustomInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  collection: CustomCollection,
  options: Omit<InformerOptions<T>, 'kubeConfig' | 'path' | 'list'>,
): RunningInformer<T> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return startInformer<T>({
    ...options,
    kubeConfig,
    path: `/apis/${collection.group}/${collection.version}/${collection.plural}`,
    list: async () =>
      (await api.listClusterCustomObject({
        ...collection,
        ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
      })) as KubernetesListObject<T>,
  });
}

/**
 * Reads through an informer's cache: `read` answers from the cache once it has synced and
 * holds the object, else (and for the first read after `invalidate`) from `live`. For caches
 * whose users write through the API server: after a write that lost to a conflict, the cache may
 * still hold the older object, so the writer invalidates it. Objects are shared: callers must
 * not change them.
 */
export interface ReadThroughCache<T> {
  readonly synced: Promise<void>;
  /** Every cached object, or undefined before the first list. */
  list(): readonly T[] | undefined;
  read(
    name: string,
    namespace: string | undefined,
    live: () => Promise<T | undefined>,
  ): Promise<T | undefined>;
  invalidate(name: string, namespace?: string): void;
  stop(): Promise<void>;
}

export function startReadThroughCache<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  collection: CustomCollection,
  options: Omit<InformerOptions<T>, 'kubeConfig' | 'path' | 'list' | 'onChange'> & {
    readonly onChange?: InformerOptions<T>['onChange'];
  } = {},
): ReadThroughCache<T> {
  const stale = new Set<string>();
  let isSynced = false;
  const informer = startCustomInformer<T>(kubeConfig, collection, {
    ...options,
    onChange: options.onChange ?? (() => undefined),
  });
  const synced = informer.synced.then(() => {
    isSynced = true;
  });
  const keyOf = (name: string, namespace?: string) => `${namespace ?? ''}/${name}`;
  return {
    synced,
    list: () => (isSynced ? informer.list() : undefined),
    async read(name, namespace, live) {
      if (isSynced && !stale.delete(keyOf(name, namespace))) {
        const cached = informer.get(name, namespace);
        if (cached !== undefined) return cached;
      }
      return live();
    },
    invalidate(name, namespace) {
      stale.add(keyOf(name, namespace));
    },
    stop: () => informer.stop(),
  };
}
