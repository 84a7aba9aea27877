// The hub's shared caches (ManagedClusters, ManagedClusterAddOns) against the real hub API
// server: reads come from memory once synced, a label write shows at once, a status write that
// lost to a conflict makes the next read live, and the cluster watch reports new, changed-spec and deleted clusters but not
// status or label writes; a label-selected informer holds only what its selector matches.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import {
  ADDON_GROUP,
  CLUSTER_GROUP,
  hubCrds,
  type ManagedCluster,
  type ManagedClusterAddOn,
} from '../../hub/api/index.ts';
import {
  kubeAddOnStore,
  startAddOnCache,
} from '../../hub/controllers/cluster-proxy-addon/index.ts';
import {
  installCrds,
  kubeManagedClusterStore,
  startCustomInformer,
  startManagedClusterCache,
  type ManagedClusterStore,
} from '../../hub/kube/index.ts';
import { eventually } from '../framework/kubectl.ts';

const hubPlane = inject('hub');
const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const objects = hub.makeApiClient(CustomObjectsApi);
const suffix = Date.now().toString(36);
const CLUSTER = `cache-${suffix}`;
const MC = { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' };
const MCA = { group: ADDON_GROUP, version: 'v1alpha1', plural: 'managedclusteraddons' };

/** The API-backed store, counting its reads. */
function countingStore(): ManagedClusterStore & { gets: number } {
  const live = kubeManagedClusterStore(hub);
  const counting = {
    gets: 0,
    list: () => live.list(),
    get: (name: string) => {
      counting.gets++;
      return live.get(name);
    },
    replaceStatus: (c: ManagedCluster) => live.replaceStatus(c),
    patchLabels: (name: string, labels: Record<string, string | null>) =>
      live.patchLabels(name, labels),
  };
  return counting;
}

beforeAll(async () => {
  await installCrds(hub, hubCrds());
});

afterAll(async () => {
  await objects.deleteClusterCustomObject({ ...MC, name: CLUSTER }).catch(() => undefined);
});

describe('the hub caches', () => {
  it('serves ManagedClusters from memory, reads live after a lost write, and reports spec changes only', async () => {
    const live = countingStore();
    const cache = startManagedClusterCache(hub, { live });
    const changes: string[] = [];
    const watch = cache.watch(
      (name) => {
        if (name === CLUSTER) changes.push(name);
      },
      () => undefined,
    );
    try {
      await cache.synced;
      await objects.createClusterCustomObject({
        ...MC,
        body: {
          apiVersion: `${CLUSTER_GROUP}/v1`,
          kind: 'ManagedCluster',
          metadata: { name: CLUSTER },
          spec: { hubAcceptsClient: false },
        },
      });
      await eventually('the new cluster reported', async () =>
        changes.length === 1 ? true : undefined,
      );
      const cached = await cache.store.get(CLUSTER);
      expect(cached?.metadata?.name).toBe(CLUSTER);
      expect(live.gets).toBe(0);
      expect((await cache.store.list()).some((c) => c.metadata?.name === CLUSTER)).toBe(true);

      // A status write, then a label write: the cache follows, the watch says nothing.
      expect(
        await cache.store.replaceStatus({
          ...(cached as ManagedCluster),
          status: { version: { kubernetes: 'v9.9.9' } },
        }),
      ).toBe(true);
      expect(await cache.store.patchLabels(CLUSTER, { team: 'a' })).toBe(true);
      // The label shows at once, whether or not the watch has brought the write yet.
      expect((await cache.store.get(CLUSTER))?.metadata?.labels?.['team']).toBe('a');
      // The list is the cache as the watch brought it, without the label just written.
      const seen = await eventually('the cache to hold both writes', async () => {
        const c = (await cache.store.list()).find((o) => o.metadata?.name === CLUSTER);
        return c?.metadata?.labels?.['team'] === 'a' && c.status?.version?.kubernetes === 'v9.9.9'
          ? c
          : undefined;
      });
      expect(live.gets).toBe(0);

      // A write from the stale first copy conflicts; the next read is live and current.
      expect(
        await cache.store.replaceStatus({
          ...(cached as ManagedCluster),
          status: { version: { kubernetes: 'v0.0.1' } },
        }),
      ).toBe(false);
      const fresh = await cache.store.get(CLUSTER);
      expect(live.gets).toBe(1);
      expect(fresh?.metadata?.resourceVersion).toBe(seen.metadata?.resourceVersion);
      await cache.store.get(CLUSTER);
      expect(live.gets).toBe(1);

      // A spec change is reported; so is the delete.
      await objects.patchClusterCustomObject(
        { ...MC, name: CLUSTER, body: { spec: { hubAcceptsClient: true } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await eventually('the spec change reported', async () =>
        changes.length === 2 ? true : undefined,
      );
      await objects.deleteClusterCustomObject({ ...MC, name: CLUSTER });
      await eventually('the delete reported', async () =>
        changes.length === 3 ? true : undefined,
      );
      expect(await cache.store.get(CLUSTER)).toBeUndefined(); // not cached: asked live
      expect(live.gets).toBe(2);
    } finally {
      await watch.stop();
      await cache.stop();
    }
  });

  it('serves ManagedClusterAddOns from memory and asks live for one it does not hold', async () => {
    const namespace = `cache-addons-${suffix}`;
    const live = kubeAddOnStore(hub);
    let gets = 0;
    const cache = startAddOnCache(hub, {
      live: {
        ...live,
        getManagedClusterAddOn: (cluster, name) => {
          gets++;
          return live.getManagedClusterAddOn(cluster, name);
        },
      },
    });
    try {
      await cache.synced;
      expect(await cache.store.getManagedClusterAddOn(namespace, 'probe')).toBeUndefined();
      expect(gets).toBe(1);
      const created = await cache.store.createManagedClusterAddOn({
        apiVersion: `${ADDON_GROUP}/v1alpha1`,
        kind: 'ManagedClusterAddOn',
        metadata: { name: 'probe', namespace },
        spec: {},
      } as ManagedClusterAddOn);
      await eventually('the cache to hold the add-on', async () => {
        const before = gets;
        const a = await cache.store.getManagedClusterAddOn(namespace, 'probe');
        return gets === before ? a : undefined;
      });
      // A conflicting status write makes the next read live.
      expect(
        await cache.store.replaceManagedClusterAddOnStatus({
          ...created,
          metadata: { ...created.metadata, resourceVersion: '1' },
          status: {},
        }),
      ).toBe(false);
      const before = gets;
      expect((await cache.store.getManagedClusterAddOn(namespace, 'probe'))?.metadata?.uid).toBe(
        created.metadata?.uid,
      );
      expect(gets).toBe(before + 1);
    } finally {
      await cache.stop();
      await objects
        .deleteNamespacedCustomObject({ ...MCA, namespace, name: 'probe' })
        .catch(() => undefined);
      await hub
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: namespace })
        .catch(() => undefined);
    }
  });

  it('holds only the labelled objects of a label-selected informer, listed or watched', async () => {
    const label = `cache-select-${suffix}`;
    const names = [`${label}-listed`, `${label}-other`, `${label}-watched`];
    const cluster = (name: string, labelled: boolean) =>
      objects.createClusterCustomObject({
        ...MC,
        body: {
          apiVersion: `${CLUSTER_GROUP}/v1`,
          kind: 'ManagedCluster',
          metadata: { name, ...(labelled ? { labels: { [label]: 'yes' } } : {}) },
          spec: { hubAcceptsClient: true },
        },
      });
    await cluster(names[0] as string, true);
    await cluster(names[1] as string, false);
    const informer = startCustomInformer(hub, MC, {
      labelSelector: label,
      onChange: () => undefined,
    });
    const held = () =>
      informer
        .list()
        .map((c) => c.metadata?.name ?? '')
        .filter((n) => n.startsWith(label))
        .sort();
    try {
      await informer.synced;
      expect(held()).toEqual([names[0]]);
      await cluster(names[2] as string, true);
      await eventually('the watched cluster in the cache', async () =>
        held().length === 2 ? true : undefined,
      );
      expect(held()).toEqual([names[0], names[2]]);
    } finally {
      await informer.stop();
      for (const name of names)
        await objects.deleteClusterCustomObject({ ...MC, name }).catch(() => undefined);
    }
  });
});
