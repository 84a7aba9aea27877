// The per-cluster keep-alive pool of agent-api connections, over real loopback sockets: a
// TCP connection stands in for the tunnel stream, a small TLS server for the agent API.
import { once } from 'node:events';
import { request } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer } from 'node:net';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { describe, expect, it, onTestFinished } from 'vitest';

import { generateKeyPair, issueCert } from '../../certs/index.ts';
import {
  AGENT_ORGANIZATION,
  GATEWAY_ORGANIZATION,
  ProtocolError,
  agentCommonName,
} from '../../protocol/index.ts';
import type { TunnelStreamApi } from '../../protocol/index.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';
import { AgentApiPool, AgentIdentityError } from './agent-api-pool.ts';

const keyPair = generateKeyPair();
const pki = createServerTestPki('agent-api-pool-test-ca', keyPair);
const gatewayCert = issueCert(pki.ca, {
  commonName: 'spokelink:gateway:test',
  organizations: [GATEWAY_ORGANIZATION],
  usage: 'client',
  keyPair,
});
const c1Cert = issueCert(pki.ca, {
  commonName: agentCommonName('c1', 'a0'),
  organizations: [AGENT_ORGANIZATION],
  usage: 'server-client',
  keyPair,
});

/** An agent API on a loopback port; `dial` connects to it as if through the tunnel. */
async function agentApi(): Promise<{
  port: number;
  connections: () => number;
  resumed: () => number;
}> {
  let connections = 0;
  let resumed = 0;
  const https = createHttpsServer({
    cert: c1Cert.certPem,
    key: c1Cert.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  https.on('request', (_req, res) => res.end('ok'));
  https.on('secureConnection', (socket: TLSSocket) => {
    if (socket.isSessionReused()) resumed += 1;
  });
  const tcp = createNetServer((socket) => {
    connections += 1;
    https.emit('connection', socket);
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  onTestFinished(() => {
    tcp.close();
    https.closeAllConnections();
  });
  const address = tcp.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    connections: () => connections,
    resumed: () => resumed,
  };
}

function pool(port: number, idleCloseMs = 60_000): AgentApiPool {
  const created = new AgentApiPool({
    dial: async (cluster) => {
      if (cluster === 'gone')
        throw new ProtocolError('PROTO_ERR_DIAL_FAILED', 'no agent', { reason: 'no-agent' });
      const socket: Socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      return socket as unknown as TunnelStreamApi;
    },
    caPem: pki.ca.certPem,
    cert: gatewayCert,
    idleCloseMs,
  });
  onTestFinished(() => created.destroy());
  return created;
}

function get(target: AgentApiPool, cluster: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent: target.agentFor(cluster), host: 'agent-api', port: 443, path: '/', timeout: 0 },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('AgentApiPool', () => {
  it('reuses one connection, closes it when idle and then drops the cluster', async () => {
    const api = await agentApi();
    const target = pool(api.port, 200);
    expect(await get(target, 'c1')).toBe('ok');
    expect(await get(target, 'c1')).toBe('ok');
    expect(api.connections()).toBe(1);
    expect(target.openConnections).toBe(1);
    await waitFor('the idle connection to close', () =>
      target.openConnections === 0 && target.clusters === 0 ? true : undefined,
    );
  });

  it("refuses an agent whose certificate is another cluster's", async () => {
    const api = await agentApi();
    const target = pool(api.port);
    const err = await get(target, 'c2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentIdentityError);
    expect((err as Error).message).toBe(
      'the agent API of cluster "c2" presented a certificate for "spokelink:agent:c1:a0", not an agent of "c2"',
    );
    await waitFor('the pool to be dropped', () => (target.clusters === 0 ? true : undefined));
  });

  it("resumes a cluster's TLS session on a new connection, and never offers it to another cluster", async () => {
    const api = await agentApi();
    const target = pool(api.port, 200);
    expect(await get(target, 'c1')).toBe('ok');
    await waitFor('the idle connection to close', () =>
      target.openConnections === 0 ? true : undefined,
    );
    expect(await get(target, 'c1')).toBe('ok');
    expect(api.connections()).toBe(2);
    expect(api.resumed()).toBe(1);
    // The same agent answers for "c2": c1's session would skip the check; it is not offered.
    const err = await get(target, 'c2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentIdentityError);
    expect(api.resumed()).toBe(1);
  });

  it('passes a failed dial on as is and keeps no pool for it', async () => {
    const api = await agentApi();
    const target = pool(api.port);
    const err = await get(target, 'gone').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'no-agent' });
    await waitFor('the pool to be dropped', () => (target.clusters === 0 ? true : undefined));
  });
});
