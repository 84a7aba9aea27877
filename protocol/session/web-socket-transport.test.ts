import { afterEach, describe, expect, it } from 'vitest';

import type { InboundPacket } from '../grpc-services.ts';
import { connectTransports, waitFor, type TransportPair } from './session-test-kit.ts';
import { TUNNEL_CLOSE_CODES, tunnelCloseCodeName } from './tunnel-close-codes.ts';
import { WS_HIGH_WATER_MARK_BYTES } from './web-socket-transport.ts';

let pairs: TransportPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.map((p) => p.dispose()));
  pairs = [];
});

async function wsPair(): Promise<TransportPair> {
  const p = await connectTransports('ws');
  pairs.push(p);
  return p;
}

function closeOf(transport: TransportPair['client']): Promise<unknown> {
  return new Promise((resolve) => transport.once('close', resolve));
}

describe('webSocketTransport', () => {
  it('carries packets in order, brakes above the high-water mark and drains', async () => {
    const p = await wsPair();
    const received: InboundPacket[] = [];
    p.server.on('packet', (packet: InboundPacket) => received.push(packet));
    const data = Buffer.alloc(64 * 1024, 7);
    const count = Math.ceil((2 * WS_HIGH_WATER_MARK_BYTES) / data.length);
    const results: boolean[] = [];
    for (let i = 0; i < count; i++) {
      results.push(p.client.send({ type: 'DATA', connectId: BigInt(i + 1), data }));
    }
    expect(results[0]).toBe(true);
    expect(results.at(-1)).toBe(false);
    expect(p.client.bufferedBytes).toBeGreaterThanOrEqual(WS_HIGH_WATER_MARK_BYTES);
    await new Promise((resolve) => p.client.once('drain', resolve));
    await waitFor(() => received.length === count, 'all packets');
    expect(received.map((r) => (r as { connectId: bigint }).connectId)).toEqual(
      Array.from({ length: count }, (_, i) => BigInt(i + 1)),
    );
    expect(p.client.bufferedBytes).toBe(0);
    expect(p.client.send({ type: 'DRAIN' })).toBe(true);
  });

  it('end() closes both sides without an error; send() then returns false', async () => {
    const p = await wsPair();
    const [clientClose, serverClose] = [closeOf(p.client), closeOf(p.server)];
    p.client.end();
    p.client.end();
    expect(await clientClose).toBeUndefined();
    expect(await serverClose).toBeUndefined();
    expect(p.client.send({ type: 'DRAIN' })).toBe(false);
  });

  it('destroy(err, closeCode) sends the application close code to the peer', async () => {
    const p = await wsPair();
    const serverClose = closeOf(p.server);
    p.client.destroy(new Error('hub shutting down'), TUNNEL_CLOSE_CODES.DRAINING);
    const err = await serverClose;
    expect(err).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED', closeCode: 4003 });
    expect((err as Error).message).toMatch(/4003 \(DRAINING\): DRAINING: hub shutting down/);
  });

  it('destroy() without a code terminates; the peer sees 1006', async () => {
    const p = await wsPair();
    const serverClose = closeOf(p.server);
    p.client.destroy();
    expect(await serverClose).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED', closeCode: 1006 });
  });

  it('delivers raw binary messages decoded, and a text message as a ProtocolError', async () => {
    const p = await wsPair();
    const packets: unknown[] = [];
    p.server.on('packet', (packet: unknown) => packets.push(packet));
    p.webSockets!.client.send(Uint8Array.from([0x08, 0x06, 0x42, 0x00])); // DRAIN
    p.webSockets!.client.send('not a packet');
    await waitFor(() => packets.length === 2, 'two packets');
    expect(packets[0]).toEqual({ type: 'DRAIN' });
    expect(packets[1]).toMatchObject({ name: 'ProtocolError', code: 'PROTO_ERR_MALFORMED' });
  });

  it('names the tunnel close codes', () => {
    expect(Object.values(TUNNEL_CLOSE_CODES)).toEqual([4000, 4001, 4002, 4003, 4004]);
    expect(tunnelCloseCodeName(4002)).toBe('CLUSTER_MISMATCH');
    expect(tunnelCloseCodeName(1000)).toBeUndefined();
  });
});
