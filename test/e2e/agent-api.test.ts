// The agent API against a real spoke API server: the hub (here: the test, holding a gateway
// certificate) dials `agent-api` through the tunnel, and the agent forwards with its own
// ServiceAccount token and the prefixed identity the gateway asked to impersonate. The spoke's
// own RBAC decides what that identity may do; the agent refuses what it must never forward.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { ClientRequestArgs, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect } from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';

import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import { AGENT_API_TARGET, agentCommonName } from '../../protocol/index.ts';
import type { AgentApiOptions } from '../../proxy-agent/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';

const spoke = inject('spoke1');
const spokeAddress = new URL(spoke.server).host; // 127.0.0.1:<port>
const CLUSTER = 'spoke1';
const suffix = `${Date.now().toString(36)}`;
const AGENT_SA = 'spokelink-agent';
const IMPERSONATOR_ROLE = `spokelink-agent-impersonate-${suffix}`;
const ALICE_BINDING = `spokelink-hub-alice-view-${suffix}`;

const admin = new KubeConfig();
admin.loadFromFile(spoke.kubeconfigPath);
const core = admin.makeApiClient(CoreV1Api);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);

let namespace: string;
let scratch: string;
let agentApi: AgentApiOptions;

beforeAll(async () => {
  const ns = await core.createNamespace({
    body: { metadata: { generateName: 'agent-api-' } },
  });
  namespace = ns.metadata?.name ?? '';
  // The agent's own identity on the spoke: a ServiceAccount that may impersonate, nothing else.
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: AGENT_SA } } });
  await rbac.createClusterRole({
    body: {
      metadata: { name: IMPERSONATOR_ROLE },
      rules: [
        {
          apiGroups: [''],
          resources: ['users', 'groups', 'serviceaccounts'],
          verbs: ['impersonate'],
        },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: IMPERSONATOR_ROLE },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: IMPERSONATOR_ROLE,
      },
      subjects: [{ kind: 'ServiceAccount', name: AGENT_SA, namespace }],
    },
  });
  // What the spoke grants the hub user alice (and nothing for bob).
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: ALICE_BINDING },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'spokelink:hub:alice' },
      ],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name: AGENT_SA,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  scratch = mkdtempSync(join(tmpdir(), 'spokelink-agent-api-'));
  const tokenFile = join(scratch, 'token');
  writeFileSync(tokenFile, token.status?.token ?? '', { mode: 0o600 });
  agentApi = { tokenFile, kubeApiserverCaPem: spoke.servingCaPem };
});

afterAll(async () => {
  await rbac.deleteClusterRoleBinding({ name: ALICE_BINDING }).catch(() => undefined);
  await rbac.deleteClusterRoleBinding({ name: IMPERSONATOR_ROLE }).catch(() => undefined);
  await rbac.deleteClusterRole({ name: IMPERSONATOR_ROLE }).catch(() => undefined);
  if (namespace) await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function rig(): Promise<TunnelRig> {
  return startTunnelRig({
    transport: 'grpc',
    clusters: [{ name: CLUSTER, kubeApiserver: spokeAddress, agentApi }],
  });
}

/** TLS inside the tunnel stream, as the gateway does it: the gateway cert, the agent's CN checked. */
async function dialAgentApi(r: TunnelRig): Promise<TLSSocket> {
  const pki = testPki();
  const stream = await r.client.dial(CLUSTER, `${AGENT_API_TARGET}:443`);
  const expectedCn = agentCommonName(CLUSTER, 'a0');
  return new Promise((resolve, reject) => {
    const socket = connect({
      socket: stream,
      ca: pki.ca.certPem,
      cert: pki.gateway.certPem,
      key: pki.gateway.keyPem,
      ALPNProtocols: ['http/1.1'],
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        cert.subject.CN === expectedCn
          ? undefined
          : new Error(`agent certificate CN ${cert.subject.CN}, expected ${expectedCn}`),
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/** An http.Agent (keep-alive) over agent-api connections. */
function gatewayAgent(r: TunnelRig): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  agent.createConnection = (
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | undefined => {
    dialAgentApi(r).then(
      (socket) => callback?.(null, socket),
      (err: unknown) =>
        callback?.(err instanceof Error ? err : new Error(String(err)), undefined as never),
    );
    return undefined;
  };
  onTestFinished(() => agent.destroy());
  return agent;
}

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(agent: Agent, path: string, headers: OutgoingHttpHeaders): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: AGENT_API_TARGET, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the agent API on a real spoke', () => {
  it('lists namespaces as a prefixed hub user the spoke grants view', async () => {
    const r = await rig();
    const agent = gatewayAgent(r);
    // RBAC caches need a moment to see the new binding.
    const res = await eventually(
      'alice to be allowed',
      async () => {
        const answer = await get(agent, '/api/v1/namespaces', {
          'impersonate-user': 'spokelink:hub:alice',
          accept: 'application/json',
        });
        return answer.status === 200 ? answer : undefined;
      },
      30_000,
    );
    const list = JSON.parse(res.body) as { kind: string; items: { metadata: { name: string } }[] };
    expect(list.kind).toBe('NamespaceList');
    expect(list.items.map((n) => n.metadata.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system', namespace]),
    );
    agent.destroy();
    await r.assertIdle();
  });

  it('gets a 403 from the API server for a prefixed user without RBAC', async () => {
    const r = await rig();
    const res = await get(gatewayAgent(r), '/api/v1/namespaces', {
      'impersonate-user': 'spokelink:hub:bob',
    });
    expect(res.status).toBe(403);
    const status = JSON.parse(res.body) as { reason: string; message: string; details?: unknown };
    expect(status.reason).toBe('Forbidden');
    // The API server's own wording (the agent never names resources): bob, not the agent.
    expect(status.message).toBe(
      'namespaces is forbidden: User "spokelink:hub:bob" cannot list resource "namespaces" in API group "" at the cluster scope',
    );
  });

  it.each([
    {
      name: 'an unprefixed user',
      headers: { 'impersonate-user': 'alice' },
      message:
        'impersonated user "alice" is refused: impersonated identities must start with "spokelink:hub:"',
    },
    {
      name: 'the system:masters group',
      headers: { 'impersonate-user': 'spokelink:hub:alice', 'impersonate-group': 'system:masters' },
      message: 'impersonated group "system:masters" is refused',
    },
    {
      name: 'no impersonation at all',
      headers: {},
      message: 'the agent API requires an Impersonate-User header starting with "spokelink:hub:"',
    },
  ])('is refused by the agent for $name', async ({ headers, message }) => {
    const r = await rig();
    const res = await get(gatewayAgent(r), '/api/v1/namespaces', headers);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: 'Forbidden',
      code: 403,
    });
  });

  it('streams a watch: a ConfigMap created afterwards arrives as an event', async () => {
    const r = await rig();
    // Alice's view binding is cluster-wide; wait until it is in effect before watching.
    const agent = gatewayAgent(r);
    await eventually(
      'alice to be allowed',
      async () =>
        (
          await get(agent, `/api/v1/namespaces/${namespace}/configmaps`, {
            'impersonate-user': 'spokelink:hub:alice',
          })
        ).status === 200
          ? true
          : undefined,
      30_000,
    );
    const socket = await dialAgentApi(r);
    onTestFinished(() => {
      socket.destroy();
    });
    socket.write(
      [
        `GET /api/v1/namespaces/${namespace}/configmaps?watch=1 HTTP/1.1`,
        `Host: ${AGENT_API_TARGET}`,
        'Impersonate-User: spokelink:hub:alice',
        'Accept: application/json',
        '',
        '',
      ].join('\r\n'),
    );
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    await eventually('the watch head', async () =>
      received.includes('\r\n\r\n') ? true : undefined,
    );
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'seen-through-agent-api' }, data: { a: 'b' } },
    });
    await eventually(
      'the ADDED event',
      async () =>
        /"type":"ADDED","object":\{"kind":"ConfigMap".*"name":"seen-through-agent-api"/.test(
          received,
        )
          ? true
          : undefined,
      15_000,
    );
    socket.destroy();
    agent.destroy();
    await r.assertIdle();
  });
});
