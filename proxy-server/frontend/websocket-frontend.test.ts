// The frontend WebSocket over real loopback sockets: a raw ws client running a TunnelSession as
// dialer, through the server, to WebSocket test agents of two clusters; and every refusal that
// must happen before the upgrade.
import { once } from 'node:events';
import { request } from 'node:https';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProtocolError, SUPPORTED_EXTENSIONS, formatExtensions } from '../../protocol/index.ts';
import type { IncomingDial, TunnelStreamApi } from '../../protocol/index.ts';
import { SILENT_LOGGER } from '../logger.ts';
import { startProxyServer } from '../proxy-server.ts';
import type { ProxyServer } from '../proxy-server.ts';
import { connectTestAgent, echoDial } from '../testing/test-peers.ts';
import type { PeerTls } from '../testing/test-peers.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { openTestWebSocketFrontend } from '../testing/test-websocket-frontend.ts';
import type {
  TestWebSocketFrontend,
  TestWebSocketFrontendOptions,
} from '../testing/test-websocket-frontend.ts';
import { waitFor } from '../testing/wait-for.ts';

const pki = createServerTestPki();
const foreign = createServerTestPki('foreign-ca');
const hubTls: PeerTls = {
  certPem: pki.frontend.certPem,
  keyPem: pki.frontend.keyPem,
  caPem: pki.ca.certPem,
};
let server: ProxyServer;
/** Every DIAL_REQ address each cluster's agent received, in order. */
const dials: Record<string, string[]> = { a: [], b: [] };
const held: TunnelStreamApi[] = [];
const silent: IncomingDial[] = [];

function onDial(dial: IncomingDial): void {
  const host = dial.address.split(':')[0];
  if (host === 'silent') silent.push(dial);
  else if (host === 'hold') {
    const stream = dial.accept();
    stream.on('error', () => {});
    held.push(stream);
  } else if (host === 'reset') dial.accept().reset('connection-reset');
  else echoDial(dial);
}

beforeAll(async () => {
  server = await startProxyServer({
    tls: pki.serverTls,
    logger: SILENT_LOGGER,
    listen: { agentGrpc: false, frontendGrpc: false, connect: false, health: false },
  });
  for (const cluster of ['a', 'b']) {
    const cert = pki.agent(cluster, 'a1');
    await connectTestAgent({
      transport: 'websocket',
      address: server.addresses.agentWebSocket as string,
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
      agentId: `${cluster}/a1`,
      onDial: (dial) => {
        dials[cluster]?.push(dial.address);
        onDial(dial);
      },
    });
  }
  await waitFor('the agents', () => (server.stats().agents === 2 ? true : undefined));
});
afterAll(() => server.close());

function frontend(
  extra: Partial<TestWebSocketFrontendOptions> = {},
): Promise<TestWebSocketFrontend> {
  return openTestWebSocketFrontend({
    url: server.addresses.frontendWebSocket as string,
    tls: hubTls,
    ...extra,
  });
}

async function readText(stream: TunnelStreamApi): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

function idle(): Promise<true> {
  return waitFor('no open streams or pending dials', () => {
    const { openStreams, pendingDials } = server.stats();
    return openStreams === 0 && pendingDials === 0 ? true : undefined;
  });
}

describe('frontend WebSocket', () => {
  it('is listed in the addresses as wss://host:port/frontend', () => {
    expect(server.addresses.frontendWebSocket).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/frontend$/);
  });

  it('announces its extensions on the 101 and carries streams for several clusters on one WebSocket', async () => {
    const f = await frontend();
    expect(f.serverExtensions).toBe(formatExtensions(SUPPORTED_EXTENSIONS));
    expect(f.session.extensions.size).toBe(SUPPORTED_EXTENSIONS.length);
    const before = { a: dials['a']?.length ?? 0, b: dials['b']?.length ?? 0 };
    const streams = await Promise.all([
      f.session.dial('a_kube-apiserver:443'),
      f.session.dial('b_kube-apiserver:443'),
      f.session.dial('a_svc_with_underscores.ns:8080'),
    ]);
    const texts = streams.map((stream, i) => {
      stream.end(`hello ${i}`);
      return readText(stream);
    });
    expect(await Promise.all(texts)).toEqual(['hello 0', 'hello 1', 'hello 2']);
    // The agents got the address without the cluster prefix.
    expect(dials['a']?.slice(before.a)).toEqual(
      expect.arrayContaining(['kube-apiserver:443', 'svc_with_underscores.ns:8080']),
    );
    expect(dials['b']?.slice(before.b)).toEqual(['kube-apiserver:443']);
    await f.close();
    await idle();
  });

  it('serves a peer that announces no extensions (plain ANP packets)', async () => {
    const f = await frontend({ extensions: [] });
    expect(f.session.extensions.size).toBe(0);
    const stream = await f.session.dial('a_echo:1');
    stream.write('plain');
    const [chunk] = (await once(stream, 'data')) as [Buffer];
    expect(String(chunk)).toBe('plain');
    stream.end();
    await once(stream, 'close');
    await f.close();
    await idle();
  });

  it.each([
    {
      name: 'no cluster prefix',
      address: 'kube-apiserver:443',
      reason: 'bad-request',
      message:
        'frontend dial address "kube-apiserver:443" is not <cluster>_<host>:<port>: missing cluster prefix',
    },
    {
      name: 'a prefix that is not a DNS label',
      address: 'A_kube-apiserver:443',
      reason: 'bad-request',
      message:
        'frontend dial address "A_kube-apiserver:443" is not <cluster>_<host>:<port>: the cluster is not a DNS label',
    },
    {
      name: 'a cluster without agents',
      address: 'nowhere_kube-apiserver:443',
      reason: 'no-agent',
      message: 'No agent available for cluster "nowhere"',
    },
  ])('fails a dial with $name: $reason', async ({ address, reason, message }) => {
    const f = await frontend();
    const err = await f.session.dial(address).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason });
    expect((err as Error).message).toBe(
      `test websocket frontend: dial ${address} failed (${reason}): ${message}`,
    );
    // A failed dial leaves the WebSocket usable.
    const stream = await f.session.dial('a_echo:1');
    stream.end('still here');
    expect(await readText(stream)).toBe('still here');
    await f.close();
    await idle();
  });

  it('passes resets on with the same code, both ways', async () => {
    const f = await frontend();
    const reset = await f.session.dial('a_reset:1');
    const [err] = (await once(reset, 'error')) as [ProtocolError];
    expect(err).toMatchObject({ code: 'PROTO_ERR_STREAM_RESET', resetCode: 'connection-reset' });
    const before = held.length;
    const stream = await f.session.dial('a_hold:1');
    stream.on('error', () => {});
    const agentSide = await waitFor('the agent to hold the stream', () => held[before]);
    stream.reset('timeout');
    await waitFor('the agent side to be reset', () => agentSide.resetCode);
    expect(agentSide.resetCode).toBe('timeout');
    await f.close();
    await idle();
  });

  it('cancels the agent dial when the client cancels (DIAL_CLS end to end)', async () => {
    const f = await frontend();
    const before = silent.length;
    const abort = new AbortController();
    const dialing = f.session.dial('b_silent:1', { signal: abort.signal }).catch((e: unknown) => e);
    const agentDial = await waitFor('the agent to see the dial', () => silent[before]);
    expect(server.stats().pendingDials).toBe(1);
    abort.abort();
    expect(await dialing).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'canceled' });
    await waitFor('the agent dial to be canceled', () =>
      agentDial.signal.aborted ? true : undefined,
    );
    await f.close();
    await idle();
  });

  it.each([
    {
      name: 'an agent certificate (a spoke may not dial other spokes)',
      tls: () => {
        const cert = pki.agent('a', 'a1');
        return { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem };
      },
      path: '/frontend',
      expected: { code: 403, message: 'agent certificates (cluster "a") may not use the frontend' },
    },
    {
      name: 'another path',
      tls: () => hubTls,
      path: '/tunnel',
      expected: { code: 404, message: 'no frontend at "/tunnel"; use /frontend' },
    },
    {
      name: 'a certificate from another CA (the TLS handshake fails)',
      tls: () => ({
        certPem: foreign.frontend.certPem,
        keyPem: foreign.frontend.keyPem,
        caPem: pki.ca.certPem,
      }),
      path: '/frontend',
      expected: { code: 0 },
    },
  ])('refuses $name before the upgrade', async ({ tls, path, expected }) => {
    const url = new URL(server.addresses.frontendWebSocket as string);
    url.pathname = path;
    const err = await frontend({ url: url.href, tls: tls() }).catch((e: unknown) => e);
    expect(err).toMatchObject(expected);
  });

  it('answers a plain HTTPS request with 426', async () => {
    const url = new URL(server.addresses.frontendWebSocket as string);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          ca: hubTls.caPem,
          cert: hubTls.certPem,
          key: hubTls.keyPem,
          servername: 'localhost',
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(426);
  });

  it('closes gracefully with the server: open streams finish, then the WebSocket closes (1000)', async () => {
    const own = await startProxyServer({
      tls: pki.serverTls,
      logger: SILENT_LOGGER,
      listen: { agentGrpc: false, frontendGrpc: false, connect: false, health: false },
    });
    const cert = pki.agent('a', 'a1');
    await connectTestAgent({
      transport: 'websocket',
      address: own.addresses.agentWebSocket as string,
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
      agentId: 'a/a1',
    });
    await waitFor('the agent', () => (own.stats().agents === 1 ? true : undefined));
    const f = await frontend({ url: own.addresses.frontendWebSocket as string });
    const stream = await f.session.dial('a_echo:1');
    const closing = own.close();
    // New dials are refused while the open stream still works.
    expect(await f.session.dial('a_echo:1').catch((e: unknown) => e)).toMatchObject({
      reason: 'tunnel-closed',
    });
    stream.end('last words');
    expect(await readText(stream)).toBe('last words');
    expect(await f.closed).toBeUndefined();
    await closing;
  });

  it('drops its WebSockets on destroy(): open streams are reset tunnel-closed', async () => {
    const own = await startProxyServer({
      tls: pki.serverTls,
      logger: SILENT_LOGGER,
      listen: { agentGrpc: false, frontendGrpc: false, connect: false, health: false },
    });
    const cert = pki.agent('a', 'a1');
    await connectTestAgent({
      transport: 'websocket',
      address: own.addresses.agentWebSocket as string,
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
      agentId: 'a/a1',
    });
    await waitFor('the agent', () => (own.stats().agents === 1 ? true : undefined));
    const f = await frontend({ url: own.addresses.frontendWebSocket as string });
    const stream = await f.session.dial('a_echo:1');
    const failed = once(stream, 'error') as Promise<[ProtocolError]>;
    own.destroy();
    const [err] = await failed;
    expect(err).toMatchObject({ code: 'PROTO_ERR_STREAM_RESET', resetCode: 'tunnel-closed' });
    expect(await f.closed).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED' });
  });
});
