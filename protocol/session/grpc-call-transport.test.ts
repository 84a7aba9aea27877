import { afterEach, describe, expect, it } from 'vitest';

import type { InboundPacket } from '../grpc-services.ts';
import { connectTransports, waitFor, type TransportPair } from './session-test-kit.ts';
import { TUNNEL_CLOSE_CODES } from './tunnel-close-codes.ts';

let pairs: TransportPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.map((p) => p.dispose()));
  pairs = [];
});

async function grpcPair(): Promise<TransportPair> {
  const p = await connectTransports('grpc');
  pairs.push(p);
  return p;
}

function closeOf(transport: TransportPair['client']): Promise<unknown> {
  return new Promise((resolve) => transport.once('close', resolve));
}

describe('grpcCallTransport', () => {
  it('carries packets both ways in order and accounts buffered bytes', async () => {
    const p = await grpcPair();
    const atServer: InboundPacket[] = [];
    const atClient: InboundPacket[] = [];
    p.server.on('packet', (packet: InboundPacket) => atServer.push(packet));
    p.client.on('packet', (packet: InboundPacket) => atClient.push(packet));
    const data = Buffer.alloc(64 * 1024, 1);
    const results: boolean[] = [];
    for (let i = 1; i <= 40; i++) {
      results.push(p.client.send({ type: 'DATA', connectId: BigInt(i), data }));
    }
    p.server.send({ type: 'DRAIN' });
    expect(results.includes(false)).toBe(true); // objectMode highWaterMark: 16 messages
    await new Promise((resolve) => p.client.once('drain', resolve));
    await waitFor(() => atServer.length === 40 && atClient.length === 1, 'all packets');
    expect(atServer.map((x) => (x as { connectId: bigint }).connectId)).toEqual(
      Array.from({ length: 40 }, (_, i) => BigInt(i + 1)),
    );
    expect(atClient).toEqual([{ type: 'DRAIN' }]);
    await waitFor(() => p.client.bufferedBytes === 0, 'flushed');
  });

  it.each(['client', 'server'] as const)(
    'end() from the %s completes the call without errors',
    async (side) => {
      const p = await grpcPair();
      const [clientClose, serverClose] = [closeOf(p.client), closeOf(p.server)];
      p[side].end();
      p[side].end();
      expect(await clientClose).toBeUndefined();
      expect(await serverClose).toBeUndefined();
      expect(p.client.send({ type: 'DRAIN' })).toBe(false);
    },
  );

  it('destroy() on the client cancels: both sides close', async () => {
    const p = await grpcPair();
    const [clientClose, serverClose] = [closeOf(p.client), closeOf(p.server)];
    p.client.destroy(new Error('agent stopping'));
    expect(await clientClose).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED' });
    // grpc-js reports a client's RST_STREAM to the handler as 'end' before 'cancelled', so
    // the server may see a plain end; a session with streams open still reports the loss.
    const serverErr = await serverClose;
    if (serverErr !== undefined)
      expect(serverErr).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED' });
    expect(p.server.send({ type: 'DRAIN' })).toBe(false);
  });

  it('destroy(err, closeCode) on the server ends the call with the matching status', async () => {
    const p = await grpcPair();
    const clientClose = closeOf(p.client);
    p.server.destroy(new Error('draining'), TUNNEL_CLOSE_CODES.DRAINING);
    const err = await clientClose;
    expect(err).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED' });
    expect((err as Error).message).toMatch(/14 UNAVAILABLE|status 14/);
  });
});
