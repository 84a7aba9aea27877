// ProxyService over real sockets: a raw grpc-js client running a TunnelSession as dialer, through
// the server, to a WebSocket test agent running a TunnelSession as acceptor.
import { once } from 'node:events';

import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProtocolError } from '../../protocol/index.ts';
import type { IncomingDial, TunnelStreamApi } from '../../protocol/index.ts';
import { SILENT_LOGGER } from '../logger.ts';
import { startProxyServer } from '../proxy-server.ts';
import type { ProxyServer } from '../proxy-server.ts';
import { connectTestAgent, echoDial, openTestFrontend } from '../testing/test-peers.ts';
import type { TestFrontend, TestFrontendOptions } from '../testing/test-peers.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';

const pki = createServerTestPki();
let server: ProxyServer;
/** Streams the agent accepted and holds ('hold' targets) and dials it leaves open ('silent'). */
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
    listen: { agentGrpc: false, connect: false, health: false },
  });
  const cert = pki.agent('a', 'a1');
  await connectTestAgent({
    transport: 'websocket',
    address: server.addresses.agentWebSocket as string,
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
    agentId: 'a/a1',
    identifiers: 'host=a.ns',
    onDial,
  });
  await waitFor('the agent', () => (server.stats().agents === 1 ? true : undefined));
});
afterAll(() => server.close());

function frontend(extra: Partial<TestFrontendOptions> = {}): Promise<TestFrontend> {
  return openTestFrontend({
    address: server.addresses.frontendGrpc as string,
    tls: { certPem: pki.frontend.certPem, keyPem: pki.frontend.keyPem, caPem: pki.ca.certPem },
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

describe('gRPC ProxyService frontend', () => {
  it('bridges a dial with every extension (explicit cluster, half-close echo)', async () => {
    const f = await frontend({ cluster: 'a' });
    const stream = await f.session.dial('kube-apiserver:443');
    stream.end('hello with extensions');
    expect(await readText(stream)).toBe('hello with extensions');
    await f.close();
    await idle();
  });

  it('serves a plain ANP (konnectivity) client routed by destHost', async () => {
    const f = await frontend({ extensions: [] });
    expect(f.session.extensions.size).toBe(0);
    const stream = await f.session.dial('a.ns:443');
    stream.write('plain');
    const [chunk] = (await once(stream, 'data')) as [Buffer];
    expect(String(chunk)).toBe('plain');
    stream.end();
    await once(stream, 'close');
    await f.close();
    await idle();
  });

  it.each([
    { name: 'with error-codes', extensions: undefined },
    { name: 'plain ANP, reason read back from the text', extensions: [] },
  ])('fails a dial nobody serves with reason no-agent ($name)', async ({ extensions }) => {
    const f = await frontend(extensions === undefined ? {} : { extensions });
    const err = await f.session.dial('nowhere:443').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'no-agent' });
    expect((err as Error).message).toContain('No agent available for host "nowhere"');
    await f.close();
  });

  it('passes a reset from the agent on to the frontend with the same code', async () => {
    const f = await frontend({ cluster: 'a' });
    const stream = await f.session.dial('reset:1');
    const [err] = (await once(stream, 'error')) as [ProtocolError];
    expect(err).toMatchObject({ code: 'PROTO_ERR_STREAM_RESET', resetCode: 'connection-reset' });
    await f.close();
    await idle();
  });

  it('passes a reset from the frontend on to the agent with the same code', async () => {
    const f = await frontend({ cluster: 'a' });
    const before = held.length;
    const stream = await f.session.dial('hold:1');
    stream.on('error', () => {});
    const agentSide = await waitFor('the agent to hold the stream', () => held[before]);
    stream.reset('timeout');
    await waitFor('the agent side to be reset', () => agentSide.resetCode);
    expect(agentSide.resetCode).toBe('timeout');
    await f.close();
    await idle();
  });

  it('cancels the agent dial when the frontend cancels (DIAL_CLS end to end)', async () => {
    const f = await frontend({ cluster: 'a' });
    const before = silent.length;
    const abort = new AbortController();
    const dialing = f.session.dial('silent:1', { signal: abort.signal }).catch((e: unknown) => e);
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

  it('refuses an agent certificate: a spoke may not dial other spokes', async () => {
    const cert = pki.agent('a', 'a1');
    const err = await frontend({
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: GrpcStatus.PERMISSION_DENIED,
      message: 'agent certificates (cluster "a") may not use the frontend',
    });
  });
});
