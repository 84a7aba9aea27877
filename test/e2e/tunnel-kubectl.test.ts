// A spoke's real API server reached only through the tunnel: kubectl over the HTTP CONNECT
// frontend (proxy-url), and @kubernetes/client-node through the programmatic client.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { describe, expect, inject, it, onTestFinished } from 'vitest';

import { renderKubeconfig } from '../../certs/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';

const spoke = inject('spoke1');
const spokeAddress = new URL(spoke.server).host; // 127.0.0.1:<port>

function scratchFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'spokelink-e2e-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('a spoke API server through the tunnel', () => {
  it('answers kubectl through the HTTP CONNECT frontend (proxy-url), by cluster name', async () => {
    const rig = await startTunnelRig({
      transport: 'grpc',
      clusters: [{ name: 'spoke1', kubeApiserver: spokeAddress }],
    });
    const connect = rig.server.addresses.connect;
    if (!connect) throw new Error('no CONNECT frontend');
    // kubectl asks the proxy for spoke1:443; the server routes by cluster name (ANP destHost) and
    // the agent maps its own cluster name to its API server. TLS is end to end with the spoke's
    // CA and credentials; the certificate is checked against one of its real names.
    const kubeconfig = scratchFile(
      'spoke1-via-tunnel.kubeconfig',
      renderKubeconfig({
        clusterName: 'spoke1',
        server: 'https://spoke1:443',
        proxyUrl: connect,
        tlsServerName: 'kubernetes.default.svc',
        caPem: spoke.servingCaPem,
        userName: 'spoke1-admin',
        clientCertPem: spoke.admin.certPem,
        clientKeyPem: spoke.admin.keyPem,
      }),
    );
    const res = await kubectl(spoke.binaries.kubectl, ['get', 'namespaces', '-o', 'name'], {
      kubeconfig,
    });
    expect(res.stderr).toBe('');
    expect(res.stdout.split('\n')).toEqual(
      expect.arrayContaining(['namespace/default', 'namespace/kube-system']),
    );
    const create = await kubectl(
      spoke.binaries.kubectl,
      ['create', 'namespace', 'made-through-tunnel'],
      { kubeconfig },
    );
    expect(create.stdout.trim()).toBe('namespace/made-through-tunnel created');
    const direct = await kubectl(
      spoke.binaries.kubectl,
      ['get', 'namespace', 'made-through-tunnel', '-o', 'name'],
      { kubeconfig: spoke.kubeconfigPath },
    );
    expect(direct.stdout.trim()).toBe('namespace/made-through-tunnel');
    await kubectl(
      spoke.binaries.kubectl,
      ['delete', 'namespace', 'made-through-tunnel', '--wait=false'],
      { kubeconfig: spoke.kubeconfigPath },
    );
  });

  it('serves @kubernetes/client-node lists and watches through the programmatic client', async () => {
    const rig = await startTunnelRig({
      transport: 'websocket',
      clusters: [{ name: 'spoke1', kubeApiserver: spokeAddress }],
    });
    const base = new KubeConfig();
    base.loadFromFile(spoke.kubeconfigPath);
    const kc = rig.client.kubeConfig('spoke1', base);
    onTestFinished(() => kc.close());
    const core = kc.makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system']),
    );

    // A watch through the tunnel sees an object created directly on the spoke.
    const namespace = `watch-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    onTestFinished(async () => {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    });
    const seen: string[] = [];
    const request = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (type: string, obj: { metadata?: { name?: string } }) =>
        seen.push(`${type} ${obj.metadata?.name}`),
      () => {},
    );
    onTestFinished(() => request.abort());
    const direct = new KubeConfig();
    direct.loadFromFile(spoke.kubeconfigPath);
    await direct.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'seen-through-tunnel' } },
    });
    await eventually(
      'the watch event',
      async () => (seen.includes('ADDED seen-through-tunnel') ? true : undefined),
      15_000,
    );
  });
});
