// Spoke tokens straight through the cluster gateway, end to end: real hub and spoke control
// planes, the proxy-server with its gateway, an agent serving the agent API, and the real
// kubectl. A ServiceAccount token of the SPOKE, which the hub does not authenticate, reaches
// the spoke API server unchanged: the spoke authenticates it and its RBAC decides, with no hub
// SubjectAccessReview and no impersonation. A hub token keeps the impersonated path.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { KubeConfig, Watch } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { gatewayClusterUrl } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import type { KubectlResult } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';
import { CLUSTER, gatewayScenario, getClusterApi, serviceAccountToken } from './gateway-kit.ts';

const READER = 'pod-reader';
// The hub: alice may use managedclusters/proxy (read and create), so her own token works
// through the gateway on the impersonated path.
const gw = gatewayScenario({
  prefix: 'passthrough',
  hubUsers: ['alice'],
  proxyVerbs: ['get', 'create'],
});
const { hub, onSpoke, rig, hubTokens } = gw;

let emptyKubeconfig = '';
let caFile = '';
/** A token of the spoke ServiceAccount `pod-reader` (the hub ServiceAccount alice's is the kit's). */
const tokens = { spoke: '' };

async function createPod(name: string): Promise<void> {
  await onSpoke.core.createNamespacedPod({
    namespace: gw.spokeNamespace,
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
  // The spoke: pod-reader may list and watch pods in its own namespace only; one pod to list.
  await onSpoke.core.createNamespacedServiceAccount({
    namespace: gw.spokeNamespace,
    body: { metadata: { name: READER } },
  });
  await onSpoke.rbac.createNamespacedRole({
    namespace: gw.spokeNamespace,
    body: {
      metadata: { name: READER },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    },
  });
  await onSpoke.rbac.createNamespacedRoleBinding({
    namespace: gw.spokeNamespace,
    body: {
      metadata: { name: READER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: READER },
      subjects: [{ kind: 'ServiceAccount', name: READER, namespace: gw.spokeNamespace }],
    },
  });
  await createPod('listed-through-gateway');
  tokens.spoke = await serviceAccountToken(onSpoke.core, gw.spokeNamespace, READER);

  caFile = join(gw.scratch, 'gateway-ca.crt');
  writeFileSync(caFile, testPki().ca.certPem);
  // kubectl gets everything from flags (--server, --token, --certificate-authority).
  emptyKubeconfig = join(gw.scratch, 'empty.kubeconfig');
  writeFileSync(emptyKubeconfig, 'apiVersion: v1\nkind: Config\n');
});

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
      gw.spokeNamespace,
      '-o',
      'name',
    ]);
    expect(listed.stdout.trim().split('\n')).toEqual(['pod/listed-through-gateway']);
    // The refusal is the spoke's own: it names the spoke ServiceAccount, which the hub never
    // knew (a hub refusal would name managedclusters/proxy).
    const refused = await kubectlWithToken(r, tokens.spoke, ['get', 'pods', '-n', 'default']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `pods is forbidden: User "system:serviceaccount:${gw.spokeNamespace}:${READER}" cannot list resource "pods" in API group "" in the namespace "default"`,
    );
    const metrics = await r.server.metricsText();
    expect(metrics).toMatch(/^spokelink_gateway_pass_through_total [1-9]\d*$/m);
    expect(metrics).toContain('spokelink_gateway_auth_failures_total{reason="forbidden"} 0');
  });

  it('is the spoke ServiceAccount on the spoke, while a hub token stays the impersonated hub user', async () => {
    const r = await rig();
    const asSpoke = await eventuallySucceeds(r, tokens.spoke, ['auth', 'whoami', '-o', 'json']);
    expect(whoami(asSpoke)).toBe(`system:serviceaccount:${gw.spokeNamespace}:${READER}`);
    const asHub = await eventuallySucceeds(r, hubTokens.alice, ['auth', 'whoami', '-o', 'json']);
    expect(whoami(asHub)).toBe(`spokelink:hub:system:serviceaccount:${gw.hubNamespace}:alice`);
  });

  it("leaves impersonation to the spoke's RBAC for the token's own identity", async () => {
    const r = await rig();
    await eventuallySucceeds(r, tokens.spoke, ['get', 'pods', '-n', gw.spokeNamespace]);
    // The agent's own token may impersonate; it is never on a pass-through request, so the
    // spoke judges `--as` for pod-reader, which may not.
    const run = await kubectlWithToken(r, tokens.spoke, [
      'get',
      'pods',
      '-n',
      gw.spokeNamespace,
      '--as',
      'someone-else',
    ]);
    expect(run.code).not.toBe(0);
    // With constrained impersonation (the v1.36 spoke here) the spoke words it `cannot
    // impersonate-on:user-info:list resource "pods"`, without it `cannot impersonate resource
    // "users"`: both name pod-reader, not the agent.
    expect(run.stderr).toContain(
      `User "system:serviceaccount:${gw.spokeNamespace}:${READER}" cannot impersonate`,
    );
  });

  it("answers a token neither the hub nor the spoke knows with the spoke's 401", async () => {
    const r = await rig();
    const answer = await getClusterApi(r, {
      headers: { authorization: 'Bearer not-a-token-of-anyone' },
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
    await eventuallySucceeds(r, tokens.spoke, ['get', 'pods', '-n', gw.spokeNamespace]);
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
      `/api/v1/namespaces/${gw.spokeNamespace}/pods`,
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
