// Drift watches with a fake list/watch: one watch per GVR and namespace, narrowed to the name of
// a single object, events filtered to tracked objects, the controller's own writes ignored, a
// relist (first start, 410) requeues the owners.
import { describe, expect, it } from 'vitest';

import type { JsonObject } from './apply-decision.ts';
import type { Gvr } from './resource-ref.ts';
import type { SpokeApi, WatchEvent } from './spoke-client.ts';
import { ClusterWatches } from './spoke-watches.ts';

const CONFIGMAPS: Gvr = { group: '', version: 'v1', resource: 'configmaps' };
const DEPLOYMENTS: Gvr = { group: 'apps', version: 'v1', resource: 'deployments' };
const NAMESPACES: Gvr = { group: '', version: 'v1', resource: 'namespaces' };

interface OpenWatch {
  gvr: Gvr & { namespace?: string };
  query: Record<string, string>;
  emit: (event: WatchEvent) => void;
  fail: (err: unknown) => void;
  aborted: boolean;
}

function fakeSpoke() {
  const watches: OpenWatch[] = [];
  const listQueries: Record<string, string>[] = [];
  let lists = 0;
  const client = {
    list: async (_scope: unknown, query: Record<string, string>) => {
      listQueries.push(query);
      lists++;
      return { metadata: { resourceVersion: `${100 + lists}` } };
    },
    watch: (
      gvr: Gvr,
      query: Record<string, string>,
      onEvent: OpenWatch['emit'],
      onDone: OpenWatch['fail'],
    ) => {
      const open: OpenWatch = {
        gvr,
        query,
        emit: onEvent,
        // The watch ends by itself (the server's timeout, or a failure).
        fail: (err) => {
          open.aborted = true;
          onDone(err);
        },
        aborted: false,
      };
      watches.push(open);
      return { abort: () => (open.aborted = true) };
    },
  } as unknown as SpokeApi;
  return { client, watches, listQueries, lists: () => lists };
}

function cm(name: string, resourceVersion: string, namespace = 'ns'): JsonObject {
  return { metadata: { name, namespace, resourceVersion } };
}

function setup() {
  const spoke = fakeSpoke();
  const changes: string[][] = [];
  const errors: unknown[] = [];
  const watches = new ClusterWatches({
    client: spoke.client,
    onChange: (keys) => changes.push([...keys].sort()),
    onError: (err) => errors.push(err),
  });
  const live = () => spoke.watches.filter((w) => !w.aborted);
  return { spoke, changes, errors, watches, live };
}

describe('ClusterWatches', () => {
  it('watches each GVR once: from the object it tracks, else from a listed resourceVersion, then requeues the owners', async () => {
    const f = setup();
    f.watches.track('ns1/w1', [
      { gvr: CONFIGMAPS, namespace: 'ns', name: 'a', resourceVersion: '5' },
    ]);
    f.watches.track('ns1/w2', [
      { gvr: CONFIGMAPS, namespace: 'ns', name: 'a', resourceVersion: '5' },
      { gvr: DEPLOYMENTS, namespace: 'ns', name: 'd' },
    ]);
    await expect.poll(() => f.live().length).toBe(2);
    expect(f.watches.watched().sort()).toEqual([
      '/v1/configmaps in ns name=a',
      'apps/v1/deployments in ns name=d',
    ]);
    const [configMaps, deployments] = ['configmaps', 'deployments'].map((r) =>
      f.live().find((w) => w.gvr.resource === r),
    );
    // The ConfigMap was just written at 5: its watch starts there, no list, no requeue.
    expect(configMaps?.gvr).toEqual({ ...CONFIGMAPS, namespace: 'ns' });
    expect(configMaps?.query).toMatchObject({
      allowWatchBookmarks: 'true',
      resourceVersion: '5',
      fieldSelector: 'metadata.name=a',
    });
    // The Deployment's resourceVersion is not known: list, start there, requeue its owner.
    expect(f.spoke.listQueries).toEqual([{ limit: '1', fieldSelector: 'metadata.name=d' }]);
    expect(deployments?.query).toMatchObject({ resourceVersion: '101' });
    expect(f.changes).toEqual([['ns1/w2']]);
    // Too old later (410): then it lists, whatever the object's resourceVersion was.
    configMaps?.emit({ type: 'ERROR', object: { code: 410 } });
    await expect.poll(() => f.spoke.lists()).toBe(2);
    await expect
      .poll(() => f.live().find((w) => w.gvr.resource === 'configmaps')?.query.resourceVersion)
      .toBe('102');
    f.watches.stop();
  });

  it('ignores untracked objects and its own writes; an edit or a delete requeues every owner', async () => {
    const f = setup();
    const object = { gvr: CONFIGMAPS, namespace: 'ns', name: 'a', resourceVersion: '5' };
    f.watches.track('ns1/w1', [object]);
    f.watches.track('ns1/w2', [object]);
    await expect.poll(() => f.live().length).toBe(1);
    f.changes.length = 0;
    const [watch] = f.live();
    watch?.emit({ type: 'MODIFIED', object: cm('other', '6') });
    watch?.emit({ type: 'MODIFIED', object: cm('a', '5') });
    watch?.emit({ type: 'BOOKMARK', object: cm('', '7') });
    expect(f.changes).toEqual([]);
    watch?.emit({ type: 'MODIFIED', object: cm('a', '8') });
    watch?.emit({ type: 'MODIFIED', object: cm('a', '8') });
    watch?.emit({ type: 'DELETED', object: cm('a', '9') });
    expect(f.changes).toEqual([
      ['ns1/w1', 'ns1/w2'],
      ['ns1/w1', 'ns1/w2'],
    ]);
    f.watches.stop();
  });

  it('watches per namespace, a cluster-scoped kind cluster-wide, and widens a one-name watch from where it is', async () => {
    const f = setup();
    f.watches.track('ns1/w1', [
      { gvr: NAMESPACES, name: 'team-a' },
      { gvr: CONFIGMAPS, namespace: 'team-a', name: 'a', resourceVersion: '5' },
      { gvr: CONFIGMAPS, namespace: 'team-a', name: 'b', resourceVersion: '5' },
      { gvr: CONFIGMAPS, namespace: 'team-b', name: 'a', resourceVersion: '5' },
    ]);
    await expect.poll(() => f.live().length).toBe(3);
    expect(f.watches.watched().sort()).toEqual([
      '/v1/configmaps in team-a',
      '/v1/configmaps in team-b name=a',
      '/v1/namespaces name=team-a',
    ]);
    const namespaces = f.live().find((w) => w.gvr.resource === 'namespaces');
    expect(namespaces?.gvr).toEqual(NAMESPACES);
    f.changes.length = 0;

    // A second Namespace object: the one-name watch restarts for the whole kind, from its
    // resourceVersion (101), without listing again.
    f.watches.track('ns1/w2', [{ gvr: NAMESPACES, name: 'team-c' }]);
    await expect.poll(() => f.live().length).toBe(3);
    const widened = f.live().find((w) => w.gvr.resource === 'namespaces');
    expect(widened).not.toBe(namespaces);
    expect(namespaces?.aborted).toBe(true);
    expect(widened?.query.fieldSelector).toBeUndefined();
    expect(widened?.query.resourceVersion).toBe('101');
    expect(f.watches.watched()).toContain('/v1/namespaces');
    expect(f.spoke.lists()).toBe(2); // no new list: it resumed
    widened?.emit({
      type: 'MODIFIED',
      object: { metadata: { name: 'team-c', resourceVersion: '170' } },
    });
    expect(f.changes).toEqual([['ns1/w2']]);
    f.watches.stop();
  });

  it('stops a GVR watch when no work tracks it any more', async () => {
    const f = setup();
    f.watches.track('ns1/w1', [{ gvr: CONFIGMAPS, namespace: 'ns', name: 'a' }]);
    await expect.poll(() => f.live().length).toBe(1);
    f.watches.track('ns1/w1', [{ gvr: DEPLOYMENTS, namespace: 'ns', name: 'd' }]);
    await expect.poll(() => f.live().map((w) => w.gvr.resource)).toEqual(['deployments']);
    f.watches.untrack('ns1/w1');
    expect(f.live()).toEqual([]);
    expect(f.watches.watched()).toEqual([]);
  });

  it('lists again after 410 Gone, resumes after the server ends a watch, retries a failure', async () => {
    const f = setup();
    f.watches.track('ns1/w1', [{ gvr: CONFIGMAPS, namespace: 'ns', name: 'a' }]);
    await expect.poll(() => f.live().length).toBe(1);
    f.live()[0]?.emit({ type: 'MODIFIED', object: cm('x', '150') });
    f.live()[0]?.fail(undefined); // the server's timeout: resume from the last resourceVersion
    await expect.poll(() => f.spoke.watches.length).toBe(2);
    expect(f.spoke.watches[1]?.query.resourceVersion).toBe('150');
    f.changes.length = 0;
    f.spoke.watches[1]?.emit({ type: 'ERROR', object: { code: 410 } });
    await expect.poll(() => f.spoke.lists()).toBe(2);
    await expect.poll(() => f.live().length).toBe(1);
    expect(f.changes).toEqual([['ns1/w1']]);
    f.live()[0]?.fail(new Error('tunnel lost'));
    await expect.poll(() => f.live().length, { timeout: 3_000 }).toBe(1);
    expect(f.errors).toEqual([new Error('tunnel lost')]);
    f.watches.stop();
    expect(f.live()).toEqual([]);
  });
});
