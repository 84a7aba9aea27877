// The HTTP CONNECT frontend over real sockets, against a test agent built from protocol/.
import { Buffer } from 'node:buffer';
import { once } from 'node:events';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { IncomingDial } from '../../protocol/index.ts';
import { SILENT_LOGGER } from '../logger.ts';
import { startProxyServer } from '../proxy-server.ts';
import type { ProxyServer } from '../proxy-server.ts';
import { readAll, sendConnect } from '../testing/connect-client.ts';
import { connectTestAgent, echoDial } from '../testing/test-peers.ts';
import type { TestAgent } from '../testing/test-peers.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';

const pki = createServerTestPki();
let server: ProxyServer;
let agent: TestAgent;
/** Dials the agent left unanswered ('silent' targets), to see their cancellation. */
const silentDials: IncomingDial[] = [];

/** The agent's behaviour depends on the target host. */
function onDial(dial: IncomingDial): void {
  const host = dial.address.split(':')[0];
  if (host === 'silent') silentDials.push(dial);
  else if (host === 'refuse')
    dial.reject('refused', 'dial tcp 10.0.0.9:1: connect: connection refused');
  else if (host === 'reset') dial.accept().reset('connection-reset');
  else echoDial(dial);
}

beforeAll(async () => {
  server = await startProxyServer({
    tls: pki.serverTls,
    logger: SILENT_LOGGER,
    agentDialTimeoutMs: 300,
    listen: { agentWebSocket: false, frontendGrpc: false, health: false },
  });
  const cert = pki.agent('a', 'a1');
  agent = await connectTestAgent({
    transport: 'grpc',
    address: server.addresses.agentGrpc as string,
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
    agentId: 'a/a1',
    identifiers: 'host=a.ns',
    onDial,
  });
  await waitFor('the agent', () => (server.stats().agents === 1 ? true : undefined));
});
afterAll(() => server.close());

function idle(): Promise<true> {
  return waitFor('no open streams or pending dials', () => {
    const { openStreams, pendingDials } = server.stats();
    return openStreams === 0 && pendingDials === 0 ? true : undefined;
  });
}

describe('HTTP CONNECT frontend', () => {
  it('answers 200 Connection Established and echoes through the agent (routed by destHost)', async () => {
    const res = await sendConnect(server.addresses.connect as string, 'a.ns:443');
    expect(res.status).toBe(200);
    res.socket.end('hello through the tunnel');
    expect(await readAll(res.socket, res.rest)).toBe('hello through the tunnel');
    expect(agent.dials.at(-1)).toBe('a.ns:443');
    await idle();
  });

  it('routes by the spokelink-cluster header and forwards the address unchanged', async () => {
    const res = await sendConnect(server.addresses.connect as string, 'kube-apiserver:6443', {
      'spokelink-cluster': 'a',
    });
    expect(res.status).toBe(200);
    res.socket.end('x');
    expect(await readAll(res.socket, res.rest)).toBe('x');
    expect(agent.dials.at(-1)).toBe('kube-apiserver:6443');
    await idle();
  });

  it('passes on bytes the client sent right behind the request head', async () => {
    const { hostname, port } = new URL(server.addresses.connect as string);
    const { connect } = await import('node:net');
    const socket = connect({ host: hostname, port: Number(port) });
    socket.write('CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\nearly bytes');
    socket.once('data', () => socket.end(', then more'));
    const text = await readAll(socket);
    expect(text).toBe('HTTP/1.1 200 Connection Established\r\n\r\nearly bytes, then more');
    await idle();
  });

  it.each([
    {
      target: 'nowhere:443',
      status: 503,
      reason: 'no-agent',
      body: 'No agent available for host "nowhere"\n',
    },
    {
      target: 'silent:1',
      headers: { 'spokelink-cluster': 'a' },
      status: 504,
      reason: 'timeout',
      body: undefined,
    },
    {
      target: 'refuse:1',
      headers: { 'spokelink-cluster': 'a' },
      status: 502,
      reason: 'refused',
      body: undefined,
    },
    {
      target: 'no-port',
      status: 400,
      reason: 'bad-request',
      body: 'dial address "no-port" is not host:port: missing port\n',
    },
  ])(
    'answers $status with Spokelink-Dial-Failure: $reason for $target',
    async ({ target, headers, status, reason, body }) => {
      const res = await sendConnect(server.addresses.connect as string, target, headers);
      expect(res.status).toBe(status);
      expect(res.headers['spokelink-dial-failure']).toBe(reason);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      const text = await readAll(res.socket, res.rest);
      if (body !== undefined) expect(text).toBe(body);
      else expect(text).toMatch(new RegExp(`\\(${reason}\\)`));
      await idle();
    },
  );

  it('answers 405 to anything but CONNECT', async () => {
    const res = await sendConnect(server.addresses.connect as string, '/', {}, 'GET');
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('CONNECT');
    res.socket.destroy();
  });

  it.each(['destroy', 'end'] as const)(
    'cancels the dial when the client goes away (%s) while the agent is still dialing',
    async (how) => {
      const { hostname, port } = new URL(server.addresses.connect as string);
      const { connect } = await import('node:net');
      const before = silentDials.length;
      const socket = connect({ host: hostname, port: Number(port) });
      socket.on('error', () => {});
      socket.write('CONNECT silent:2 HTTP/1.1\r\nHost: silent:2\r\nspokelink-cluster: a\r\n\r\n');
      const dial = await waitFor('the agent to see the dial', () => silentDials[before]);
      expect(server.stats().pendingDials).toBe(1);
      socket[how]();
      await waitFor('the dial to be canceled', () => (dial.signal.aborted ? true : undefined), 200);
      await idle();
    },
  );

  it('resets the client connection when the agent resets the stream', async () => {
    const res = await sendConnect(server.addresses.connect as string, 'reset:1', {
      'spokelink-cluster': 'a',
    });
    expect(res.status).toBe(200);
    const err = await new Promise<unknown>((resolve) => {
      res.socket.once('error', resolve);
      res.socket.once('close', () => resolve(undefined));
      res.socket.resume();
    });
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    await idle();
  });

  it('bounds the request head', async () => {
    const res = await sendConnect(server.addresses.connect as string, 'a:1', {
      'x-big': 'y'.repeat(20_000),
    });
    expect(res.status).toBe(431);
    res.socket.destroy();
    expect(Buffer.byteLength('y'.repeat(20_000))).toBeGreaterThan(16 * 1024);
  });
});

describe('HTTP CONNECT frontend over TLS', () => {
  it('serves CONNECT over TLS, and turns an agent reset into a closed client connection', async () => {
    const tlsServer = await startProxyServer({
      tls: pki.serverTls,
      logger: SILENT_LOGGER,
      listen: { agentWebSocket: false, frontendGrpc: false, health: false, connect: { tls: true } },
    });
    try {
      const cert = pki.agent('a', 'a2');
      await connectTestAgent({
        transport: 'grpc',
        address: tlsServer.addresses.agentGrpc as string,
        tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
        agentId: 'a/a2',
        onDial,
      });
      await waitFor('the agent', () => (tlsServer.stats().agents === 1 ? true : undefined));
      const url = tlsServer.addresses.connect as string;
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ok = await sendConnect(url, 'a:443', {}, 'CONNECT', pki.ca.certPem);
      expect(ok.status).toBe(200);
      ok.socket.end('over tls');
      expect(await readAll(ok.socket, ok.rest)).toBe('over tls');
      const reset = await sendConnect(
        url,
        'reset:1',
        { 'spokelink-cluster': 'a' },
        'CONNECT',
        pki.ca.certPem,
      );
      expect(reset.status).toBe(200);
      reset.socket.on('error', () => {});
      reset.socket.resume();
      await once(reset.socket, 'close');
      await waitFor('no open streams', () =>
        tlsServer.stats().openStreams === 0 ? true : undefined,
      );
    } finally {
      await tlsServer.close();
    }
  });
});
