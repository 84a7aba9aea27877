// The agent end to end over real loopback sockets: a minimal tunnel server built from
// protocol/ (testing/test-tunnel-server.ts) dials through the agent to local TCP targets.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { isProtocolError } from '../protocol/index.ts';
import type { TunnelSessionApi, TunnelStreamApi } from '../protocol/index.ts';
import { AgentError } from './errors.ts';
import type { ProxyAgentOptions } from './options.ts';
import { startProxyAgent } from './proxy-agent.ts';
import type { ProxyAgent } from './proxy-agent.ts';
import { startBlackHole } from './testing/black-hole.ts';
import type { BlackHole } from './testing/black-hole.ts';
import {
  createTestPki,
  eventually,
  readAll,
  recordingLogger,
  startEchoServer,
  unusedPort,
} from './testing/helpers.ts';
import type { EchoServer } from './testing/helpers.ts';
import { startTestTunnelServer } from './testing/test-tunnel-server.ts';
import type { TestTunnelServer, TestTunnelServerOptions } from './testing/test-tunnel-server.ts';

const pki = createTestPki('c1', 'a0');
let echo: EchoServer;
let blackHole: BlackHole;

beforeAll(async () => {
  echo = await startEchoServer();
  blackHole = await startBlackHole();
});
afterAll(async () => {
  await echo.close();
  await blackHole.close();
});

type Transport = 'grpc' | 'websocket';

async function server(
  transport: Transport,
  options: Partial<TestTunnelServerOptions> = {},
): Promise<TestTunnelServer> {
  const started = await startTestTunnelServer({
    transport,
    serverId: 's1',
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
    ...options,
  });
  onTestFinished(() => started.close());
  return started;
}

function agent(
  transport: Transport,
  servers: string[],
  options: Partial<ProxyAgentOptions> = {},
): ProxyAgent & { logs: ReturnType<typeof recordingLogger> } {
  const logger = recordingLogger();
  const started = startProxyAgent({
    clusterName: 'c1',
    agentName: 'a0',
    servers,
    transport,
    tls: { certPem: pki.agent.certPem, keyPem: pki.agent.keyPem, caPem: pki.ca.certPem },
    kubeApiserver: echo.address,
    backoff: { initialMs: 20, maxMs: 200 },
    health: false,
    logger,
    ...options,
  });
  onTestFinished(() => started.destroy());
  return Object.assign(started, { logs: logger });
}

async function roundTrip(stream: TunnelStreamApi, text: string): Promise<string> {
  stream.end(text);
  return (await readAll(stream)).toString();
}

async function dialFailure(session: TunnelSessionApi, address: string): Promise<unknown> {
  return session.dial(address).then(
    (stream) => {
      stream.destroy();
      throw new Error(`dial ${address} unexpectedly succeeded`);
    },
    (err: unknown) => err,
  );
}

async function expectIdle(a: ProxyAgent, session: TunnelSessionApi): Promise<void> {
  await eventually('agent and server idle', () => {
    const s = a.stats();
    const t = session.stats();
    return (
      s.openStreams === 0 && s.pendingDials === 0 && t.openStreams === 0 && t.pendingDials === 0
    );
  });
}

describe.each<Transport>(['grpc', 'websocket'])('proxy agent over %s', (transport) => {
  it('connects with its identity and echoes bytes through the kube-apiserver target', async () => {
    const s = await server(transport);
    const a = agent(transport, [s.address], { identifiers: { host: ['c1.ns'] } });
    await a.ready();
    expect(a.connections()).toEqual([
      { serverId: 's1', address: s.address, transport, connectedAt: expect.any(Date) },
    ]);
    expect(s.hellos[0]).toMatchObject({
      agentId: 'c1/a0',
      agentIdentifiers: 'host=c1&host=c1.ns',
    });
    expect([...(s.hellos[0]?.extensions ?? [])]).toEqual([
      'flow-control',
      'half-close',
      'error-codes',
      'ping',
      'stream-id',
      'initial-window-64k',
    ]);
    const session = await s.session();
    const stream = await session.dial('c1:443');
    const data = Buffer.alloc(300_000, 7);
    stream.write(data);
    stream.write('tail');
    stream.end();
    const echoed = await readAll(stream);
    expect(echoed.length).toBe(data.length + 4);
    expect(echoed.subarray(data.length).toString()).toBe('tail');
    const second = await session.dial('kube-apiserver:6443');
    expect(await roundTrip(second, 'hello')).toBe('hello');
    await expectIdle(a, session);
    expect(a.stats()).toEqual({ tunnels: 1, openStreams: 0, pendingDials: 0 });
  });

  it('verifies the server certificate against tls.serverName', async () => {
    const s = await server(transport);
    const tls = { certPem: pki.agent.certPem, keyPem: pki.agent.keyPem, caPem: pki.ca.certPem };
    const good = agent(transport, [s.address], { tls: { ...tls, serverName: 'localhost' } });
    await good.ready();
    const bad = agent(transport, [s.address], { tls: { ...tls, serverName: 'wrong.example' } });
    await eventually('a failed attempt', () =>
      bad.logs.records.find((r) => r.msg === 'tunnel connect failed'),
    );
    expect(bad.stats().tunnels).toBe(0);
    expect(s.sessions).toHaveLength(1);
  });

  it('keeps the other direction open after a half-close', async () => {
    const s = await server(transport);
    const a = agent(transport, [s.address]);
    await a.ready();
    const session = await s.session();
    const stream = await session.dial('c1:443');
    stream.write('before-end');
    // Let the echo come back while our side is still open, then half-close.
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    expect(first.toString()).toBe('before-end');
    stream.end('after-end');
    expect((await readAll(stream)).toString()).toBe('after-end');
    await expectIdle(a, session);
    expect(echo.connections).toBe(0);
  });

  it('serves as a plain ANP agent when it announces no extensions', async () => {
    const s = await server(transport);
    const a = agent(transport, [s.address], { extensions: [] });
    await a.ready();
    expect(s.hellos[0]?.extensions.size).toBe(0);
    const session = await s.session();
    expect(session.extensions.size).toBe(0);
    const stream = await session.dial('c1:443');
    stream.write('plain');
    const echoed = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    expect(echoed.toString()).toBe('plain');
    stream.end(); // without half-close this closes the whole stream, as ANP does
    stream.resume();
    await expectIdle(a, session);
    await eventually('target socket closed', () => echo.connections === 0);
  });

  it('turns resets into socket teardown and socket resets into stream resets', async () => {
    const { createServer } = await import('node:net');
    const resetter = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.resetAndDestroy());
    });
    await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => resetter.close(() => resolve())));
    const resetterAddress = `127.0.0.1:${(resetter.address() as { port: number }).port}`;
    const s = await server(transport);
    const a = agent(transport, [s.address], { allow: [resetterAddress] });
    await a.ready();
    const session = await s.session();
    // The target resets its connection → the hub's stream is reset with connection-reset.
    const doomed = await session.dial(resetterAddress);
    const failure = new Promise<unknown>((resolve) => doomed.once('error', resolve));
    doomed.write('trigger');
    const err = await failure;
    expect(err).toMatchObject({ code: 'PROTO_ERR_STREAM_RESET', resetCode: 'connection-reset' });
    // The hub resets its stream → the agent tears the target connection down.
    const stream = await session.dial('c1:443');
    expect(
      await new Promise<Buffer>((resolve) => stream.write('x', () => stream.once('data', resolve))),
    ).toEqual(Buffer.from('x'));
    expect(echo.connections).toBe(1);
    stream.on('error', () => undefined);
    stream.reset('canceled');
    await eventually('target socket closed', () => echo.connections === 0);
    await expectIdle(a, session);
  });

  it('refuses targets off the allow-list with reason not-allowed', async () => {
    const s = await server(transport);
    const a = agent(transport, [s.address]);
    await a.ready();
    const session = await s.session();
    const err = await dialFailure(session, `other.example:80`);
    expect(isProtocolError(err, 'PROTO_ERR_DIAL_FAILED')).toBe(true);
    expect(err).toMatchObject({ reason: 'not-allowed' });
    expect((err as Error).message).toContain(
      'target other.example:80 is not allowed on cluster c1',
    );
    // The API server's own address is not implicitly allowed either.
    const direct = await dialFailure(session, echo.address);
    expect(direct).toMatchObject({ reason: 'not-allowed' });
    await expectIdle(a, session);
  });

  it('dials allow-listed targets and maps connect failures to reasons', async () => {
    const refusedPort = await unusedPort();
    const s = await server(transport);
    const a = agent(transport, [s.address], {
      allow: [echo.address, `127.0.0.1:${refusedPort}`, `127.0.0.1:${blackHole.port}`],
      dialTimeoutMs: 200,
    });
    await a.ready();
    const session = await s.session();
    expect(await roundTrip(await session.dial(echo.address), 'allowed')).toBe('allowed');
    const refused = await dialFailure(session, `127.0.0.1:${refusedPort}`);
    expect(refused).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'refused' });
    expect((refused as Error).message).toContain('ECONNREFUSED');
    const timedOut = await dialFailure(session, `127.0.0.1:${blackHole.port}`);
    expect(timedOut).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'timeout' });
    expect((timedOut as Error).message).toContain('timed out after 200 ms');
    await expectIdle(a, session);
  });

  it('reconnects after the server restarts', async () => {
    const first = await server(transport);
    const a = agent(transport, [first.address]);
    await a.ready();
    await first.close();
    await eventually('tunnel lost', () => a.stats().tunnels === 0);
    const second = await server(transport, { port: first.port, serverId: 's2' });
    const session = await second.session();
    await a.ready();
    expect(a.connections().map((c) => c.serverId)).toEqual(['s2']);
    expect(await roundTrip(await session.dial('c1:1'), 'again')).toBe('again');
    expect(a.logs.records.some((r) => r.level === 'warn' && r.msg === 'tunnel disconnected')).toBe(
      true,
    );
  });

  it('holds one tunnel per server replica when serverCount is 2', async () => {
    const one = await server(transport, { serverId: 'one', serverCount: 2 });
    const two = await server(transport, { serverId: 'two', serverCount: 2 });
    const a = agent(transport, [one.address, two.address]);
    await eventually('two tunnels', () => a.stats().tunnels === 2);
    expect(
      a
        .connections()
        .map((c) => c.serverId)
        .sort(),
    ).toEqual(['one', 'two']);
    for (const s of [one, two]) {
      expect(await roundTrip(await (await s.session()).dial('c1:443'), s.address)).toBe(s.address);
    }
  });

  it('drops a second tunnel to the same serverID and keeps retrying with backoff', async () => {
    const one = await server(transport, { serverId: 'same', serverCount: 2 });
    const two = await server(transport, { serverId: 'same', serverCount: 2 });
    const a = agent(transport, [one.address, two.address]);
    await a.ready();
    await eventually(
      'duplicates dropped twice',
      () => a.logs.records.filter((r) => r.msg === 'duplicate server, tunnel dropped').length >= 2,
    );
    expect(a.stats().tunnels).toBe(1);
    expect(a.connections()).toEqual([
      expect.objectContaining({ serverId: 'same', address: one.address }),
    ]);
    await eventually('the duplicate session closed on the server', () => two.sessions.length === 0);
  });

  it('logs a refusal at error with the server message and retries', async () => {
    const s = await server(transport, { refuse: 'agent certificate names cluster c9' });
    const a = agent(transport, [s.address], { backoff: { initialMs: 20, maxMs: 50 } });
    await eventually('two refused attempts', () => s.hellos.length >= 2);
    const refusal = a.logs.records.find((r) => r.msg === 'server refused the agent');
    expect(refusal?.level).toBe('error');
    expect(String(refusal?.fields['error'])).toContain('agent certificate names cluster c9');
    expect(a.stats().tunnels).toBe(0);
  });

  // close() sends DRAIN too (unless drain() did), so that the server stops counting on the agent
  // while its open streams end.
  it.each([
    { how: 'drain()', stop: (a: ProxyAgent) => a.drain({ timeoutMs: 5000 }) },
    { how: 'close()', stop: (a: ProxyAgent) => a.close() },
  ])(
    '$how: DRAIN reaches the server, open streams finish, then the tunnel closes',
    async ({ stop }) => {
      const s = await server(transport);
      const a = agent(transport, [s.address]);
      await a.ready();
      const session = await s.session();
      const stream = await session.dial('c1:443');
      const peerDrain = new Promise<void>((resolve) => session.once('peer-drain', resolve));
      const stopped = stop(a);
      await peerDrain;
      expect(session.isPeerDraining).toBe(true);
      expect(session.isClosed).toBe(false);
      // The open stream still works meanwhile.
      expect(await roundTrip(stream, 'while stopping')).toBe('while stopping');
      await stopped;
      expect(a.stats()).toEqual({ tunnels: 0, openStreams: 0, pendingDials: 0 });
      await eventually('server session closed', () => session.isClosed);
      await expect(a.ready()).rejects.toThrow(AgentError);
    },
  );
});

describe('health endpoints', () => {
  it('/healthz, /readyz flipping with the tunnel, and /metrics', async () => {
    const s = await server('grpc');
    const a = agent('grpc', [s.address], { health: { port: 0 } });
    await a.ready();
    const base = a.healthAddress;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`);
      return { status: res.status, body: await res.text() };
    };
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const session = await s.session();
    expect(await roundTrip(await session.dial('c1:443'), 'count me')).toBe('count me');
    await dialFailure(session, 'nope:1');
    await expectIdle(a, session);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toContain('spokelink_agent_tunnels 1');
    expect(metrics).toContain('spokelink_agent_dials_total{result="success"} 1');
    expect(metrics).toContain('spokelink_agent_dials_total{result="failure"} 1');
    expect(metrics).toContain('spokelink_agent_dial_failures_total{reason="not-allowed"} 1');
    expect(metrics).toContain('spokelink_agent_open_streams 0');
    expect(metrics).toContain('spokelink_agent_bytes_total{direction="to-target"} 8');
    expect(metrics).toContain('spokelink_agent_bytes_total{direction="from-target"} 8');
    expect(metrics).toContain('spokelink_agent_reconnects_total 0');
    await s.close();
    await eventually('not ready', async () => (await get('/readyz')).status === 503);
    expect((await get('/healthz')).status).toBe(200);
    await eventually('a reconnect attempt', async () =>
      /spokelink_agent_reconnects_total [1-9]/.test((await get('/metrics')).body),
    );
    await a.close();
    expect(a.healthAddress).toBe(base);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});

describe('startProxyAgent', () => {
  it('rejects bad options synchronously with AGENT_ERR_INVALID_OPTIONS', () => {
    expect(() => agent('grpc', [])).toThrow(
      expect.objectContaining({
        code: 'AGENT_ERR_INVALID_OPTIONS',
        message: 'invalid options: servers must list at least one address',
      }),
    );
  });

  it('close() before any tunnel rejects ready() with AGENT_ERR_CLOSED', async () => {
    const a = agent('grpc', [`127.0.0.1:${await unusedPort()}`]);
    const ready = a.ready();
    await a.close();
    await expect(ready).rejects.toMatchObject({ code: 'AGENT_ERR_CLOSED' });
    await a.close(); // idempotent
    a.destroy();
  });
});
