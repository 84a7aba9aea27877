// A real grpc-js server and client on loopback: the service definitions carry typed packets,
// metadata keys arrive lowercased, and an invalid packet reaches the handler as a ProtocolError
// instead of failing the call.
import { once } from 'node:events';

import {
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  type ClientDuplexStream,
  type ServerDuplexStream,
} from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';

import { decodePacket } from './codec.ts';
import { ProtocolError } from './errors.ts';
import {
  formatExtensions,
  negotiateExtensions,
  parseExtensions,
  SUPPORTED_EXTENSIONS,
} from './extensions.ts';
import { loadTunnelServices, type InboundPacket, type OutboundPacket } from './grpc-services.ts';
import { METADATA_KEYS } from './metadata.ts';

async function startServer(
  handler: (call: ServerDuplexStream<InboundPacket, OutboundPacket>) => void,
): Promise<number> {
  const server = new Server();
  server.addService(loadTunnelServices().agentServiceServer, { Connect: handler });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  onTestFinished(() => server.forceShutdown());
  return port;
}

describe('loadTunnelServices', () => {
  it('returns the same definitions on every call', () => {
    expect(loadTunnelServices()).toBe(loadTunnelServices());
  });

  it('carries packets, metadata and invalid packets over a real AgentService.Connect call', async () => {
    const received: InboundPacket[] = [];
    const serverSaw: Record<string, unknown> = {};
    const port = await startServer((call) => {
      const md = call.metadata;
      serverSaw.agentId = md.get('agentid');
      serverSaw.extensions = [
        ...negotiateExtensions(
          SUPPORTED_EXTENSIONS,
          parseExtensions(md.get(METADATA_KEYS.extensions)),
        ),
      ];
      const header = new Metadata();
      header.set(METADATA_KEYS.serverId, 'server-1');
      header.set(METADATA_KEYS.serverCount, '1');
      header.set(METADATA_KEYS.extensions, formatExtensions(SUPPORTED_EXTENSIONS));
      call.sendMetadata(header);
      call.write({ type: 'DIAL_REQ', protocol: 'tcp', address: 'kube-apiserver:443', random: 11n });
      call.on('data', (packet: InboundPacket) => received.push(packet));
      call.on('end', () => call.end());
    });

    const Client = makeGenericClientConstructor(
      loadTunnelServices().agentServiceClient,
      'AgentService',
    );
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    onTestFinished(() => client.close());
    const md = new Metadata();
    md.set(METADATA_KEYS.agentId, 'agent-7');
    md.set(METADATA_KEYS.extensions, 'ping,stream-id');
    const call = (
      client as unknown as {
        Connect(md: Metadata): ClientDuplexStream<OutboundPacket, InboundPacket>;
      }
    ).Connect(md);
    const [headers] = (await once(call, 'metadata')) as [Metadata];
    const [first] = (await once(call, 'data')) as [InboundPacket];

    expect(headers.get('serverid')).toEqual(['server-1']);
    expect(first).toEqual({
      type: 'DIAL_REQ',
      protocol: 'tcp',
      address: 'kube-apiserver:443',
      random: 11n,
    });

    call.write({ type: 'DIAL_RSP', random: 11n, connectId: 11n, error: '' });
    call.write(Uint8Array.from([0x08, 0x04])); // pre-encoded bytes pass through: here, an invalid DATA
    call.write({ type: 'EXT_PING', nonce: 1, timestampUs: 2 });
    call.end();
    await once(call, 'end');

    expect(serverSaw).toEqual({ agentId: ['agent-7'], extensions: ['ping', 'stream-id'] });
    expect(received).toHaveLength(3);
    expect(received[0]).toEqual({ type: 'DIAL_RSP', random: 11n, connectId: 11n, error: '' });
    expect(received[1]).toBeInstanceOf(ProtocolError);
    expect((received[1] as ProtocolError).code).toBe('PROTO_ERR_MISSING_PAYLOAD');
    expect(received[2]).toEqual({ type: 'EXT_PING', nonce: 1, timestampUs: 2 });
  });

  it('refuses to serialize a ProtocolError or an UNKNOWN packet', () => {
    const { requestSerialize } = loadTunnelServices().proxyServiceClient.Proxy;
    expect(() => requestSerialize(new ProtocolError('PROTO_ERR_MALFORMED', 'x') as never)).toThrow(
      ProtocolError,
    );
    expect(() => requestSerialize({ type: 'UNKNOWN', typeNumber: 9 } as never)).toThrow(
      ProtocolError,
    );
    expect(decodePacket(requestSerialize({ type: 'DRAIN' }))).toEqual({ type: 'DRAIN' });
  });
});
