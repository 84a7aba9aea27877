// Bytes through the whole tunnel — client → proxy-server → agent → target and back — over both
// agent transports and both client transports (gRPC ProxyService, the frontend WebSocket):
// exactness, half-close, and a stalled reader that stalls nothing else.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { startEchoTarget, startTarget } from '../framework/targets.ts';
import { startTunnelRig, type Transport } from '../framework/tunnel-rig.ts';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random chunks (xorshift), so that a reordering or loss changes the hash. */
function* chunks(totalBytes: number, chunkBytes = 256 * 1024): Generator<Buffer> {
  let x = 0x9e3779b9;
  for (let sent = 0; sent < totalBytes; sent += chunkBytes) {
    const buf = Buffer.allocUnsafe(Math.min(chunkBytes, totalBytes - sent));
    for (let i = 0; i + 4 <= buf.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      buf.writeUInt32LE(x >>> 0, i);
    }
    yield buf;
  }
}

/** Writes `totalBytes` with backpressure, then ends; resolves the sha256 of what was written. */
async function writeAll(stream: Duplex, totalBytes: number): Promise<string> {
  const hash = createHash('sha256');
  for (const chunk of chunks(totalBytes)) {
    hash.update(chunk);
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  return hash.digest('hex');
}

/** Reads to the end; resolves the sha256 and byte count of what was read. */
async function readAll(stream: Duplex): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** [agent transport, client transport]. */
const TRANSPORTS: [Transport, Transport][] = [
  ['grpc', 'grpc'],
  ['websocket', 'grpc'],
  ['grpc', 'websocket'],
  ['websocket', 'websocket'],
];

describe.each(TRANSPORTS)('tunnel transfer: agent %s, client %s', (transport, clientTransport) => {
  it('carries 100 MiB each way byte-exact (to an echo target and back), then is idle', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport,
      clientTransport,
      clusters: [{ name: 'c1', kubeApiserver: echo.address }],
    });
    const stream = await rig.client.dial('c1', 'kube-apiserver');
    const [sent, received] = await Promise.all([writeAll(stream, 100 * MiB), readAll(stream)]);
    expect(received.bytes).toBe(100 * MiB);
    expect(received.sha256).toBe(sent);
    await rig.assertIdle();
  });

  it('half-closes: the client ends its side and still reads everything the target sends after', async () => {
    const target = await startTarget((socket) => {
      let got = 0;
      socket.on('data', (d: Buffer) => (got += d.length));
      socket.on('end', () => {
        // The client's FIN arrived; answer afterwards, then end our side.
        socket.end(`received ${got} bytes after your end`);
      });
    });
    const rig = await startTunnelRig({
      transport,
      clientTransport,
      clusters: [{ name: 'c1', kubeApiserver: '127.0.0.1:1', allow: [target.address] }],
    });
    const stream = await rig.client.dial('c1', target.address);
    stream.end(Buffer.alloc(1000, 1));
    const reply = await readAll(stream);
    expect(reply.bytes).toBe('received 1000 bytes after your end'.length);
    await rig.assertIdle();
  });

  it('keeps other streams flowing while one reader is stalled, and bounds what the stalled one buffers', async () => {
    // A target that sends without end to every connection.
    const source = await startTarget((socket) => {
      const block = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (socket.write(block)) {
          /* until the socket pushes back */
        }
      };
      socket.on('drain', pump);
      pump();
    });
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport,
      clientTransport,
      clusters: [{ name: 'c1', kubeApiserver: echo.address, allow: [source.address] }],
    });
    const stalled = await rig.client.dial('c1', source.address);
    stalled.pause(); // never read
    await new Promise((r) => setTimeout(r, 300));
    // Meanwhile another stream on the same agent moves 32 MiB both ways.
    const busy = await rig.client.dial('c1', 'kube-apiserver');
    const [sent, received] = await Promise.all([writeAll(busy, 32 * MiB), readAll(busy)]);
    expect(received.sha256).toBe(sent);
    // The stall reached all the way back: the agent stopped reading the target's socket, so the
    // target is blocked on backpressure instead of the tunnel buffering without bound.
    const [sourceSocket] = [...source.sockets];
    expect(sourceSocket?.writableNeedDrain).toBe(true);
    expect(stalled.readableLength).toBeLessThanOrEqual(4 * MiB);
    expect(rig.agents.get('c1')?.[0]?.stats().openStreams).toBe(1);
    stalled.destroy();
    await rig.assertIdle();
  });
});
