// The agent API end to end over real loopback sockets: a minimal tunnel server (built from
// protocol/) dials `agent-api:443` through a real agent, which forwards to a local HTTPS test
// peer standing where the spoke API server would be (testing/echo-upstream.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { createCa, generateKeyPair, issueCert } from '../../certs/index.ts';
import type { TunnelSessionApi } from '../../protocol/index.ts';
import type { ProxyAgentOptions } from '../options.ts';
import { startProxyAgent } from '../proxy-agent.ts';
import type { ProxyAgent } from '../proxy-agent.ts';
import { startEchoUpstream } from '../testing/echo-upstream.ts';
import type { EchoUpstream } from '../testing/echo-upstream.ts';
import {
  GatewayAgent,
  connectAgentApi,
  gatewayRequest,
  readHead,
} from '../testing/gateway-client.ts';
import type { GatewayTls } from '../testing/gateway-client.ts';
import { createTestPki, eventually, recordingLogger, unusedPort } from '../testing/helpers.ts';
import { startTestTunnelServer } from '../testing/test-tunnel-server.ts';

const pki = createTestPki('c1', 'a0');
const foreignKey = generateKeyPair();
const foreignCa = createCa({ commonName: 'not the hub', keyPair: foreignKey });
const foreignGateway = issueCert(foreignCa, {
  commonName: 'spokelink:gateway:evil',
  organizations: ['spokelink:gateways'],
  usage: 'client',
  keyPair: foreignKey,
});

const AGENT_CN = 'spokelink:agent:c1:a0';
const GATEWAY: GatewayTls = {
  caPem: pki.ca.certPem,
  certPem: pki.gateway.certPem,
  keyPem: pki.gateway.keyPem,
  agentCommonName: AGENT_CN,
};
const ALICE = { 'impersonate-user': 'spokelink:hub:alice' };

let upstream: EchoUpstream;
let tokenDir: string;

beforeAll(async () => {
  upstream = await startEchoUpstream(pki.server);
  tokenDir = mkdtempSync(join(tmpdir(), 'spokelink-agent-api-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(tokenDir, { recursive: true, force: true });
});

interface Rig {
  readonly agent: ProxyAgent & { logs: ReturnType<typeof recordingLogger> };
  readonly session: TunnelSessionApi;
  readonly tokenFile: string;
  gateway(tls?: GatewayTls): GatewayAgent;
}

let tokenFiles = 0;

async function rig(
  options: Partial<ProxyAgentOptions> = {},
  { isAgentApiOn = true } = {},
): Promise<Rig> {
  const server = await startTestTunnelServer({
    transport: 'websocket',
    serverId: 's1',
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
  });
  onTestFinished(() => server.close());
  tokenFiles += 1;
  const tokenFile = join(tokenDir, `token-${tokenFiles}`);
  writeFileSync(tokenFile, 'agent-token-1\n');
  const logger = recordingLogger();
  const agent = startProxyAgent({
    clusterName: 'c1',
    agentName: 'a0',
    servers: [server.address],
    transport: 'websocket',
    tls: { certPem: pki.agent.certPem, keyPem: pki.agent.keyPem, caPem: pki.ca.certPem },
    kubeApiserver: upstream.address,
    ...(isAgentApiOn ? { agentApi: { tokenFile, kubeApiserverCaPem: pki.ca.certPem } } : {}),
    backoff: { initialMs: 20, maxMs: 200 },
    health: false,
    logger,
    ...options,
  });
  onTestFinished(() => agent.destroy());
  await agent.ready();
  const session = await server.session();
  return {
    agent: Object.assign(agent, { logs: logger }),
    session,
    tokenFile,
    gateway(tls = GATEWAY) {
      const gatewayAgent = new GatewayAgent(() => connectAgentApi(session, tls));
      onTestFinished(() => gatewayAgent.destroy());
      return gatewayAgent;
    },
  };
}

async function expectIdle(agent: ProxyAgent): Promise<void> {
  await eventually('the agent to be idle', () => agent.stats().openStreams === 0);
}

function forbidden(message: string): unknown {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Forbidden',
    code: 403,
  };
}

describe('agent api', () => {
  it("forwards with the agent's token and the caller's impersonation, keeping connections alive", async () => {
    const r = await rig();
    const gateway = r.gateway();
    const before = upstream.requests.length;
    const connectionsBefore = upstream.connectionsAccepted;
    const headers = {
      authorization: 'Bearer hub-user-token',
      ...ALICE,
      'impersonate-group': ['spokelink:hub:team-a', 'spokelink:hub:team-b'],
      accept: 'application/json',
    };
    const first = await gatewayRequest(gateway, { path: '/echo/api/v1/namespaces', headers });
    const second = await gatewayRequest(gateway, { path: '/echo?watch=0', headers });
    expect(first.status).toBe(200);
    expect(first.headers['x-upstream']).toBe('echo');
    expect(second.status).toBe(200);
    const seen = upstream.requests.slice(before);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/echo/api/v1/namespaces' });
    expect(seen[0]?.headers).toEqual({
      authorization: ['Bearer agent-token-1'],
      'impersonate-user': ['spokelink:hub:alice'],
      'impersonate-group': ['spokelink:hub:team-a', 'spokelink:hub:team-b'],
      accept: ['application/json'],
      host: [upstream.address],
      connection: ['keep-alive'],
    });
    expect(JSON.parse(first.body)).toMatchObject({ url: '/echo/api/v1/namespaces', bodyBytes: 0 });
    // One gateway connection (one tunnel stream) and one API server connection for both.
    expect(gateway.connectionsOpened).toBe(1);
    expect(r.agent.stats().openStreams).toBe(1);
    expect(upstream.connectionsAccepted - connectionsBefore).toBe(1);
    gateway.destroy();
    await expectIdle(r.agent);
  });

  it('streams request bodies to the API server', async () => {
    const r = await rig();
    const body = Buffer.alloc(3 * 1024 * 1024, 'x');
    const res = await gatewayRequest(r.gateway(), {
      method: 'POST',
      path: '/echo',
      headers: { ...ALICE, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ method: 'POST', bodyBytes: body.length });
  });

  it.each<{ name: string; headers: Record<string, string | string[]>; message: string }>([
    {
      name: 'no Impersonate-User',
      headers: { authorization: 'Bearer x' },
      message: 'the agent API requires an Impersonate-User header starting with "spokelink:hub:"',
    },
    {
      name: 'an unprefixed user',
      headers: { 'impersonate-user': 'alice' },
      message:
        'impersonated user "alice" is refused: impersonated identities must start with "spokelink:hub:"',
    },
    {
      name: 'system:masters',
      headers: { ...ALICE, 'impersonate-group': 'system:masters' },
      message: 'impersonated group "system:masters" is refused',
    },
    {
      name: 'an unprefixed group',
      headers: { ...ALICE, 'impersonate-group': ['spokelink:hub:ok', 'admins'] },
      message:
        'impersonated group "admins" is refused: impersonated identities must start with "spokelink:hub:"',
    },
    {
      name: 'Impersonate-Uid',
      headers: { ...ALICE, 'impersonate-uid': '42' },
      message: 'header Impersonate-Uid is refused by the agent API',
    },
    {
      name: 'Impersonate-Extra-*',
      headers: { ...ALICE, 'impersonate-extra-scopes': 'all' },
      message: 'header Impersonate-Extra-Scopes is refused by the agent API',
    },
  ])('refuses $name with a 403 Status and forwards nothing', async ({ headers, message }) => {
    const r = await rig();
    const before = upstream.requests.length;
    const res = await gatewayRequest(r.gateway(), { path: '/echo', headers });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual(forbidden(message));
    expect(upstream.requests.length).toBe(before);
  });

  it.each([
    {
      name: 'an agent certificate',
      tls: { ...GATEWAY, certPem: pki.agent.certPem, keyPem: pki.agent.keyPem },
      message:
        'client certificate "spokelink:agent:c1:a0" is not in organization "spokelink:gateways"',
    },
    {
      name: 'no client certificate',
      tls: { caPem: pki.ca.certPem, agentCommonName: AGENT_CN },
      message: 'the agent API requires a client certificate issued by the hub CA',
    },
    {
      name: 'a gateway certificate from another CA',
      tls: { ...GATEWAY, certPem: foreignGateway.certPem, keyPem: foreignGateway.keyPem },
      message: 'client certificate is not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    },
  ])('refuses a caller with $name, then closes the connection', async ({ tls, message }) => {
    const r = await rig();
    const before = upstream.requests.length;
    const gateway = r.gateway(tls);
    const res = await gatewayRequest(gateway, { path: '/echo', headers: ALICE });
    expect(res.status).toBe(403);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toEqual(forbidden(message));
    expect(upstream.requests.length).toBe(before);
    await expectIdle(r.agent);
  });

  it('serves its own certificate, which a gateway verifies by CA and CN', async () => {
    const r = await rig();
    await expect(
      connectAgentApi(r.session, { ...GATEWAY, agentCommonName: 'spokelink:agent:c2:a0' }),
    ).rejects.toThrow('unexpected agent certificate CN spokelink:agent:c1:a0');
    await expect(
      connectAgentApi(r.session, { ...GATEWAY, caPem: foreignCa.certPem }),
    ).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' }); // the hub CA is not trusted
    await expectIdle(r.agent);
  });

  it('streams responses as they are written (watch)', async () => {
    const r = await rig();
    const socket = await connectAgentApi(r.session, GATEWAY);
    socket.write(
      'GET /stream HTTP/1.1\r\nHost: agent-api\r\nImpersonate-User: spokelink:hub:alice\r\n\r\n',
    );
    const { head, rest } = await readHead(socket);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.toLowerCase()).toContain('transfer-encoding: chunked');
    socket.resume();
    let received = rest.toString();
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    // The first event arrives while the API server's response is still open.
    await eventually('the first event', () => received.includes('event-1\n'));
    expect(received).not.toContain('event-2');
    upstream.release();
    await eventually('the second event', () => received.includes('event-2\n'));
    socket.destroy();
    await expectIdle(r.agent);
  });

  it('aborts the upstream request when the gateway goes away mid-response', async () => {
    const r = await rig();
    const socket = await connectAgentApi(r.session, GATEWAY);
    const aborted = upstream.abortedResponses;
    socket.write(
      'GET /hang HTTP/1.1\r\nHost: agent-api\r\nImpersonate-User: spokelink:hub:alice\r\n\r\n',
    );
    const { head } = await readHead(socket);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    socket.destroy();
    await eventually('the upstream response aborted', () => upstream.abortedResponses > aborted);
    await expectIdle(r.agent);
  });

  it('relays an upgrade (101, then bytes both ways) with the rewritten head', async () => {
    const r = await rig();
    const before = upstream.requests.length;
    const socket = await connectAgentApi(r.session, GATEWAY);
    socket.write(
      [
        'POST /upgrade HTTP/1.1',
        'Host: agent-api',
        'Connection: Upgrade',
        'Upgrade: SPDY/3.1',
        'X-Stream-Protocol-Version: v4.channel.k8s.io',
        'Authorization: Bearer hub-user-token',
        'Impersonate-User: spokelink:hub:alice',
        '',
        '',
      ].join('\r\n'),
    );
    const { head, rest } = await readHead(socket);
    expect(head.split('\r\n')).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Connection: Upgrade',
      'Upgrade: SPDY/3.1',
      'X-Stream-Protocol-Version: v4.channel.k8s.io',
    ]);
    expect(rest.length).toBe(0);
    expect(upstream.requests[before]).toMatchObject({ url: '/upgrade', isUpgrade: true });
    expect(upstream.requests[before]?.headers).toEqual({
      connection: ['Upgrade'],
      upgrade: ['SPDY/3.1'],
      'x-stream-protocol-version': ['v4.channel.k8s.io'],
      'impersonate-user': ['spokelink:hub:alice'],
      authorization: ['Bearer agent-token-1'],
      host: [upstream.address],
      'content-length': ['0'], // node's framing of a POST without a body, as Go's client sends
    });
    socket.resume();
    const echoed = new Promise<string>((resolve) =>
      socket.once('data', (d: Buffer) => resolve(d.toString())),
    );
    socket.write('spdy-frame');
    expect(await echoed).toBe('spdy-frame');
    const openBefore = upstream.openConnections;
    socket.end();
    // The gateway's end reaches the API server, whose end closes the relay and the stream.
    await eventually('the upstream connection closed', () => upstream.openConnections < openBefore);
    await expectIdle(r.agent);
  });

  it('refuses an upgrade with an unprefixed user before contacting the API server', async () => {
    const r = await rig();
    const before = upstream.requests.length;
    const socket = await connectAgentApi(r.session, GATEWAY);
    socket.write(
      'GET /upgrade HTTP/1.1\r\nHost: agent-api\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nImpersonate-User: alice\r\n\r\n',
    );
    const { head, rest } = await readHead(socket);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(head).toContain('Connection: close');
    expect(JSON.parse(rest.toString())).toMatchObject({ reason: 'Forbidden', code: 403 });
    expect(upstream.requests.length).toBe(before);
    socket.destroy();
    await expectIdle(r.agent);
  });

  it("relays the API server's refusal of an upgrade and closes the connection", async () => {
    const r = await rig();
    const socket = await connectAgentApi(r.session, GATEWAY);
    socket.write(
      'GET /upgrade-refused HTTP/1.1\r\nHost: agent-api\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nImpersonate-User: spokelink:hub:bob\r\n\r\n',
    );
    const { head, rest } = await readHead(socket);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(head.toLowerCase()).toContain('connection: close');
    socket.resume();
    let body = rest.toString();
    socket.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    await new Promise((resolve) => socket.once('end', resolve));
    expect(body).toBe('{"kind":"Status","code":403}');
    socket.destroy();
    await expectIdle(r.agent);
  });

  it('answers 503 with a Status when the API server cannot be reached', async () => {
    const r = await rig({ kubeApiserver: `127.0.0.1:${await unusedPort()}` });
    const res = await gatewayRequest(r.gateway(), { path: '/api', headers: ALICE });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({
      kind: 'Status',
      reason: 'ServiceUnavailable',
      code: 503,
      message: expect.stringMatching(
        /^the agent could not reach the API server: connect ECONNREFUSED/,
      ),
    });
  });

  it('uses the rotated token as soon as the file changes, and never logs it', async () => {
    const r = await rig();
    const gateway = r.gateway();
    writeFileSync(r.tokenFile, 'agent-token-2\n');
    await eventually('the rotated token in use', async () => {
      const before = upstream.requests.length;
      await gatewayRequest(gateway, { path: '/echo', headers: ALICE });
      return upstream.requests[before]?.headers['authorization']?.[0] === 'Bearer agent-token-2';
    });
    const logged = JSON.stringify(r.agent.logs.records, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    expect(logged).not.toMatch(/agent-token-\d/);
  });

  it('ends idle gateway connections when the agent drains', async () => {
    const r = await rig();
    const socket = await connectAgentApi(r.session, GATEWAY);
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.resume();
    const drained = r.agent.drain({ timeoutMs: 5000 });
    await ended;
    socket.end();
    await drained;
    expect(r.agent.logs.records.find((l) => l.msg === 'drain timed out')).toBeUndefined();
  });

  it('counts answers and refusals in /metrics', async () => {
    const r = await rig({ health: { port: 0 } });
    const gateway = r.gateway();
    await gatewayRequest(gateway, { path: '/echo', headers: ALICE });
    await gatewayRequest(gateway, { path: '/echo', headers: { 'impersonate-user': 'alice' } });
    await gatewayRequest(
      r.gateway({ ...GATEWAY, certPem: pki.agent.certPem, keyPem: pki.agent.keyPem }),
      {
        path: '/echo',
        headers: ALICE,
      },
    );
    const text = await eventually('the counters', async () => {
      const metrics = await (await fetch(`${r.agent.healthAddress}/metrics`)).text();
      return metrics.includes('spokelink_agent_api_requests_total{code="403"} 2')
        ? metrics
        : undefined;
    });
    expect(text).toContain('spokelink_agent_api_requests_total{code="200"} 1');
    expect(text).toContain('spokelink_agent_api_refused_total{reason="unprefixed-user"} 1');
    expect(text).toContain('spokelink_agent_api_refused_total{reason="not-a-gateway"} 1');
    // A stream that does not speak TLS is closed and counted.
    const stream = await r.session.dial('agent-api:443');
    stream.on('error', () => undefined);
    stream.end('GET / HTTP/1.1\r\nHost: agent-api\r\n\r\n');
    stream.resume();
    await eventually('the stream closed', () => stream.destroyed);
    const after = await (await fetch(`${r.agent.healthAddress}/metrics`)).text();
    expect(after).toContain('spokelink_agent_api_refused_total{reason="tls-handshake"} 1');
    expect(r.agent.logs.records).toContainEqual({
      level: 'warn',
      msg: 'agent api tls handshake failed',
      fields: { error: expect.stringMatching(/wrong version number|http request/i) },
    });
    gateway.destroy();
    await expectIdle(r.agent);
  });
});

describe('agent api off', () => {
  it('refuses agent-api dials as not-allowed', async () => {
    const r = await rig({}, { isAgentApiOn: false });
    const error = await r.session.dial('agent-api:443').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'not-allowed' });
    expect((error as Error).message).toContain(
      'target agent-api:443 is not allowed on cluster c1: the agent API is off',
    );
  });
});
