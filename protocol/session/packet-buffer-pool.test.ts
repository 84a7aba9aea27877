import { Buffer } from 'node:buffer';

import { describe, expect, it } from 'vitest';

import {
  MAX_FREE_PACKET_BUFFERS,
  PACKET_BUFFER_BYTES,
  acquirePacketBuffer,
  packetBufferPoolStats,
  releasePacketBuffer,
} from './packet-buffer-pool.ts';

describe('packet buffer pool', () => {
  it('lends a view of the requested size and reuses it once released', () => {
    const a = acquirePacketBuffer(100);
    expect(a.length).toBe(100);
    expect(a.buffer.byteLength).toBe(PACKET_BUFFER_BYTES);
    const before = packetBufferPoolStats();
    releasePacketBuffer(a.subarray(10, 20)); // only the lent object itself returns it
    expect(packetBufferPoolStats()).toEqual(before);
    releasePacketBuffer(a);
    expect(packetBufferPoolStats()).toEqual({ free: before.free + 1, lent: before.lent - 1 });
    const b = acquirePacketBuffer(PACKET_BUFFER_BYTES);
    expect(b.buffer).toBe(a.buffer);
    releasePacketBuffer(b);
  });

  it('lends distinct buffers until they come back', () => {
    const held = Array.from({ length: 5 }, () => acquirePacketBuffer(64));
    expect(new Set(held.map((b) => b.buffer)).size).toBe(5);
    for (const b of held) releasePacketBuffer(b);
  });

  it('ignores a second release, and bytes it never lent', () => {
    const a = acquirePacketBuffer(10);
    releasePacketBuffer(a);
    const after = packetBufferPoolStats();
    releasePacketBuffer(a);
    releasePacketBuffer(Buffer.alloc(10));
    releasePacketBuffer(Buffer.allocUnsafeSlow(PACKET_BUFFER_BYTES));
    expect(packetBufferPoolStats()).toEqual(after);
    // Lent again, the buffer goes back only through the new lending, not through the stale view.
    const b = acquirePacketBuffer(10);
    expect(b.buffer).toBe(a.buffer);
    releasePacketBuffer(a);
    expect(packetBufferPoolStats().lent).toBe(after.lent + 1);
    releasePacketBuffer(b);
    expect(packetBufferPoolStats()).toEqual(after);
  });

  it('gives larger packets a fresh buffer that it does not pool', () => {
    const big = acquirePacketBuffer(PACKET_BUFFER_BYTES + 1);
    expect(big.length).toBe(PACKET_BUFFER_BYTES + 1);
    const before = packetBufferPoolStats();
    releasePacketBuffer(big);
    expect(packetBufferPoolStats()).toEqual(before);
  });

  it(`keeps at most ${MAX_FREE_PACKET_BUFFERS} free buffers`, () => {
    const held = Array.from({ length: MAX_FREE_PACKET_BUFFERS + 10 }, () => acquirePacketBuffer(1));
    for (const b of held) releasePacketBuffer(b);
    expect(packetBufferPoolStats().free).toBe(MAX_FREE_PACKET_BUFFERS);
  });
});
