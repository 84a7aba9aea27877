// The assembled server over real loopback sockets: agent choice, health and metrics, in-process
// dials, leak counters, and shutdown.
import { once } from 'node:events';
import { createServer } from 'node:net';

import { describe, expect, it, onTestFinished, vi } from 'vitest';

import { Extension, ProtocolError, SUPPORTED_EXTENSIONS } from '../protocol/index.ts';
import type { IncomingDial, TunnelStreamApi } from '../protocol/index.ts';
import { ServerError } from './errors.ts';
import { SILENT_LOGGER } from './logger.ts';
import type { ProxyServerOptions } from './options.ts';
import { SERVER_SLOW_CLOSE_WARNING, SLOW_CLOSE_MS, startProxyServer } from './proxy-server.ts';
import type { ProxyServer } from './proxy-server.ts';
import { connectTestAgent, echoDial } from './testing/test-peers.ts';
import type { TestAgent } from './testing/test-peers.ts';
import { createServerTestPki } from './testing/test-pki.ts';
import { waitFor } from './testing/wait-for.ts';

const pki = createServerTestPki();

async function start(extra: Partial<ProxyServerOptions> = {}): Promise<ProxyServer> {
  const server = await startProxyServer({
    tls: pki.serverTls,
    logger: SILENT_LOGGER,
    listen: { frontendGrpc: false, connect: false },
    ...extra,
  });
  onTestFinished(() => server.close());
  return server;
}

/** Streams an agent accepted for 'hold' targets stay open until the test ends them. */
function holdingDial(held: TunnelStreamApi[]) {
  return (dial: IncomingDial): void => {
    if (dial.address.startsWith('hold:')) {
      const stream = dial.accept();
      stream.on('error', () => {});
      held.push(stream);
    } else {
      echoDial(dial);
    }
  };
}

async function agent(
  server: ProxyServer,
  name: string,
  held: TunnelStreamApi[] = [],
  transport: 'grpc' | 'websocket' = 'grpc',
): Promise<TestAgent> {
  const cert = pki.agent('a', name);
  const before = server.stats().agents;
  const connected = await connectTestAgent({
    transport,
    address: (transport === 'grpc'
      ? server.addresses.agentGrpc
      : server.addresses.agentWebSocket) as string,
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
    agentId: `a/${name}`,
    onDial: holdingDial(held),
  });
  onTestFinished(() => connected.session.destroy());
  await waitFor(`agent ${name}`, () => (server.stats().agents > before ? true : undefined));
  return connected;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

function idle(server: ProxyServer): Promise<true> {
  return waitFor('no open streams or pending dials', () => {
    const { openStreams, pendingDials } = server.stats();
    return openStreams === 0 && pendingDials === 0 ? true : undefined;
  });
}

async function echo(server: ProxyServer, text: string): Promise<string> {
  const stream = await server.dial('a', 'kube-apiserver:443');
  stream.end(text);
  let back = '';
  for await (const chunk of stream) back += String(chunk);
  return back;
}

describe('agent choice', () => {
  it('spreads open streams over the agents of a cluster', async () => {
    const server = await start();
    const held: TunnelStreamApi[] = [];
    const a1 = await agent(server, 'a1', held);
    const a2 = await agent(server, 'a2', held);
    const first = await server.dial('a', 'hold:1');
    const second = await server.dial('a', 'hold:2');
    expect([...a1.dials, ...a2.dials].sort()).toEqual(['hold:1', 'hold:2']);
    expect([a1.dials.length, a2.dials.length]).toEqual([1, 1]);
    expect(server.agents().map((a) => a.openStreams)).toEqual([1, 1]);
    first.destroy();
    second.destroy();
    await idle(server);
  });

  it.each(['grpc', 'websocket'] as const)(
    'keeps new dials off a draining agent, and uses it when it is the only one left (%s)',
    async (transport) => {
      const server = await start();
      const a1 = await agent(server, 'a1', [], transport);
      const a2 = await agent(server, 'a2', [], transport);
      a1.session.sendDrain();
      await waitFor('a1 to be draining', () =>
        server.agents().find((a) => a.agentId === 'a/a1')?.isDraining ? true : undefined,
      );
      for (let i = 0; i < 4; i++) expect(await echo(server, `via a2 #${i}`)).toBe(`via a2 #${i}`);
      expect({ a1: a1.dials.length, a2: a2.dials.length }).toEqual({ a1: 0, a2: 4 });
      expect(server.isConnected('a')).toBe(true);
      await a2.session.close();
      await waitFor('a2 to leave', () => (server.stats().agents === 1 ? true : undefined));
      // Only a draining agent left: the cluster no longer counts as connected (the hub's
      // controllers report nothing through an agent that is going away), yet a dial still
      // reaches it as a last resort.
      expect(server.isConnected('a')).toBe(false);
      expect(server.connectedClusters()).toEqual(new Set());
      expect(await echo(server, 'via draining a1')).toBe('via draining a1');
      expect(a1.dials).toEqual(['kube-apiserver:443']);
      await idle(server);
    },
  );

  it('pings a cluster through its tunnel: true while an agent answers, false without one, undefined for an agent without ping', async () => {
    const server = await start();
    const a1 = await agent(server, 'a1');
    expect(await server.pingCluster('a', 2_000)).toBe(true);
    expect(await server.pingCluster('zz', 2_000)).toBe(false);
    const cert = pki.agent('plain', 'p0');
    const plain = await connectTestAgent({
      transport: 'grpc',
      address: server.addresses.agentGrpc as string,
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
      agentId: 'plain/p0',
      extensions: SUPPORTED_EXTENSIONS.filter((e) => e !== Extension.PING),
    });
    onTestFinished(() => plain.session.destroy());
    await waitFor('the plain agent', () => (server.isConnected('plain') ? true : undefined));
    expect(await server.pingCluster('plain', 2_000)).toBeUndefined();
    a1.session.destroy();
    await waitFor('a1 to leave', () => (server.isConnected('a') ? undefined : true));
    expect(await server.pingCluster('a', 2_000)).toBe(false);
  });

  it('fails an in-process dial to a cluster without agents with reason no-agent', async () => {
    const server = await start();
    const err = await server.dial('zz', 'kube-apiserver:443').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({
      code: 'PROTO_ERR_DIAL_FAILED',
      reason: 'no-agent',
      message: 'No agent available for cluster "zz"',
    });
    expect(server.stats()).toEqual({ agents: 0, openStreams: 0, pendingDials: 0 });
  });
});

describe('health and metrics', () => {
  it('flips /readyz with agents and serves /healthz', async () => {
    const server = await start();
    const health = server.addresses.health as string;
    expect(await get(`${health}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(`${health}/readyz`)).toEqual({
      status: 503,
      body: 'not ready: no agent connected\n',
    });
    const a1 = await agent(server, 'a1');
    expect(await get(`${health}/readyz`)).toEqual({ status: 200, body: 'ok\n' });
    await a1.session.close();
    await waitFor('the agent to leave', () => (server.stats().agents === 0 ? true : undefined));
    expect(await get(`${health}/readyz`)).toEqual({
      status: 503,
      body: 'not ready: no agent connected\n',
    });
    expect((await get(`${health}/nope`)).status).toBe(404);
  });

  it('exposes every series on /metrics', async () => {
    const server = await start();
    await agent(server, 'a1');
    expect(await echo(server, 'count me')).toBe('count me');
    await server.dial('zz', 'x:1').catch(() => {});
    await idle(server);
    const { status, body } = await get(`${server.addresses.health as string}/metrics`);
    expect(status).toBe(200);
    for (const line of [
      'spokelink_server_dial_duration_seconds_count 1',
      'spokelink_server_dial_failures_total{reason="no-agent"} 1',
      'spokelink_server_pending_dials 0',
      'spokelink_server_open_streams 0',
      'spokelink_server_connected_agents{transport="grpc"} 1',
      'spokelink_server_connected_agents{transport="websocket"} 0',
      'spokelink_server_window_stalls_total 0',
    ]) {
      expect(body.split('\n')).toContain(line);
    }
    const bytes = (direction: string): number =>
      Number(
        new RegExp(`^spokelink_server_bytes_total\\{direction="${direction}"\\} (\\d+)$`, 'm').exec(
          body,
        )?.[1],
      );
    expect(bytes('in')).toBeGreaterThanOrEqual('count me'.length);
    expect(bytes('out')).toBeGreaterThanOrEqual('count me'.length);
    expect(await server.metricsText()).toContain(
      '# TYPE spokelink_server_dial_duration_seconds histogram',
    );
  });
});

describe('shutdown', () => {
  it('close() lets an open stream finish, then ends the agent sessions gracefully', async () => {
    const server = await start();
    const held: TunnelStreamApi[] = [];
    const a1 = await agent(server, 'a1', held);
    const stream = await server.dial('a', 'hold:1');
    stream.on('error', () => {});
    let isClosed = false;
    const closing = server.close().then(() => (isClosed = true));
    await expect(server.dial('a', 'kube-apiserver:443')).rejects.toMatchObject({
      code: 'SERVER_ERR_CLOSED',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isClosed).toBe(false);
    stream.destroy();
    held[0]?.destroy();
    await closing;
    expect(await a1.closed).toBeUndefined();
    expect(server.stats()).toEqual({ agents: 0, openStreams: 0, pendingDials: 0 });
  });

  it('close() names the parts still closing after SLOW_CLOSE_MS in a warning', async () => {
    const warnings: Array<{ msg: string; fields: unknown }> = [];
    const server = await start({
      logger: { ...SILENT_LOGGER, warn: (msg, fields) => warnings.push({ msg, fields }) },
    });
    const held: TunnelStreamApi[] = [];
    await agent(server, 'a1', held);
    const stream = await server.dial('a', 'hold:1');
    stream.on('error', () => {});
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const closing = server.close();
      // Real time for the parts that close at once (setImmediate and Date are not faked).
      const t0 = Date.now();
      while (Date.now() - t0 < 300) await new Promise((resolve) => setImmediate(resolve));
      vi.advanceTimersByTime(SLOW_CLOSE_MS - 1);
      expect(warnings).toEqual([]);
      vi.advanceTimersByTime(1);
      // The held stream keeps the agent's tunnel open, and so the gRPC call it rides on that
      // the agent listener waits for; everything else has closed.
      expect(warnings).toEqual(
        ['agent tunnels', 'gRPC agent listener'].map((part) => ({
          msg: SERVER_SLOW_CLOSE_WARNING,
          fields: { part, waitedMs: SLOW_CLOSE_MS },
        })),
      );
      stream.destroy();
      held[0]?.destroy();
      await closing;
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() destroys what is still open after shutdownTimeoutMs', async () => {
    const server = await start({ shutdownTimeoutMs: 200 });
    const held: TunnelStreamApi[] = [];
    const a1 = await agent(server, 'a1', held);
    const stream = await server.dial('a', 'hold:1');
    const reset = once(stream, 'error');
    await server.close();
    expect((await reset)[0]).toMatchObject({
      code: 'PROTO_ERR_STREAM_RESET',
      resetCode: 'tunnel-closed',
    });
    expect(await a1.closed).toBeInstanceOf(Error);
  });

  it('destroy() drops agents at once and settles a pending close()', async () => {
    const server = await start();
    const a1 = await agent(server, 'a1');
    const stream = await server.dial('a', 'hold:1');
    stream.on('error', () => {});
    const closing = server.close();
    server.destroy(new Error('test abort'));
    server.destroy();
    await closing;
    expect(await a1.closed).toBeInstanceOf(Error);
    expect(server.stats().agents).toBe(0);
  });

  it('fails to start on a port in use, naming the listener, and leaves nothing open', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void blocker.close());
    const { port } = blocker.address() as { port: number };
    const err = await startProxyServer({
      tls: pki.serverTls,
      logger: SILENT_LOGGER,
      listen: { health: { port } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ code: 'SERVER_ERR_LISTEN' });
    expect((err as Error).message).toMatch(
      new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port} for health: .*EADDRINUSE`),
    );
  });
});
