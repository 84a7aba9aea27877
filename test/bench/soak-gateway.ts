// The gateway half of the soak benchmark's churn (test/bench/soak.ts): ConfigMap requests and
// watches through the cluster gateway, with client-node and, now and then, the real kubectl.
import { execFile } from 'node:child_process';

import { CoreV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';

import { patternSlice } from './soak-kit.ts';
import {
  ByteError,
  recordError,
  type RestartWindows,
  type Tally,
  withDeadline,
} from './soak-churn.ts';

export const NAMESPACE = 'soak';
const LABEL = 'spokelink.io/soak';

/**
 * A loop of ConfigMap requests through the gateway on one cluster, as kubectl users make them
 * (the clusters may share one spoke API server: names and labels carry the cluster):
 * create (1–64 KiB of data), get (the data must come back as written), list, delete; about one
 * in twenty a real `kubectl get` instead. At most 40 ConfigMaps at a time.
 */
export class KubeWorker {
  readonly #core: CoreV1Api;
  readonly #cluster: string;
  readonly #kubectl: { binary: string; kubeconfig: string };
  readonly #written = new Map<string, string>();
  #next = 0;

  constructor(kc: KubeConfig, cluster: string, kubectl: { binary: string; kubeconfig: string }) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#cluster = cluster;
    this.#kubectl = kubectl;
  }

  async op(tally: Tally, windows: RestartWindows): Promise<void> {
    const t0 = performance.now();
    const roll = Math.random();
    const names = [...this.#written.keys()];
    const name = names[Math.floor(Math.random() * names.length)];
    let what = 'list';
    /** The ConfigMap a create or delete is about. */
    let subject = name;
    try {
      if (roll < 0.05) {
        what = 'kubectl get';
        tally.kubectl_runs++;
        await withDeadline(what, this.#kubectlGet(), () => undefined);
      } else if (name === undefined || (roll < 0.35 && names.length < 40)) {
        what = 'create';
        const created = `${this.#cluster}-${this.#next++}`;
        subject = created;
        const payload = patternSlice(this.#next, 0, 1024 + Math.floor(Math.random() * 48 * 1024));
        const value = payload.toString('base64');
        this.#written.set(created, value);
        await withDeadline(
          what,
          this.#core.createNamespacedConfigMap({
            namespace: NAMESPACE,
            body: {
              metadata: { name: created, labels: { [LABEL]: this.#cluster } },
              data: { value },
            },
          }),
          () => undefined,
        );
      } else if (roll < 0.6) {
        what = 'get';
        const cm = await withDeadline(
          what,
          this.#core.readNamespacedConfigMap({ name, namespace: NAMESPACE }),
          () => undefined,
        );
        if (cm.data?.['value'] !== this.#written.get(name))
          throw new ByteError(`ConfigMap ${name} came back with other data than written`);
      } else if (roll < 0.8) {
        await withDeadline(
          what,
          this.#core.listNamespacedConfigMap({
            namespace: NAMESPACE,
            labelSelector: `${LABEL}=${this.#cluster}`,
          }),
          () => undefined,
        );
      } else {
        what = 'delete';
        this.#written.delete(name);
        await withDeadline(
          what,
          this.#core.deleteNamespacedConfigMap({ name, namespace: NAMESPACE }),
          () => undefined,
        );
      }
      tally.kube_requests++;
    } catch (err: unknown) {
      // A create or delete a restart interrupted may or may not have happened: forget the name
      // (the next list shows what is there; nothing below relies on it).
      if ((what === 'create' || what === 'delete') && subject !== undefined)
        this.#written.delete(subject);
      recordError(tally, windows, t0, `${what} ConfigMap on ${this.#cluster}`, err);
    }
  }

  #kubectlGet(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#kubectl.binary,
        [
          '--kubeconfig',
          this.#kubectl.kubeconfig,
          'get',
          'configmaps',
          '-n',
          NAMESPACE,
          '-o',
          'name',
        ],
        { timeout: 60_000 },
        (err, _stdout, stderr) =>
          err ? reject(new Error(`kubectl: ${stderr.trim() || err.message}`)) : resolve(),
      );
    });
  }
}

/**
 * A client-node Watch on the churn namespace's ConfigMaps through the gateway, started again
 * whenever it ends. `stop()` aborts it and resolves once it has ended.
 */
export function keepWatching(
  kc: KubeConfig,
  cluster: string,
  tally: Tally,
  windows: RestartWindows,
): { stop(): Promise<void> } {
  const watch = new Watch(kc);
  let stopped = false;
  let current: AbortController | undefined;
  let ended: Promise<void> = Promise.resolve();
  const start = (): void => {
    if (stopped) return;
    const t0 = performance.now();
    tally.watch_starts++;
    let onEnd: () => void = () => undefined;
    ended = new Promise<void>((resolve) => (onEnd = resolve));
    watch
      .watch(
        `/api/v1/namespaces/${NAMESPACE}/configmaps`,
        {},
        () => {
          tally.watch_events++;
        },
        (err: unknown) => {
          onEnd();
          if (stopped) return;
          if (err !== null && err !== undefined && (err as Error).name !== 'AbortError')
            recordError(tally, windows, t0, `watch on ${cluster}`, err);
          setTimeout(start, 500);
        },
      )
      .then(
        (controller) => {
          current = controller;
          if (stopped) controller.abort();
        },
        (err: unknown) => {
          onEnd();
          if (stopped) return;
          recordError(tally, windows, t0, `watch start on ${cluster}`, err);
          setTimeout(start, 1_000);
        },
      );
  };
  start();
  return {
    async stop() {
      stopped = true;
      current?.abort();
      await Promise.race([ended, new Promise((r) => setTimeout(r, 10_000))]);
    },
  };
}
