// Garbage on the wire: the offending call or tunnel is closed with a clear code, and the
// server keeps serving everyone else.
import { once } from 'node:events';

import {
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type StatusObject,
} from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';

import {
  EXTENSIONS_METADATA_KEY,
  type InboundPacket,
  loadTunnelServices,
  METADATA_KEYS,
  type OutboundPacket,
  SUPPORTED_EXTENSIONS,
  formatExtensions,
  agentId,
} from '../../protocol/index.ts';
import { testPki } from '../framework/pki.ts';
import { startEchoTarget } from '../framework/targets.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';

async function echoWorks(rig: Awaited<ReturnType<typeof startTunnelRig>>): Promise<string> {
  const stream = await rig.client.dial('c1', 'kube-apiserver');
  stream.end('still here');
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('bad input on the wire', () => {
  it('closes a ProxyService call that sends undecodable bytes, and keeps serving other calls', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport: 'grpc',
      clusters: [{ name: 'c1', kubeApiserver: echo.address }],
    });
    const pki = testPki();
    const Client = makeGenericClientConstructor(
      loadTunnelServices().proxyServiceClient as never,
      'ProxyService',
    );
    const raw = new Client(
      rig.server.addresses.frontendGrpc as string,
      credentials.createSsl(
        Buffer.from(pki.ca.certPem),
        Buffer.from(pki.hubClient.keyPem),
        Buffer.from(pki.hubClient.certPem),
      ),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    onTestFinished(() => raw.close());
    const md = new Metadata();
    md.set(EXTENSIONS_METADATA_KEY, formatExtensions(SUPPORTED_EXTENSIONS));
    const call = (
      raw as unknown as { Proxy(md: Metadata): ClientDuplexStream<OutboundPacket, InboundPacket> }
    ).Proxy(md);
    call.on('error', () => {});
    call.on('data', () => {});
    // (events.once would reject on the 'error' that accompanies a failed status.)
    const status = new Promise<[StatusObject]>((resolve) =>
      call.once('status', (s: StatusObject) => resolve([s])),
    );
    // Field 1 with wire type 7 does not exist in protobuf: this cannot be decoded.
    call.write(Uint8Array.from([0x0f, 0xff, 0xff, 0xff]));
    const [result] = await status;
    expect(result.code).toBe(13); // INTERNAL
    expect(result.details).toBe('malformed packet at byte 1: invalid wire type 7');
    // Everyone else is untouched.
    expect(await echoWorks(rig)).toBe('still here');
    await rig.assertIdle();
  });

  it('closes an agent WebSocket that sends garbage with close code 4000, and keeps the other agents', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport: 'websocket',
      clusters: [{ name: 'c1', kubeApiserver: echo.address }],
    });
    const pki = testPki();
    const cert = pki.agent('c2', 'a0');
    // The server certificate names localhost and 127.0.0.1; no servername needed for the IP.
    const ws = new WebSocket(rig.server.addresses.agentWebSocket as string, {
      cert: cert.certPem,
      key: cert.keyPem,
      ca: pki.ca.certPem,
      perMessageDeflate: false,
      headers: {
        [METADATA_KEYS.agentId.toLowerCase()]: agentId('c2', 'a0'),
        [EXTENSIONS_METADATA_KEY]: formatExtensions(SUPPORTED_EXTENSIONS),
      },
    });
    ws.on('error', () => {});
    await once(ws, 'open');
    expect(
      rig.server
        .agents()
        .map((a) => a.cluster)
        .sort(),
    ).toEqual(['c1', 'c2']);
    const closed = once(ws, 'close') as Promise<[number, Buffer]>;
    ws.send(Buffer.from([0x0f, 0xff, 0xff, 0xff]));
    const [code] = await closed;
    expect(code).toBe(4000);
    await rig.assertIdle();
    expect(rig.server.agents().map((a) => a.cluster)).toEqual(['c1']);
    expect(await echoWorks(rig)).toBe('still here');
  });
});
