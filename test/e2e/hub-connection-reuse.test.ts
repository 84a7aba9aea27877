// reuseConnections on the real hub API server: calls through the wrapped KubeConfig share
// keep-alive connections instead of opening one per call (client-node v2's default). A TCP
// relay on loopback in front of the API server counts the connections; TLS is end to end.
import { createServer, connect, type Server, type Socket } from 'node:net';

import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { reuseConnections } from '../../hub/kube/index.ts';

const hubPlane = inject('hub');

let relay: Server;
let accepted = 0;
const sockets = new Set<Socket>();
let relayed: KubeConfig;

beforeAll(async () => {
  const target = new URL(hubPlane.server);
  relay = createServer((client) => {
    accepted++;
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const port = (relay.address() as { port: number }).port;
  relayed = new KubeConfig();
  relayed.loadFromFile(hubPlane.kubeconfigPath);
  const cluster = relayed.getCurrentCluster();
  if (cluster === null) throw new Error('the hub kubeconfig has no current cluster');
  // The API server's certificate names 127.0.0.1, so TLS verifies through the relay.
  relayed.clusters = relayed.clusters.map((c) =>
    c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${port}` } : c,
  );
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => relay.close(() => resolve()));
});

describe('reuseConnections', () => {
  it('makes sequential calls over one connection, and concurrent ones over a few', async () => {
    const reusing = reuseConnections(relayed);
    try {
      const core = reusing.kubeConfig.makeApiClient(CoreV1Api);
      const before = accepted;
      for (let i = 0; i < 10; i++) {
        const list = await core.listNamespace();
        expect(list.items.map((n) => n.metadata?.name)).toContain('kube-system');
      }
      expect(accepted - before).toBe(1);
      await Promise.all(Array.from({ length: 5 }, () => core.listNamespace()));
      expect(accepted - before).toBeLessThanOrEqual(5);
      expect(reusing.agents()).toBe(1);
    } finally {
      await reusing.close();
    }
  });

  it('opens a connection per call without it (why it exists)', async () => {
    const core = relayed.makeApiClient(CoreV1Api);
    const before = accepted;
    for (let i = 0; i < 3; i++) await core.listNamespace();
    // If client-node starts pooling by itself this fails, and reuseConnections can go.
    expect(accepted - before).toBe(3);
  });

  it('carries a watch, and the credentials still come from the wrapped config', async () => {
    const reusing = reuseConnections(relayed);
    try {
      const name = `reuse-${Date.now().toString(36)}`;
      const seen: string[] = [];
      const watch = await new Watch(reusing.kubeConfig).watch(
        '/api/v1/namespaces',
        { fieldSelector: `metadata.name=${name}` },
        (phase: string) => seen.push(phase),
        () => undefined,
      );
      const core = reusing.kubeConfig.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name } } });
      await expect.poll(() => seen).toContain('ADDED');
      watch.abort();
      await core.deleteNamespace({ name });
      // The wrapped config's other state reads through: same current context and user.
      expect(reusing.kubeConfig.getCurrentUser()?.name).toBe(relayed.getCurrentUser()?.name);
    } finally {
      await reusing.close();
    }
  });

  it('close() does not wait for a watch nobody aborted: it ends it', async () => {
    const reusing = reuseConnections(relayed);
    let ended: unknown = 'running';
    await new Watch(reusing.kubeConfig).watch(
      '/api/v1/namespaces',
      {},
      () => undefined,
      (err: unknown) => (ended = err ?? null),
    );
    await reusing.close();
    await expect.poll(() => ended).not.toBe('running');
  });
});
