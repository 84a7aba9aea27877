/**
 * The cluster gateway's test rig, over real loopback sockets: a proxy-server with the gateway
 * on, a fake hub API server answering TokenReview/SubjectAccessReview, and a test agent serving
 * a minimal agent API on `agent-api` dials; plus HTTPS and raw-TLS callers. Certificates are
 * made once per test file (at import), from one CA and one key.
 */
import { Buffer } from 'node:buffer';
import { request } from 'node:https';
import type { Agent } from 'node:https';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';

import { onTestFinished } from 'vitest';

import { createCa, generateKeyPair, issueCert } from '../../../certs/index.ts';
import {
  AGENT_ORGANIZATION,
  GATEWAY_ORGANIZATION,
  agentCommonName,
} from '../../../protocol/index.ts';
import { SILENT_LOGGER } from '../../logger.ts';
import { startProxyServer } from '../../proxy-server.ts';
import type { ProxyServer } from '../../proxy-server.ts';
import { connectTestAgent } from '../../testing/test-peers.ts';
import { createServerTestPki } from '../../testing/test-pki.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { fakeAgentApi, startFakeHub } from './gateway-peers.ts';
import type { FakeAgentApi, FakeHub } from './gateway-peers.ts';

const keyPair = generateKeyPair();
const pki = createServerTestPki('gateway-test-hub-ca', keyPair);
/** The hub API server's client CA (not the hub CA of the tunnel). */
export const clientCa = createCa({ commonName: 'gateway-test-hub-client-ca', keyPair });
const gatewayCert = issueCert(pki.ca, {
  commonName: 'spokelink:gateway:test',
  organizations: [GATEWAY_ORGANIZATION],
  usage: 'client',
  keyPair,
});
export const agentApiCerts = new Map(
  ['c1', 'c2'].map((cluster) => [
    cluster,
    issueCert(pki.ca, {
      commonName: agentCommonName(cluster, 'a0'),
      organizations: [AGENT_ORGANIZATION],
      usage: 'server-client',
      keyPair,
    }),
  ]),
);
export const carol = issueCert(clientCa, {
  commonName: 'carol',
  organizations: ['devs', 'system:masters'],
  usage: 'client',
  keyPair,
});
/** From the tunnel's hub CA, not from the hub API server's client CA. */
export const eve = issueCert(pki.ca, { commonName: 'eve', usage: 'client', keyPair });

const USERS = {
  'alice-token': {
    username: 'alice',
    uid: 'uid-alice',
    groups: ['devs', 'system:serviceaccounts', 'system:authenticated'],
    extra: { scopes: ['a', 'b'] },
  },
  'mallory-token': { username: 'mallory', groups: ['system:authenticated'] },
  'masters-token': { username: 'system:masters', groups: ['system:authenticated'] },
};

export interface Rig {
  hub: FakeHub;
  server: ProxyServer;
  api: FakeAgentApi;
  gateway: string;
}

export async function addAgent(
  server: ProxyServer,
  cluster: string,
  servedCert: { certPem: string; keyPem: string },
): Promise<FakeAgentApi> {
  const api = fakeAgentApi({ ...servedCert, caPem: pki.ca.certPem });
  onTestFinished(() => api.close());
  const cert = pki.agent(cluster, 'a0');
  const before = server.stats().agents;
  await connectTestAgent({
    transport: 'grpc',
    address: server.addresses.agentGrpc ?? '',
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
    agentId: `${cluster}/a0`,
    onDial: (dial) => api.onDial(dial),
  });
  await waitFor('the agent', () => (server.stats().agents > before ? true : undefined));
  return api;
}

export async function startRig(): Promise<Rig> {
  const hub = await startFakeHub({
    certPem: pki.server.certPem,
    keyPem: pki.server.keyPem,
    users: USERS,
    gatewayToken: 'gateway-token',
    decide: (review) => ({ allowed: review.user !== 'mallory' }),
  });
  onTestFinished(() => hub.close());
  const server = await startProxyServer({
    tls: pki.serverTls,
    logger: SILENT_LOGGER,
    listen: {
      agentWebSocket: false,
      frontendGrpc: false,
      frontendWebSocket: false,
      connect: false,
      health: false,
    },
    gateway: {
      hub: { server: hub.server, caPem: pki.ca.certPem, token: 'gateway-token' },
      clientCaPem: clientCa.certPem,
      cert: { certPem: gatewayCert.certPem, keyPem: gatewayCert.keyPem },
    },
  });
  onTestFinished(() => server.close());
  const c1 = agentApiCerts.get('c1');
  if (c1 === undefined) throw new Error('no c1 certificate');
  const api = await addAgent(server, 'c1', c1);
  return { hub, server, api, gateway: server.addresses.gateway ?? '' };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface CallOptions {
  method?: string;
  token?: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  cert?: { certPem: string; keyPem: string };
  agent?: Agent;
}

export function call(gateway: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const url = new URL(path, gateway);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: pki.ca.certPem,
        ...(options.cert === undefined
          ? {}
          : { cert: options.cert.certPem, key: options.cert.keyPem }),
        agent: options.agent ?? false,
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: unknown,
): unknown {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

/** A raw TLS connection to the gateway, for upgrades. */
export async function rawConnection(gateway: string): Promise<TLSSocket> {
  const { hostname, port } = new URL(gateway);
  const socket = connect({ host: hostname, port: Number(port), ca: pki.ca.certPem });
  socket.on('error', () => undefined);
  onTestFinished(() => {
    socket.destroy();
  });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  return socket;
}

export function readUntil(socket: TLSSocket, pattern: RegExp): Promise<string> {
  let received = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('utf8');
      if (pattern.test(received)) {
        socket.off('data', onData);
        resolve(received);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(received)}`)));
  });
}
