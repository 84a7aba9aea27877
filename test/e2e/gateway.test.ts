// The cluster gateway end to end: real hub and spoke control planes, the proxy-server with its
// gateway, an agent serving the agent API, and the real kubectl with the kubeconfig that
// `spokelink kubeconfig` prints. The hub decides who may reach the cluster at all (a
// SubjectAccessReview on managedclusters/proxy); the spoke decides what the prefixed identity
// may do there.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import { renderKubeconfig } from '../../certs/index.ts';
import type { AgentApiOptions } from '../../proxy-agent/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';

const hub = inject('hub');
const spoke = inject('spoke1');
const CLUSTER = 'spoke1';
const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));
const suffix = Date.now().toString(36);
const PROXY_ROLE = `spokelink-gateway-proxy-${suffix}`;
const AGENT_ROLE = `spokelink-gateway-agent-${suffix}`;
const ALICE_VIEW = `spokelink-gateway-alice-view-${suffix}`;

function clients(kubeconfigPath: string): { core: CoreV1Api; rbac: RbacAuthorizationV1Api } {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return {
    core: config.makeApiClient(CoreV1Api),
    rbac: config.makeApiClient(RbacAuthorizationV1Api),
  };
}

const onHub = clients(hub.kubeconfigPath);
const onSpoke = clients(spoke.kubeconfigPath);

let hubNamespace = '';
let spokeNamespace = '';
let scratch = '';
let agentApi: AgentApiOptions;
const tokens = { alice: '', mallory: '' };

async function serviceAccountToken(core: CoreV1Api, namespace: string, name: string) {
  const answer = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return answer.status?.token ?? '';
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'spokelink-gateway-'));
  // The hub: alice may use managedclusters/proxy (no CRD is needed for a subresource rule),
  // mallory may not.
  hubNamespace =
    (await onHub.core.createNamespace({ body: { metadata: { generateName: 'gateway-' } } }))
      .metadata?.name ?? '';
  for (const name of ['alice', 'mallory'] as const) {
    await onHub.core.createNamespacedServiceAccount({
      namespace: hubNamespace,
      body: { metadata: { name } },
    });
    tokens[name] = await serviceAccountToken(onHub.core, hubNamespace, name);
  }
  await onHub.rbac.createClusterRole({
    body: {
      metadata: { name: PROXY_ROLE },
      rules: [
        {
          apiGroups: ['cluster.open-cluster-management.io'],
          resources: ['managedclusters/proxy'],
          verbs: ['get'],
        },
      ],
    },
  });
  await onHub.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: PROXY_ROLE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROXY_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: 'alice', namespace: hubNamespace }],
    },
  });

  // The spoke: the agent's own identity (impersonate only), and view for hub alice.
  spokeNamespace =
    (await onSpoke.core.createNamespace({ body: { metadata: { generateName: 'gateway-' } } }))
      .metadata?.name ?? '';
  await onSpoke.core.createNamespacedServiceAccount({
    namespace: spokeNamespace,
    body: { metadata: { name: 'spokelink-agent' } },
  });
  await onSpoke.rbac.createClusterRole({
    body: {
      metadata: { name: AGENT_ROLE },
      rules: [
        {
          apiGroups: [''],
          resources: ['users', 'groups', 'serviceaccounts'],
          verbs: ['impersonate'],
        },
      ],
    },
  });
  await onSpoke.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: AGENT_ROLE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: 'spokelink-agent', namespace: spokeNamespace }],
    },
  });
  await onSpoke.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: ALICE_VIEW },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'User',
          name: `spokelink:hub:system:serviceaccount:${hubNamespace}:alice`,
        },
      ],
    },
  });
  const tokenFile = join(scratch, 'agent-token');
  writeFileSync(
    tokenFile,
    await serviceAccountToken(onSpoke.core, spokeNamespace, 'spokelink-agent'),
    { mode: 0o600 },
  );
  agentApi = { tokenFile, kubeApiserverCaPem: spoke.servingCaPem };
});

afterAll(async () => {
  await onHub.rbac.deleteClusterRoleBinding({ name: PROXY_ROLE }).catch(() => undefined);
  await onHub.rbac.deleteClusterRole({ name: PROXY_ROLE }).catch(() => undefined);
  await onSpoke.rbac.deleteClusterRoleBinding({ name: AGENT_ROLE }).catch(() => undefined);
  await onSpoke.rbac.deleteClusterRole({ name: AGENT_ROLE }).catch(() => undefined);
  await onSpoke.rbac.deleteClusterRoleBinding({ name: ALICE_VIEW }).catch(() => undefined);
  if (hubNamespace) await onHub.core.deleteNamespace({ name: hubNamespace }).catch(() => undefined);
  if (spokeNamespace)
    await onSpoke.core.deleteNamespace({ name: spokeNamespace }).catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function rig(): Promise<TunnelRig> {
  const pki = testPki();
  return startTunnelRig({
    transport: 'grpc',
    clusters: [{ name: CLUSTER, kubeApiserver: new URL(spoke.server).host, agentApi }],
    gateway: {
      hub: {
        server: hub.server,
        caPem: hub.servingCaPem,
        clientCertPem: hub.admin.certPem,
        clientKeyPem: hub.admin.keyPem,
      },
      clientCaPem: hub.clientCa.certPem,
      cert: { certPem: pki.gateway.certPem, keyPem: pki.gateway.keyPem },
    },
  });
}

/** `spokelink kubeconfig spoke1` for a hub user holding `token`, written to a file. */
function gatewayKubeconfig(r: TunnelRig, user: string, token: string): Promise<string> {
  const hubKubeconfig = join(scratch, `hub-${user}.kubeconfig`);
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
  const caFile = join(scratch, 'gateway-ca.crt');
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
      const path = join(scratch, `${CLUSTER}-${user}.kubeconfig`);
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
      expect.arrayContaining(['namespace/kube-system', `namespace/${spokeNamespace}`]),
    );
    // On the spoke alice is the prefixed identity, with nothing more than view (no secrets).
    const denied = await kubectl(hub.binaries.kubectl, ['get', 'secrets', '-n', 'kube-system'], {
      kubeconfig,
    });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      `User "spokelink:hub:system:serviceaccount:${hubNamespace}:alice" cannot list resource "secrets" in API group "" in the namespace "kube-system"`,
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
      `managedclusters.cluster.open-cluster-management.io "${CLUSTER}" is forbidden: User "system:serviceaccount:${hubNamespace}:mallory" cannot get resource "managedclusters/proxy" in API group "cluster.open-cluster-management.io" at the cluster scope`,
    );
    expect(r.agents.get(CLUSTER)?.[0]?.stats().openStreams).toBe(0);
  });

  it('answers 401 to a request without credentials', async () => {
    const r = await rig();
    const url = new URL(`/clusters/${CLUSTER}/api`, r.server.addresses.gateway);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { ca: testPki().ca.certPem }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
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
      async () => (await core.listNamespacedConfigMap({ namespace: spokeNamespace })) ?? undefined,
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
      `/api/v1/namespaces/${spokeNamespace}/configmaps`,
      {},
      (type: string, object: { metadata?: { name?: string } }) => {
        if (type === 'ADDED' && object.metadata?.name === 'seen-through-gateway') onAdded(type);
      },
      (err: unknown) => onDone(err),
    );
    onTestFinished(() => controller.abort());
    await onSpoke.core.createNamespacedConfigMap({
      namespace: spokeNamespace,
      body: { metadata: { name: 'seen-through-gateway' }, data: { a: 'b' } },
    });
    await expect(seen).resolves.toBe('ADDED');
  });
});
