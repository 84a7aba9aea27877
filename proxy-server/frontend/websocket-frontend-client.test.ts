// TunnelClient (proxy-server/client) against a real proxy-server over loopback: both
// transports end to end, then what only the WebSocket transport does — one lazily opened
// WebSocket for every dial and cluster, reconnect on the next dial after a loss, refusals and
// close/destroy. (Here rather than in client/, which may not import the server.)
import { once } from 'node:events';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import { connect, createServer as createNetServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { pipeline } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { ProtocolError } from '../../protocol/index.ts';
import type { IncomingDial, TunnelStreamApi } from '../../protocol/index.ts';
import { createTunnelClient } from '../client/index.ts';
import type { TunnelClient, TunnelClientOptions } from '../client/index.ts';
import { SILENT_LOGGER } from '../logger.ts';
import { startProxyServer } from '../proxy-server.ts';
import type { ProxyServer } from '../proxy-server.ts';
import { connectTestAgent, echoDial } from '../testing/test-peers.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';

const pki = createServerTestPki();
const hubTls = {
  certPem: pki.frontend.certPem,
  keyPem: pki.frontend.keyPem,
  caPem: pki.ca.certPem,
  serverName: 'localhost',
};
let server: ProxyServer;
let httpsTarget: Server;
/** A TCP relay in front of the frontend WebSocket: counts connections and can cut them all. */
let relay: Server;
const relayed = new Set<Socket>();
let relayConnections = 0;

function listenPort(s: Server): Promise<number> {
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)),
  );
}

/** Echo, except `https:443`, which goes to a local HTTPS server. */
function onDial(dial: IncomingDial): void {
  if (dial.address !== 'https:443') {
    echoDial(dial);
    return;
  }
  const socket = connect((httpsTarget.address() as { port: number }).port, '127.0.0.1');
  socket.on('error', () => dial.reject('refused', 'target refused'));
  socket.once('connect', () => {
    const stream = dial.accept();
    pipeline(socket, stream, socket, () => {});
  });
}

beforeAll(async () => {
  httpsTarget = createHttpsServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (_q, r) =>
    r.end('ok through the tunnel'),
  );
  await listenPort(httpsTarget);
  server = await startProxyServer({
    tls: pki.serverTls,
    logger: SILENT_LOGGER,
    listen: { agentGrpc: false, connect: false, health: false },
  });
  for (const cluster of ['a', 'b']) {
    const cert = pki.agent(cluster, 'a1');
    await connectTestAgent({
      transport: 'websocket',
      address: server.addresses.agentWebSocket as string,
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
      agentId: `${cluster}/a1`,
      onDial,
    });
  }
  await waitFor('the agents', () => (server.stats().agents === 2 ? true : undefined));
  const frontendPort = Number(new URL(server.addresses.frontendWebSocket as string).port);
  relay = createNetServer((socket) => {
    relayConnections += 1;
    const upstream = connect(frontendPort, '127.0.0.1');
    for (const s of [socket, upstream]) {
      relayed.add(s);
      s.once('close', () => relayed.delete(s));
    }
    pipeline(socket, upstream, socket, () => {});
  });
  await listenPort(relay);
});
afterAll(async () => {
  await server.close();
  relay.close();
  httpsTarget.close();
});

function client(extra: Partial<TunnelClientOptions> = {}): TunnelClient {
  const c = createTunnelClient({
    server: server.addresses.frontendWebSocket as string,
    transport: 'websocket',
    tls: hubTls,
    ...extra,
  });
  onTestFinished(() => c.destroy());
  return c;
}

function viaRelay(): TunnelClient {
  const { port } = relay.address() as { port: number };
  return client({ server: `wss://127.0.0.1:${port}/frontend` });
}

async function echo(stream: TunnelStreamApi, text: string): Promise<string> {
  stream.end(text);
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

async function idle(c: TunnelClient): Promise<void> {
  await waitFor('client and server idle', () => {
    const s = server.stats();
    const cs = c.stats();
    return s.openStreams + s.pendingDials + cs.openStreams + cs.pendingDials === 0
      ? true
      : undefined;
  });
}

describe.each(['grpc', 'websocket'] as const)('TunnelClient over %s', (transport) => {
  const options = (): Partial<TunnelClientOptions> => ({
    transport,
    server: (transport === 'grpc'
      ? server.addresses.frontendGrpc
      : server.addresses.frontendWebSocket) as string,
  });

  it('dials two clusters, echoes, and returns to idle', async () => {
    const c = client(options());
    expect(c.transport).toBe(transport);
    const [a, b] = await Promise.all([c.dial('a', 'echo:1'), c.dial('b', 'kube-apiserver')]);
    expect(await Promise.all([echo(a, 'to a'), echo(b, 'to b')])).toEqual(['to a', 'to b']);
    await idle(c);
  });

  it('serves createHttpsAgent (TLS end to end inside the stream)', async () => {
    const c = client(options());
    const agent = c.createHttpsAgent('a', { ca: pki.ca.certPem }, 'https:443');
    onTestFinished(() => agent.destroy());
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet({ host: 'localhost', port: 443, path: '/', agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('ok through the tunnel');
  });
});

describe('TunnelClient over websocket', () => {
  it('opens one WebSocket on the first dial and carries every dial on it', async () => {
    const before = relayConnections;
    const c = viaRelay();
    expect(relayConnections).toBe(before);
    const streams = await Promise.all([
      c.dial('a', 'echo:1'),
      c.dial('b', 'echo:2'),
      c.dial('a', 'kube-apiserver'),
    ]);
    expect(c.stats().openStreams).toBe(3);
    expect(await Promise.all(streams.map((s, i) => echo(s, `s${i}`)))).toEqual(['s0', 's1', 's2']);
    expect(await echo(await c.dial('b', 'echo:3'), 'later')).toBe('later');
    expect(relayConnections).toBe(before + 1);
    await idle(c);
  });

  it('fails the open streams with tunnel-closed when the WebSocket is lost, and reconnects on the next dial', async () => {
    const before = relayConnections;
    const c = viaRelay();
    const stream = await c.dial('a', 'echo:1');
    const failed = once(stream, 'error') as Promise<[ProtocolError]>;
    for (const socket of relayed) socket.destroy();
    const [err] = await failed;
    expect(err).toMatchObject({ code: 'PROTO_ERR_STREAM_RESET', resetCode: 'tunnel-closed' });
    expect(await echo(await c.dial('a', 'echo:1'), 'again')).toBe('again');
    expect(relayConnections).toBe(before + 2);
    await idle(c);
  });

  it('accepts a bare host:port as the server', async () => {
    const c = client({ server: new URL(server.addresses.frontendWebSocket as string).host });
    expect(await echo(await c.dial('a', 'echo:1'), 'bare')).toBe('bare');
  });

  it.each([
    {
      name: 'an agent certificate: not-allowed, with the server text',
      options: () => {
        const cert = pki.agent('a', 'a1');
        return { tls: { ...hubTls, certPem: cert.certPem, keyPem: cert.keyPem } };
      },
      cluster: 'a',
      target: 'echo:1',
      reason: 'not-allowed',
      message: /: HTTP 403 agent certificates \(cluster "a"\) may not use the frontend$/,
    },
    {
      name: 'no server listening: tunnel-closed',
      options: () => ({ server: 'wss://127.0.0.1:1/frontend' }),
      cluster: 'a',
      target: 'echo:1',
      reason: 'tunnel-closed',
      message:
        /^dial a\/echo:1: cannot open the frontend WebSocket wss:\/\/127\.0\.0\.1:1\/frontend: .*ECONNREFUSED/,
    },
    {
      name: 'a cluster name that is not a DNS label: bad-request',
      options: () => ({}),
      cluster: 'Not_A_Label',
      target: 'echo:1',
      reason: 'bad-request',
      message: /the cluster is not a DNS label$/,
    },
    {
      name: 'an IPv6-literal target: bad-request',
      options: () => ({}),
      cluster: 'a',
      target: '[::1]:443',
      reason: 'bad-request',
      message: /IPv6-literal targets need the gRPC frontend$/,
    },
  ])('fails a dial with $name', async ({ options, cluster, target, reason, message }) => {
    const c = client(options());
    const err = await c.dial(cluster, target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason });
    expect((err as Error).message).toMatch(message);
  });

  it('fails a dial canceled before the WebSocket opened with canceled', async () => {
    const c = client();
    const err = await c.dial('a', 'echo:1', { signal: AbortSignal.abort() }).catch((e) => e);
    expect(err).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'canceled' });
  });

  it('close() waits for open streams; later dials fail with PROTO_ERR_SESSION_CLOSED', async () => {
    const c = client();
    const stream = await c.dial('a', 'echo:1');
    let isClosed = false;
    const closing = c.close().then(() => (isClosed = true));
    await expect(c.dial('a', 'echo:1')).rejects.toMatchObject({
      code: 'PROTO_ERR_SESSION_CLOSED',
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(isClosed).toBe(false);
    expect(await echo(stream, 'finishing')).toBe('finishing');
    await closing;
    expect(c.stats()).toEqual({ openStreams: 0, pendingDials: 0 });
  });

  it('destroy() resets open streams with tunnel-closed', async () => {
    const c = client();
    const stream = await c.dial('b', 'echo:1');
    const failed = once(stream, 'error') as Promise<[ProtocolError]>;
    c.destroy();
    const [err] = await failed;
    expect(err).toMatchObject({ code: 'PROTO_ERR_STREAM_RESET', resetCode: 'tunnel-closed' });
    await idle(c);
  });
});
