// The cluster gateway end to end: real hub and spoke control planes, the proxy-server with its
// gateway, an agent serving the agent API, and the real kubectl with the kubeconfig that
// `spokelink kubeconfig` prints. The hub decides who may reach the cluster at all (a
// SubjectAccessReview on managedclusters/proxy); the spoke decides what the prefixed identity
// may do there.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { renderKubeconfig } from '../../certs/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';
import { CLUSTER, gatewayScenario, getClusterApi } from './gateway-kit.ts';

const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));
// The hub: alice may use managedclusters/proxy, mallory may not.
const gw = gatewayScenario({
  prefix: 'gateway',
  hubUsers: ['alice', 'mallory'],
  proxyVerbs: ['get'],
});
const { hub, onSpoke, rig, hubTokens: tokens } = gw;
const ALICE_VIEW = `spokelink-gateway-alice-view-${gw.suffix}`;

beforeAll(async () => {
  // The spoke: view for hub alice.
  await onSpoke.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: ALICE_VIEW },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'User',
          name: `spokelink:hub:system:serviceaccount:${gw.hubNamespace}:alice`,
        },
      ],
    },
  });
});

afterAll(async () => {
  await onSpoke.rbac.deleteClusterRoleBinding({ name: ALICE_VIEW }).catch(() => undefined);
});

/** `spokelink kubeconfig spoke1` for a hub user holding `token`, written to a file. */
function gatewayKubeconfig(r: TunnelRig, user: string, token: string): Promise<string> {
  const hubKubeconfig = join(gw.scratch, `hub-${user}.kubeconfig`);
  writeFileSync(
    hubKubeconfig,
    renderKubeconfig({
      clusterName: 'hub',
      server: hub.server,
      caPem: hub.servingCaPem,
      userName: user,
      token,
    }),
    { mode: 0o600 },
  );
  const caFile = join(gw.scratch, 'gateway-ca.crt');
  writeFileSync(caFile, testPki().ca.certPem);
  const args = [
    BIN,
    'kubeconfig',
    CLUSTER,
    '--hub-kubeconfig',
    hubKubeconfig,
    '--gateway',
    r.server.addresses.gateway ?? '',
    '--ca',
    caFile,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`spokelink kubeconfig failed: ${stderr}`, { cause: err }));
      const path = join(gw.scratch, `${CLUSTER}-${user}.kubeconfig`);
      writeFileSync(path, stdout, { mode: 0o600 });
      resolve(path);
    });
  });
}

describe('the cluster gateway with real control planes', () => {
  it('lets a hub user with managedclusters/proxy list the spoke namespaces with kubectl', async () => {
    const r = await rig();
    const kubeconfig = await gatewayKubeconfig(r, 'alice', tokens.alice);
    // Both the hub's and the spoke's RBAC caches need a moment to see the new bindings.
    const result = await eventually(
      'kubectl get ns through the gateway',
      async () => {
        const run = await kubectl(hub.binaries.kubectl, ['get', 'ns', '-o', 'name'], {
          kubeconfig,
        });
        return run.code === 0 ? run : undefined;
      },
      30_000,
      500,
    );
    expect(result.stdout.split('\n')).toEqual(
      expect.arrayContaining(['namespace/kube-system', `namespace/${gw.spokeNamespace}`]),
    );
    // On the spoke alice is the prefixed identity, with nothing more than view (no secrets).
    const denied = await kubectl(hub.binaries.kubectl, ['get', 'secrets', '-n', 'kube-system'], {
      kubeconfig,
    });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      `User "spokelink:hub:system:serviceaccount:${gw.hubNamespace}:alice" cannot list resource "secrets" in API group "" in the namespace "kube-system"`,
    );
  });

  it('refuses a hub user without managedclusters/proxy with 403 naming the user and cluster', async () => {
    const r = await rig();
    const kubeconfig = await gatewayKubeconfig(r, 'mallory', tokens.mallory);
    // --raw: kubectl reports discovery failures as "unknown", a plain request shows the Status.
    const run = await kubectl(hub.binaries.kubectl, ['get', '--raw', '/api/v1/namespaces'], {
      kubeconfig,
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `managedclusters.cluster.open-cluster-management.io "${CLUSTER}" is forbidden: User "system:serviceaccount:${gw.hubNamespace}:mallory" cannot get resource "managedclusters/proxy" in API group "cluster.open-cluster-management.io" at the cluster scope`,
    );
    expect(r.agents.get(CLUSTER)?.[0]?.stats().openStreams).toBe(0);
  });

  it('answers 401 to a request without credentials', async () => {
    const r = await rig();
    const answer = await getClusterApi(r);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Unauthorized: send a bearer token (of the hub or of the spoke) or a client certificate from the hub',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  it('follows a watch through the gateway with @kubernetes/client-node', async () => {
    const r = await rig();
    const config = new KubeConfig();
    config.loadFromFile(await gatewayKubeconfig(r, 'alice', tokens.alice));
    // Wait until both RBAC caches allow alice, as a plain list.
    const core = config.makeApiClient(CoreV1Api);
    await eventually(
      'alice to list configmaps',
      async () =>
        (await core.listNamespacedConfigMap({ namespace: gw.spokeNamespace })) ?? undefined,
      30_000,
      500,
    );
    let onAdded: (type: string) => void = () => undefined;
    let onDone: (err: unknown) => void = () => undefined;
    const seen = new Promise<string>((resolve, reject) => {
      onAdded = resolve;
      onDone = (err) =>
        reject(err instanceof Error ? err : new Error(`watch ended: ${String(err)}`));
    });
    // watch() resolves once the API server has answered through the gateway: the watch is open.
    const controller = await new Watch(config).watch(
      `/api/v1/namespaces/${gw.spokeNamespace}/configmaps`,
      {},
      (type: string, object: { metadata?: { name?: string } }) => {
        if (type === 'ADDED' && object.metadata?.name === 'seen-through-gateway') onAdded(type);
      },
      (err: unknown) => onDone(err),
    );
    onTestFinished(() => controller.abort());
    await onSpoke.core.createNamespacedConfigMap({
      namespace: gw.spokeNamespace,
      body: { metadata: { name: 'seen-through-gateway' }, data: { a: 'b' } },
    });
    await expect(seen).resolves.toBe('ADDED');
  });
});
