// Pass-through requests on the agent API over real loopback sockets: the gateway marks a
// request that carries a caller's own spoke token, and the agent forwards that token unchanged
// with the caller's impersonation, never its own token (testing/echo-upstream.ts stands where
// the spoke API server would and records what it received).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

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
import { createTestPki, eventually, recordingLogger } from '../testing/helpers.ts';
import { startTestTunnelServer } from '../testing/test-tunnel-server.ts';

const pki = createTestPki('c1', 'a0');
const GATEWAY: GatewayTls = {
  caPem: pki.ca.certPem,
  certPem: pki.gateway.certPem,
  keyPem: pki.gateway.keyPem,
  agentCommonName: 'spokelink:agent:c1:a0',
};
const PASS_THROUGH = { 'spokelink-pass-through': 'spoke-token' };

let upstream: EchoUpstream;
let tokenDir: string;

beforeAll(async () => {
  upstream = await startEchoUpstream(pki.server);
  tokenDir = mkdtempSync(join(tmpdir(), 'spokelink-agent-api-pt-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(tokenDir, { recursive: true, force: true });
});

interface Rig {
  readonly agent: ProxyAgent & { logs: ReturnType<typeof recordingLogger> };
  readonly gateway: GatewayAgent;
  readonly connect: () => ReturnType<typeof connectAgentApi>;
}

async function rig(options: { health?: { port: number } } = {}): Promise<Rig> {
  const server = await startTestTunnelServer({
    transport: 'websocket',
    serverId: 's1',
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
  });
  onTestFinished(() => server.close());
  const tokenFile = join(tokenDir, `token-${Math.random().toString(36).slice(2)}`);
  writeFileSync(tokenFile, 'agent-own-token\n');
  const logger = recordingLogger();
  const agent = startProxyAgent({
    clusterName: 'c1',
    agentName: 'a0',
    servers: [server.address],
    transport: 'websocket',
    tls: { certPem: pki.agent.certPem, keyPem: pki.agent.keyPem, caPem: pki.ca.certPem },
    kubeApiserver: upstream.address,
    agentApi: { tokenFile, kubeApiserverCaPem: pki.ca.certPem },
    backoff: { initialMs: 20, maxMs: 200 },
    health: options.health ?? false,
    logger,
  });
  onTestFinished(() => agent.destroy());
  await agent.ready();
  const session = await server.session();
  const gateway = new GatewayAgent(() => connectAgentApi(session, GATEWAY));
  onTestFinished(() => gateway.destroy());
  return {
    agent: Object.assign(agent, { logs: logger }),
    gateway,
    connect: () => connectAgentApi(session, GATEWAY),
  };
}

describe('agent api pass-through', () => {
  it("forwards the caller's token and impersonation unchanged, never the agent's token", async () => {
    const r = await rig();
    const before = upstream.requests.length;
    const res = await gatewayRequest(r.gateway, {
      path: '/echo/api/v1/namespaces/ns/pods',
      headers: {
        ...PASS_THROUGH,
        authorization: 'Bearer spoke-sa-token',
        // Not prefixed: on this path the spoke decides impersonation for the token's identity.
        'impersonate-user': 'system:serviceaccount:ns:other',
        'impersonate-group': ['team-a', 'team-b'],
        accept: 'application/json',
      },
    });
    expect(res.status).toBe(200);
    expect(upstream.requests.slice(before)).toHaveLength(1);
    expect(upstream.requests[before]?.headers).toEqual({
      authorization: ['Bearer spoke-sa-token'],
      'impersonate-user': ['system:serviceaccount:ns:other'],
      'impersonate-group': ['team-a', 'team-b'],
      accept: ['application/json'],
      host: [upstream.address],
      connection: ['keep-alive'],
    });
    // The next impersonated request on the same connections still gets the agent's token.
    await gatewayRequest(r.gateway, {
      path: '/echo',
      headers: { 'impersonate-user': 'spokelink:hub:alice' },
    });
    expect(upstream.requests[before + 1]?.headers['authorization']).toEqual([
      'Bearer agent-own-token',
    ]);
    const logged = JSON.stringify(r.agent.logs.records, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    expect(logged).not.toContain('spoke-sa-token');
    expect(logged).not.toContain('agent-own-token');
  });

  it.each<{ name: string; headers: Record<string, string | string[]>; message: string }>([
    {
      name: 'without Authorization',
      headers: { ...PASS_THROUGH, 'impersonate-user': 'spokelink:hub:alice' },
      message:
        "a pass-through request must carry exactly one Authorization header: the caller's own credential",
    },
    {
      name: 'with a marker of another value',
      headers: { 'spokelink-pass-through': 'yes', authorization: 'Bearer spoke-sa-token' },
      message: 'header Spokelink-Pass-Through must be sent once, as "spoke-token"',
    },
  ])('refuses a pass-through $name and forwards nothing', async ({ headers, message }) => {
    const r = await rig();
    const before = upstream.requests.length;
    const res = await gatewayRequest(r.gateway, { path: '/echo', headers });
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
    expect(upstream.requests.length).toBe(before);
  });

  it("relays a pass-through upgrade with the caller's token", async () => {
    const r = await rig();
    const before = upstream.requests.length;
    const socket = await r.connect();
    socket.write(
      [
        'POST /upgrade HTTP/1.1',
        'Host: agent-api',
        'Connection: Upgrade',
        'Upgrade: SPDY/3.1',
        'Authorization: Bearer spoke-sa-token',
        'Spokelink-Pass-Through: spoke-token',
        '',
        '',
      ].join('\r\n'),
    );
    const { head } = await readHead(socket);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(upstream.requests[before]).toMatchObject({ url: '/upgrade', isUpgrade: true });
    expect(upstream.requests[before]?.headers).toEqual({
      connection: ['Upgrade'],
      upgrade: ['SPDY/3.1'],
      authorization: ['Bearer spoke-sa-token'],
      host: [upstream.address],
      'content-length': ['0'],
    });
    socket.resume();
    const echoed = new Promise<string>((resolve) =>
      socket.once('data', (d: Buffer) => resolve(d.toString())),
    );
    socket.write('frame');
    expect(await echoed).toBe('frame');
    socket.destroy();
    await eventually('the agent to be idle', () => r.agent.stats().openStreams === 0);
  });

  it('counts a refused pass-through under its reason', async () => {
    const r = await rig({ health: { port: 0 } });
    await gatewayRequest(r.gateway, { path: '/echo', headers: PASS_THROUGH });
    const text = await eventually('the counter', async () => {
      const metrics = await (await fetch(`${r.agent.healthAddress}/metrics`)).text();
      return metrics.includes('spokelink_agent_api_refused_total{reason="invalid-pass-through"} 1')
        ? metrics
        : undefined;
    });
    expect(text).toContain('spokelink_agent_api_requests_total{code="403"} 1');
  });
});
