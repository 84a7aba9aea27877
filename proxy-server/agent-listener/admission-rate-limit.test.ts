// Handshake admission rate limiting over real loopback sockets: once the bucket is empty an
// agent is refused with a retryable status (RESOURCE_EXHAUSTED, or 503 with Retry-After) before
// authentication, the refusal is counted, and the next token admits again.
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';

import { SILENT_LOGGER } from '../logger.ts';
import { startProxyServer } from '../proxy-server.ts';
import type { ProxyServer } from '../proxy-server.ts';
import { connectTestAgent, expectRefusal } from '../testing/test-peers.ts';
import type { TestAgentOptions } from '../testing/test-peers.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';

const pki = createServerTestPki();
/** One token, and the next one 10 s later: the second agent of a test is refused. */
const RATE = { perSecond: 0.1, burst: 1 };
const transports = ['grpc', 'websocket'] as const;
type Transport = (typeof transports)[number];
const servers: ProxyServer[] = [];

afterAll(() => Promise.all(servers.map((s) => s.destroy())));

async function limitedServer(): Promise<ProxyServer> {
  const server = await startProxyServer({
    tls: pki.serverTls,
    logger: SILENT_LOGGER,
    agentAdmissionRate: RATE,
    listen: { frontendGrpc: false, frontendWebSocket: false, connect: false, health: false },
  });
  servers.push(server);
  return server;
}

function agentOptions(
  server: ProxyServer,
  transport: Transport,
  cluster: string,
): TestAgentOptions {
  const cert = pki.agent(cluster, 'a1');
  return {
    transport,
    address: (transport === 'grpc'
      ? server.addresses.agentGrpc
      : server.addresses.agentWebSocket) as string,
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
    agentId: `${cluster}/a1`,
  };
}

/** The refusal counter's samples (only incremented label sets are exposed). */
async function refusedCount(server: ProxyServer): Promise<string[]> {
  const text = await server.metricsText();
  return text
    .split('\n')
    .filter((l) => l.startsWith('spokelink_server_agent_handshakes_rate_limited_total{'));
}

describe.each(transports)('%s agent listener with a handshake rate limit', (transport) => {
  it('admits the burst, then refuses with a retryable status and counts it', async () => {
    const server = await limitedServer();
    const first = await connectTestAgent(agentOptions(server, transport, 'a'));
    await waitFor('the first agent', () => (server.stats().agents === 1 ? true : undefined));

    const refusal = await expectRefusal(agentOptions(server, transport, 'b'));
    // The slot reserved for it: the next token, 10 s after the first was taken.
    const pattern =
      /^proxy-server is admitting agents at its handshake rate limit; retry in (\d+) ms\n?$/;
    expect(refusal.code).toBe(transport === 'grpc' ? GrpcStatus.RESOURCE_EXHAUSTED : 503);
    expect(refusal.message).toMatch(pattern);
    const ms = Number(pattern.exec(refusal.message)?.[1]);
    expect(ms).toBeGreaterThan(9_000);
    expect(ms).toBeLessThanOrEqual(10_000);
    expect(server.stats().agents).toBe(1);
    expect(await refusedCount(server)).toEqual([
      `spokelink_server_agent_handshakes_rate_limited_total{transport="${transport}"} 1`,
    ]);
    first.session.destroy();
  });
});

describe('WebSocket rate-limit refusal, HTTP level', () => {
  it('is a 503 with Retry-After before the upgrade', async () => {
    const server = await limitedServer();
    const options = agentOptions(server, 'websocket', 'a');
    const first = await connectTestAgent(options);
    const url = new URL((server.addresses.agentWebSocket as string).replace('wss:', 'https:'));
    const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders }>(
      (resolve, reject) => {
        const req = request({
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          ca: pki.ca.certPem,
          cert: options.tls.certPem,
          key: options.tls.keyPem,
          headers: {
            Connection: 'Upgrade',
            Upgrade: 'websocket',
            'Sec-WebSocket-Version': '13',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
            agentID: 'a/a1',
          },
        });
        req.on('error', reject);
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
        });
        req.end();
      },
    );
    expect({ status: answer.status, retryAfter: answer.headers['retry-after'] }).toEqual({
      status: 503,
      retryAfter: '10',
    });
    first.session.destroy();
  });
});
