// proxy-server replicas: restart with agents coming back, and serverCount 2 with two replicas.
import { describe, expect, it, onTestFinished } from 'vitest';

import { startProxyAgent } from '../../proxy-agent/index.ts';
import { createTunnelClient } from '../../proxy-server/client/index.ts';
import {
  type ProxyServer,
  type ProxyServerOptions,
  startProxyServer,
} from '../../proxy-server/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import { startEchoTarget } from '../framework/targets.ts';

const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

function portOf(address: string | undefined): number {
  const port = Number(address?.split(':').pop()?.replace(/\/.*$/, ''));
  if (!Number.isInteger(port)) throw new Error(`no port in ${address}`);
  return port;
}

async function server(extra: Partial<ProxyServerOptions> = {}): Promise<ProxyServer> {
  const pki = testPki();
  const s = await startProxyServer({
    tls: {
      certPem: pki.server.certPem,
      keyPem: pki.server.keyPem,
      caPem: pki.ca.certPem,
    },
    logger: quiet,
    ...extra,
  });
  onTestFinished(() => s.close());
  return s;
}

function agent(cluster: string, servers: string[], kubeApiserver: string) {
  const pki = testPki();
  const cert = pki.agent(cluster, 'a0');
  const a = startProxyAgent({
    clusterName: cluster,
    agentName: 'a0',
    servers,
    transport: 'grpc',
    tls: {
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      caPem: pki.ca.certPem,
      serverName: 'localhost',
    },
    kubeApiserver,
    backoff: { initialMs: 50, maxMs: 400 },
    health: false,
    logger: quiet,
  });
  onTestFinished(() => a.close());
  return a;
}

function grpcClient(frontend: string) {
  const pki = testPki();
  return createTunnelClient({
    server: frontend,
    transport: 'grpc',
    tls: {
      certPem: pki.hubClient.certPem,
      keyPem: pki.hubClient.keyPem,
      caPem: pki.ca.certPem,
      serverName: 'localhost',
    },
  });
}

async function echoWith(
  client: ReturnType<typeof grpcClient>,
  cluster: string,
  timeoutMs?: number,
): Promise<string> {
  const stream = await client.dial(
    cluster,
    'kube-apiserver',
    timeoutMs === undefined ? {} : { timeoutMs },
  );
  stream.end('hello');
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

async function echoThrough(s: ProxyServer, cluster: string): Promise<string> {
  const client = grpcClient(s.addresses.frontendGrpc as string);
  try {
    return await echoWith(client, cluster);
  } finally {
    await client.close();
  }
}

/** A new server (id `second`) on the agent and frontend ports `first` had. */
function serverWhere(first: ProxyServer): Promise<ProxyServer> {
  return server({
    serverId: 'second',
    listen: {
      agentGrpc: { host: '127.0.0.1', port: portOf(first.addresses.agentGrpc) },
      frontendGrpc: { host: '127.0.0.1', port: portOf(first.addresses.frontendGrpc) },
    },
  });
}

describe('proxy-server replicas', () => {
  it('brings agents back after the proxy-server restarts on the same address', async () => {
    const echo = await startEchoTarget();
    const first = await server();
    const a = agent('c1', [first.addresses.agentGrpc as string], echo.address);
    await a.ready();
    await first.close();
    await eventually('the agent to notice', async () =>
      a.connections().length === 0 ? true : undefined,
    );
    const second = await serverWhere(first);
    await eventually(
      'the agent to reconnect',
      async () => (second.agents().length === 1 ? true : undefined),
      15_000,
    );
    expect(a.connections().map((c) => c.serverId)).toEqual(['second']);
    expect(await echoThrough(second, 'c1')).toBe('hello');
  });

  it('lets a gRPC client dial made while the proxy-server is down wait for it to come back', async () => {
    const echo = await startEchoTarget();
    const first = await server();
    const a = agent('c1', [first.addresses.agentGrpc as string], echo.address);
    await a.ready();
    const client = grpcClient(first.addresses.frontendGrpc as string);
    onTestFinished(() => client.destroy());
    expect(await echoWith(client, 'c1')).toBe('hello');

    await first.close();
    // Made while nothing listens: it waits (bounded by its timeout) rather than failing at once.
    // Cluster c2 has no agent, so its answer can only come from the new server: no-agent.
    const during = echoWith(client, 'c2', 20_000);
    let settled = false;
    during.catch(() => undefined).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(settled).toBe(false);
    const second = await serverWhere(first);
    await expect(during).rejects.toMatchObject({
      code: 'PROTO_ERR_DIAL_FAILED',
      reason: 'no-agent',
    });
    await eventually(
      'the agent to reconnect',
      async () => (second.agents().length === 1 ? true : undefined),
      15_000,
    );
    // The same client, its channel back: the agent's cluster is reached.
    expect(await echoWith(client, 'c1')).toBe('hello');
  });

  it('fails a gRPC client dial with reason timeout when the proxy-server stays away', async () => {
    const first = await server();
    const client = grpcClient(first.addresses.frontendGrpc as string);
    onTestFinished(() => client.destroy());
    await first.close();
    await expect(echoWith(client, 'c1', 1_500)).rejects.toMatchObject({
      code: 'PROTO_ERR_DIAL_FAILED',
      reason: 'timeout',
      message: expect.stringMatching(/did not answer within 1500 ms/),
    });
    expect(client.stats()).toEqual({ openStreams: 0, pendingDials: 0 });
  });

  it('holds one tunnel to each of two replicas when they announce serverCount 2', async () => {
    const echo = await startEchoTarget();
    const s1 = await server({ serverId: 's1', serverCount: 2 });
    const s2 = await server({ serverId: 's2', serverCount: 2 });
    const a = agent(
      'c1',
      [s1.addresses.agentGrpc as string, s2.addresses.agentGrpc as string],
      echo.address,
    );
    await eventually(
      'two tunnels',
      async () => (a.connections().length === 2 ? true : undefined),
      15_000,
    );
    expect(
      a
        .connections()
        .map((c) => c.serverId)
        .sort(),
    ).toEqual(['s1', 's2']);
    expect(await echoThrough(s1, 'c1')).toBe('hello');
    expect(await echoThrough(s2, 'c1')).toBe('hello');
  });
});
