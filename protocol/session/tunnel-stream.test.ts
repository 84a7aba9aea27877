import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';

import { describe, expect, it } from 'vitest';

import {
  INITIAL_STREAM_WINDOW_BYTES,
  LEGACY_STREAM_BUFFER_BYTES,
  MAX_DATA_CHUNK_BYTES,
} from '../constants.ts';
import { ProtocolError } from '../errors.ts';
import { Extension } from '../extensions.ts';
import type { InboundPacket } from '../grpc-services.ts';
import { packetBufferPoolStats } from './packet-buffer-pool.ts';
import {
  FULL_EXTENSIONS,
  NO_EXTENSIONS,
  TRANSPORT_KINDS,
  echoAcceptor,
  hashAll,
  readAll,
  readBytes,
  disposedAfterEach,
  waitFor,
  waitIdle,
} from './session-test-kit.ts';
import { STREAM_HIGH_WATER_MARK_BYTES, type TunnelStream } from './tunnel-stream.ts';
import type { IncomingDial } from './types.ts';

const MiB = 1024 * 1024;

const pair = disposedAfterEach();

/** Writes `total` bytes of `block` (repeated) with backpressure, then ends. */
async function writeAll(stream: TunnelStream, block: Buffer, total: number): Promise<void> {
  for (let sent = 0; sent < total; sent += block.length) {
    const chunk = block.subarray(0, Math.min(block.length, total - sent));
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
}

function sha256OfRepeated(block: Buffer, total: number): string {
  const hash = createHash('sha256');
  for (let n = 0; n < total; n += block.length)
    hash.update(block.subarray(0, Math.min(block.length, total - n)));
  return hash.digest('hex');
}

/** Accepted streams in arrival order. */
function acceptInto(list: TunnelStream[]): (dial: IncomingDial) => void {
  return (dial) => {
    const stream = dial.accept();
    stream.on('error', () => {});
    list.push(stream);
  };
}

describe.each(TRANSPORT_KINDS)('TunnelStream over %s', (kind) => {
  it('half-closes: the dialer ends, the acceptor still writes back, then both finish', async () => {
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, { onDial: acceptInto(accepted) });
    const stream = await p.dialer.dial('svc:80');
    const reply = readAll(stream);
    stream.end('request');
    await waitFor(() => accepted.length === 1, 'accepted stream');
    const remote = accepted[0]!;
    expect((await readAll(remote)).toString()).toBe('request'); // EOF arrived, stream still open
    remote.write('response part 1, ');
    await new Promise((resolve) => setTimeout(resolve, 10));
    remote.end('part 2');
    expect((await reply).toString()).toBe('response part 1, part 2');
    await waitIdle(p);
    expect(stream.resetCode).toBeUndefined();
    expect(remote.resetCode).toBeUndefined();
  });

  it('without half-close, end() closes the whole stream as ANP does', async () => {
    const accepted: TunnelStream[] = [];
    const extensions = new Set([...FULL_EXTENSIONS].filter((e) => e !== Extension.HALF_CLOSE));
    const p = await pair(kind, { extensions, onDial: acceptInto(accepted) });
    const stream = await p.dialer.dial('svc:80');
    stream.write('last words');
    await waitFor(() => accepted.length === 1, 'accepted stream');
    const remote = accepted[0]!;
    const received = readAll(remote);
    const reply = readAll(stream);
    stream.end();
    expect((await received).toString()).toBe('last words');
    expect((await reply).length).toBe(0);
    remote.end('discarded: the stream is closed');
    await waitIdle(p);
  });

  it('carries 32 MiB byte-exact in both directions (echo)', async () => {
    const total = 32 * MiB;
    const block = randomBytes(MiB);
    const p = await pair(kind, { onDial: echoAcceptor });
    const stream = await p.dialer.dial('svc:80');
    const started = performance.now();
    const [result] = await Promise.all([hashAll(stream), writeAll(stream, block, total)]);
    const seconds = (performance.now() - started) / 1000;
    expect(result.bytes).toBe(total);
    expect(result.sha256).toBe(sha256OfRepeated(block, total));
    // Each byte crossed the tunnel twice.
    process.stderr.write(
      `[${kind}] 32 MiB echo: ${((2 * total) / 1e6 / seconds).toFixed(0)} MB/s tunnel payload (${seconds.toFixed(2)} s)\n`,
    );
    await waitIdle(p);
    expect(p.dialer.stats()).toMatchObject({ bytesOut: total, bytesIn: total });
  });

  it('gathers corked writes into DATA of at most MAX_DATA_CHUNK_BYTES, byte-exact, returning every packet buffer', async () => {
    const lentBefore = packetBufferPoolStats().lent;
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, { onDial: acceptInto(accepted) });
    const dataSizes: number[] = [];
    p.transports.client.on('packet', (packet: InboundPacket) => {
      if (!(packet instanceof ProtocolError) && packet.type === 'DATA')
        dataSizes.push(packet.data.length);
    });
    const stream = await p.dialer.dial('svc:80');
    stream.resume(); // nothing comes back but the EOF
    await waitFor(() => accepted.length === 1, 'accepted stream');
    const received = hashAll(accepted[0]!);
    const source = randomBytes(4 * MiB);
    const expected = createHash('sha256');
    let writes = 0;
    // Bursts of uneven writes (1 B … 20 KiB), each corked so that it reaches _writev whole.
    for (let offset = 0, burst = 0; offset < source.length; burst++) {
      stream.cork();
      for (let i = 0; i < 40 && offset < source.length; i++, writes++) {
        const size = Math.min(1 + ((burst * 7919 + i * 104_729) % 20_480), source.length - offset);
        const chunk = source.subarray(offset, offset + size);
        expected.update(chunk);
        stream.write(chunk);
        offset += size;
      }
      stream.uncork();
      if (stream.writableNeedDrain) await once(stream, 'drain');
    }
    stream.end();
    const result = await received;
    expect(result).toEqual({ bytes: source.length, sha256: expected.digest('hex') });
    expect(Math.max(...dataSizes)).toBeLessThanOrEqual(MAX_DATA_CHUNK_BYTES);
    expect(dataSizes.reduce((a, b) => a + b, 0)).toBe(source.length);
    expect(dataSizes.length).toBeLessThan(writes / 4); // gathered, not one packet per write
    accepted[0]!.end();
    await waitIdle(p);
    await waitFor(() => packetBufferPoolStats().lent <= lentBefore, 'packet buffers returned');
  });

  it('isolates a slow reader: B transfers many MiB while A is stalled within its window', async () => {
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, { onDial: acceptInto(accepted) });
    const a = await p.dialer.dial('svc:1');
    await waitFor(() => accepted.length === 1, 'stream A accepted');
    const remoteA = accepted[0]!;
    remoteA.pause(); // A's consumer never reads
    let aWritten = 0;
    const block = randomBytes(64 * 1024);
    const aWriter = (async () => {
      for (let i = 0; i < 64; i++) {
        if (!a.write(block)) await new Promise((resolve) => a.once('drain', resolve));
        aWritten += block.length;
      }
    })();
    aWriter.catch(() => {});
    await waitFor(() => p.dialer.stats().windowStalls > 0, 'A stalled on credit');

    const b = await p.dialer.dial('svc:2');
    await waitFor(() => accepted.length === 2, 'stream B accepted');
    const total = 16 * MiB;
    const [received] = await Promise.all([
      hashAll(accepted[1]!),
      writeAll(b, randomBytes(MiB), total),
    ]);
    expect(received.bytes).toBe(total);

    const bufferedA = p.acceptor.stats().bufferedBytes;
    expect(bufferedA).toBeGreaterThan(0);
    expect(bufferedA).toBeLessThanOrEqual(
      INITIAL_STREAM_WINDOW_BYTES + STREAM_HIGH_WATER_MARK_BYTES,
    );
    expect(aWritten).toBeLessThan(64 * block.length);

    remoteA.resume(); // A completes once read
    const restA = hashAll(remoteA);
    await aWriter;
    a.end();
    expect((await restA).bytes).toBeGreaterThan(0);
    b.destroy();
    a.destroy();
    for (const s of accepted) s.destroy();
    await waitIdle(p);
  });

  it('connection brake: no DATA while the transport is above its mark; control still goes', async () => {
    const p = await pair(kind, {
      onDial: echoAcceptor,
      transport: { ws: { highWaterMarkBytes: 32 * 1024, lowWaterMarkBytes: 8 * 1024 } },
    });
    const log = { brakes: 0, dataWhileBraked: 0, controlWhileBraked: 0 };
    const sides = [
      { transport: p.transports.server, session: p.dialer },
      { transport: p.transports.client, session: p.acceptor },
    ];
    for (const { transport, session } of sides) {
      let isBraked = false;
      const send = transport.send.bind(transport);
      transport.send = (packet) => {
        const type = packet instanceof Uint8Array ? 'bytes' : packet.type;
        if (isBraked) log[type === 'DATA' ? 'dataWhileBraked' : 'controlWhileBraked']++;
        const ok = send(packet);
        if (!ok && !isBraked) {
          isBraked = true;
          log.brakes++;
          // A control packet of our own while the brake is on (window updates may or may not
          // fall into a brake, depending on timing): it must go out at once.
          queueMicrotask(() => void session.ping(5_000).catch(() => {}));
        }
        return ok;
      };
      // Before the session's own listener, which resumes the streams.
      transport.prependListener('drain', () => (isBraked = false));
    }
    // Six streams: their windows together exceed grpc-js's 16-message queue, so both
    // transports brake.
    const total = 2 * MiB;
    const block = randomBytes(256 * 1024);
    const streams = await Promise.all(
      Array.from({ length: 6 }, (_, i) => p.dialer.dial(`svc:${i + 1}`)),
    );
    const [hashes] = await Promise.all([
      Promise.all(streams.map((s) => hashAll(s))),
      Promise.all(streams.map((s) => writeAll(s, block, total))),
    ]);
    const expected = sha256OfRepeated(block, total);
    expect(hashes.map((h) => h.sha256)).toEqual(streams.map(() => expected));
    expect(log.brakes).toBeGreaterThan(0);
    expect(log.dataWhileBraked).toBe(0);
    expect(log.controlWhileBraked).toBeGreaterThan(0);
    await waitIdle(p);
  });

  it('plain ANP: round trip without any extension', async () => {
    const p = await pair(kind, { extensions: NO_EXTENSIONS, onDial: echoAcceptor });
    const streams = await Promise.all([p.dialer.dial('svc:1'), p.dialer.dial('svc:2')]);
    // The acceptor allocates connectIDs as a counter from 1 (ANP agents do the same).
    expect(streams.map((s) => s.streamId).sort()).toEqual([1n, 2n]);
    const payload = randomBytes(3 * MiB);
    const replies = streams.map((s) => readBytes(s, payload.length));
    streams.forEach((s) => s.write(payload));
    for (const reply of replies) expect((await reply).equals(payload)).toBe(true);
    for (const s of streams) {
      s.end(); // without half-close: closes the whole stream
      s.resume();
    }
    await waitIdle(p);
  });

  it('plain ANP: overflowing one stream resets only that stream', async () => {
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, { extensions: NO_EXTENSIONS, onDial: acceptInto(accepted) });
    const a = await p.dialer.dial('svc:1');
    a.on('error', () => {});
    const b = await p.dialer.dial('svc:2');
    await waitFor(() => accepted.length === 2, 'both accepted');
    const [remoteA, remoteB] = accepted as [TunnelStream, TunnelStream];
    remoteA.pause();
    const resetA = new Promise<unknown>((resolve) => remoteA.once('error', resolve));
    void writeAll(a, randomBytes(MiB), LEGACY_STREAM_BUFFER_BYTES + 4 * MiB).catch(() => {});
    expect(await resetA).toMatchObject({
      code: 'PROTO_ERR_STREAM_RESET',
      resetCode: 'flow-control',
      cause: { code: 'PROTO_ERR_DATA_EXCEEDS_WINDOW' },
    });
    expect(remoteA.resetCode).toBe('flow-control');
    const [received] = await Promise.all([
      hashAll(remoteB),
      writeAll(b, randomBytes(MiB), 8 * MiB),
    ]);
    expect(received.bytes).toBe(8 * MiB);
    a.destroy();
    remoteB.end();
    b.resume();
    await waitIdle(p);
  });
});
