/**
 * A @kubernetes/client-node informer that keeps going: the library's informer stops on a
 * watch error, so this one restarts it after a delay (list, then watch again) until stopped.
 */
import {
  ADD,
  DELETE,
  ERROR,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  UPDATE,
  makeInformer,
} from '@kubernetes/client-node';

/** Options of {@link startInformer}. */
export interface InformerOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** The watch path, e.g. `/apis/certificates.k8s.io/v1/certificatesigningrequests`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  /** Called for adds, updates and deletes (`isDeleted`), in the order the watch saw them. */
  readonly onChange: (object: T, isDeleted: boolean) => void;
  readonly onError?: (err: unknown) => void;
  /** Delay before a restart after an error; default 2 s. */
  readonly restartDelayMs?: number;
}

/** A running informer: a cache of the objects and `stop()`. */
export interface RunningInformer<T extends KubernetesObject> {
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  stop(): Promise<void>;
}

/** Starts an informer; resolves once the first list has filled the cache. */
export async function startInformer<T extends KubernetesObject>(
  options: InformerOptions<T>,
): Promise<RunningInformer<T>> {
  const informer = makeInformer<T>(
    options.kubeConfig,
    options.path,
    options.list,
    options.labelSelector,
  );
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  informer.on(ADD, (o) => options.onChange(o, false));
  informer.on(UPDATE, (o) => options.onChange(o, false));
  informer.on(DELETE, (o) => options.onChange(o, true));
  informer.on(ERROR, (err: unknown) => {
    if (isStopped) return;
    options.onError?.(err);
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!isStopped) informer.start().catch((e: unknown) => options.onError?.(e));
    }, options.restartDelayMs ?? 2_000);
    timer.unref();
  });
  await informer.start();
  return {
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    async stop() {
      isStopped = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}
