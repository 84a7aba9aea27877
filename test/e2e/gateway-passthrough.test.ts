// Spoke tokens straight through the cluster gateway, end to end: real hub and spoke control
// planes, the proxy-server with its gateway, an agent serving the agent API, and the real
// kubectl. A ServiceAccount token of the SPOKE, which the hub does not authenticate, reaches
// the spoke API server unchanged: the spoke authenticates it and its RBAC decides, with no hub
// SubjectAccessReview and no impersonation. A hub token keeps the impersonated path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import type { AgentApiOptions } from '../../proxy-agent/index.ts';
import { gatewayClusterUrl } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import type { KubectlResult } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';

const hub = inject('hub');
const spoke = inject('spoke1');
const CLUSTER = 'spoke1';
const suffix = Date.now().toString(36);
const PROXY_ROLE = `spokelink-passthrough-proxy-${suffix}`;
const AGENT_ROLE = `spokelink-passthrough-agent-${suffix}`;
const READER = 'pod-reader';

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
let emptyKubeconfig = '';
let caFile = '';
let agentApi: AgentApiOptions;
/** A token of the spoke ServiceAccount `pod-reader`, and of the hub ServiceAccount `alice`. */
const tokens = { spoke: '', hub: '' };

async function serviceAccountToken(core: CoreV1Api, namespace: string, name: string) {
  const answer = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return answer.status?.token ?? '';
}

async function createNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const created = await core.createNamespace({ body: { metadata: { generateName: prefix } } });
  return created.metadata?.name ?? '';
}

async function createPod(name: string): Promise<void> {
  await onSpoke.core.createNamespacedPod({
    namespace: spokeNamespace,
    body: {
      metadata: { name },
      spec: {
        serviceAccountName: READER,
        automountServiceAccountToken: false,
        containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }],
      },
    },
  });
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'spokelink-passthrough-'));
  // The hub: alice may use managedclusters/proxy (read and create), so her own token works
  // through the gateway on the impersonated path.
  hubNamespace = await createNamespace(onHub.core, 'passthrough-');
  await onHub.core.createNamespacedServiceAccount({
    namespace: hubNamespace,
    body: { metadata: { name: 'alice' } },
  });
  tokens.hub = await serviceAccountToken(onHub.core, hubNamespace, 'alice');
  await onHub.rbac.createClusterRole({
    body: {
      metadata: { name: PROXY_ROLE },
      rules: [
        {
          apiGroups: ['cluster.open-cluster-management.io'],
          resources: ['managedclusters/proxy'],
          verbs: ['get', 'create'],
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

  // The spoke: the agent's own identity may impersonate (and nothing else); pod-reader may
  // list and watch pods in its own namespace only; one pod to list.
  spokeNamespace = await createNamespace(onSpoke.core, 'passthrough-');
  for (const name of ['spokelink-agent', READER]) {
    await onSpoke.core.createNamespacedServiceAccount({
      namespace: spokeNamespace,
      body: { metadata: { name } },
    });
  }
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
  await onSpoke.rbac.createNamespacedRole({
    namespace: spokeNamespace,
    body: {
      metadata: { name: READER },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    },
  });
  await onSpoke.rbac.createNamespacedRoleBinding({
    namespace: spokeNamespace,
    body: {
      metadata: { name: READER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: READER },
      subjects: [{ kind: 'ServiceAccount', name: READER, namespace: spokeNamespace }],
    },
  });
  await createPod('listed-through-gateway');
  tokens.spoke = await serviceAccountToken(onSpoke.core, spokeNamespace, READER);

  const tokenFile = join(scratch, 'agent-token');
  writeFileSync(
    tokenFile,
    await serviceAccountToken(onSpoke.core, spokeNamespace, 'spokelink-agent'),
    { mode: 0o600 },
  );
  agentApi = { tokenFile, kubeApiserverCaPem: spoke.servingCaPem };
  caFile = join(scratch, 'gateway-ca.crt');
  writeFileSync(caFile, testPki().ca.certPem);
  // kubectl gets everything from flags (--server, --token, --certificate-authority).
  emptyKubeconfig = join(scratch, 'empty.kubeconfig');
  writeFileSync(emptyKubeconfig, 'apiVersion: v1\nkind: Config\n');
});

afterAll(async () => {
  await onHub.rbac.deleteClusterRoleBinding({ name: PROXY_ROLE }).catch(() => undefined);
  await onHub.rbac.deleteClusterRole({ name: PROXY_ROLE }).catch(() => undefined);
  await onSpoke.rbac.deleteClusterRoleBinding({ name: AGENT_ROLE }).catch(() => undefined);
  await onSpoke.rbac.deleteClusterRole({ name: AGENT_ROLE }).catch(() => undefined);
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

/** `kubectl --server <gateway>/clusters/spoke1 --token <token> …` */
function kubectlWithToken(r: TunnelRig, token: string, args: string[]): Promise<KubectlResult> {
  const server = gatewayClusterUrl(r.server.addresses.gateway ?? '', CLUSTER);
  return kubectl(
    hub.binaries.kubectl,
    ['--server', server, '--token', token, '--certificate-authority', caFile, ...args],
    { kubeconfig: emptyKubeconfig },
  );
}

/** The spoke's RBAC cache needs a moment to see new bindings: retry until kubectl succeeds. */
function eventuallySucceeds(r: TunnelRig, token: string, args: string[]): Promise<KubectlResult> {
  return eventually(
    `kubectl ${args.join(' ')} through the gateway`,
    async () => {
      const run = await kubectlWithToken(r, token, args);
      return run.code === 0 ? run : undefined;
    },
    30_000,
    500,
  );
}

function whoami(run: KubectlResult): string {
  return (JSON.parse(run.stdout) as { status?: { userInfo?: { username?: string } } }).status
    ?.userInfo?.username as string;
}

describe('spoke tokens through the cluster gateway', () => {
  it('lists pods where the spoke allows its ServiceAccount, and the spoke refuses elsewhere', async () => {
    const r = await rig();
    const listed = await eventuallySucceeds(r, tokens.spoke, [
      'get',
      'pods',
      '-n',
      spokeNamespace,
      '-o',
      'name',
    ]);
    expect(listed.stdout.trim().split('\n')).toEqual(['pod/listed-through-gateway']);
    // The refusal is the spoke's own: it names the spoke ServiceAccount, which the hub never
    // knew (a hub refusal would name managedclusters/proxy).
    const refused = await kubectlWithToken(r, tokens.spoke, ['get', 'pods', '-n', 'default']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `pods is forbidden: User "system:serviceaccount:${spokeNamespace}:${READER}" cannot list resource "pods" in API group "" in the namespace "default"`,
    );
    const metrics = await r.server.metricsText();
    expect(metrics).toMatch(/^spokelink_gateway_pass_through_total [1-9]\d*$/m);
    expect(metrics).toContain('spokelink_gateway_auth_failures_total{reason="forbidden"} 0');
  });

  it('is the spoke ServiceAccount on the spoke, while a hub token stays the impersonated hub user', async () => {
    const r = await rig();
    const asSpoke = await eventuallySucceeds(r, tokens.spoke, ['auth', 'whoami', '-o', 'json']);
    expect(whoami(asSpoke)).toBe(`system:serviceaccount:${spokeNamespace}:${READER}`);
    const asHub = await eventuallySucceeds(r, tokens.hub, ['auth', 'whoami', '-o', 'json']);
    expect(whoami(asHub)).toBe(`spokelink:hub:system:serviceaccount:${hubNamespace}:alice`);
  });

  it("leaves impersonation to the spoke's RBAC for the token's own identity", async () => {
    const r = await rig();
    await eventuallySucceeds(r, tokens.spoke, ['get', 'pods', '-n', spokeNamespace]);
    // The agent's own token may impersonate; it is never on a pass-through request, so the
    // spoke judges `--as` for pod-reader, which may not.
    const run = await kubectlWithToken(r, tokens.spoke, [
      'get',
      'pods',
      '-n',
      spokeNamespace,
      '--as',
      'someone-else',
    ]);
    expect(run.code).not.toBe(0);
    // With constrained impersonation (the v1.36 spoke here) the spoke words it `cannot
    // impersonate-on:user-info:list resource "pods"`, without it `cannot impersonate resource
    // "users"`: both name pod-reader, not the agent.
    expect(run.stderr).toContain(
      `User "system:serviceaccount:${spokeNamespace}:${READER}" cannot impersonate`,
    );
  });

  it("answers a token neither the hub nor the spoke knows with the spoke's 401", async () => {
    const r = await rig();
    const url = new URL(`/clusters/${CLUSTER}/api`, r.server.addresses.gateway);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        url,
        { ca: testPki().ca.certPem, headers: { authorization: 'Bearer not-a-token-of-anyone' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(401);
    // The API server's own body (the gateway's 401 messages all explain themselves).
    expect(JSON.parse(answer.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const run = await kubectlWithToken(r, 'not-a-token-of-anyone', ['get', 'ns']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('You must be logged in to the server');
  });

  it('follows a watch with the spoke token', async () => {
    const r = await rig();
    await eventuallySucceeds(r, tokens.spoke, ['get', 'pods', '-n', spokeNamespace]);
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [
        {
          name: CLUSTER,
          server: gatewayClusterUrl(r.server.addresses.gateway ?? '', CLUSTER),
          caData: Buffer.from(testPki().ca.certPem).toString('base64'),
          skipTLSVerify: false,
        },
      ],
      users: [{ name: READER, token: tokens.spoke }],
      contexts: [{ name: CLUSTER, cluster: CLUSTER, user: READER }],
      currentContext: CLUSTER,
    });
    let onAdded: () => void = () => undefined;
    let onDone: (err: unknown) => void = () => undefined;
    const seen = new Promise<void>((resolve, reject) => {
      onAdded = resolve;
      onDone = (err) =>
        reject(err instanceof Error ? err : new Error(`watch ended: ${String(err)}`));
    });
    // watch() resolves once the spoke has answered through the gateway: the watch is open.
    const controller = await new Watch(config).watch(
      `/api/v1/namespaces/${spokeNamespace}/pods`,
      {},
      (type: string, object: { metadata?: { name?: string } }) => {
        if (type === 'ADDED' && object.metadata?.name === 'watched-through-gateway') onAdded();
      },
      (err: unknown) => onDone(err),
    );
    onTestFinished(() => controller.abort());
    await createPod('watched-through-gateway');
    await expect(seen).resolves.toBeUndefined();
  });
});
