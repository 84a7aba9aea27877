import { describe, expect, it } from 'vitest';

import { ProtocolError } from './errors.ts';
import { MAX_STREAM_ID, StreamIdAllocator } from './stream-id-allocator.ts';

describe('StreamIdAllocator', () => {
  it('keeps no random pool of its own: every allocator in the process shares one', () => {
    // One allocator per tunnel; a proxy-server holds thousands. A 512-byte pool each is what
    // the ArrayBuffers would grow by here (512 KB for 1,000); shared, they stay flat.
    new StreamIdAllocator().allocate(); // the shared pool exists from here on
    const before = process.memoryUsage().arrayBuffers;
    const many = Array.from({ length: 1_000 }, () => new StreamIdAllocator());
    for (const ids of many) ids.allocate();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024);
    expect(new Set(many.map((ids) => ids.size))).toEqual(new Set([1]));
  });

  it('hands out unique positive 63-bit ids while they are live', () => {
    const ids = new StreamIdAllocator();
    const seen = new Set<bigint>();
    for (let i = 0; i < 10_000; i++) {
      const id = ids.allocate();
      expect(id >= 1n && id <= MAX_STREAM_ID).toBe(true);
      seen.add(id);
    }
    expect(seen.size).toBe(10_000);
    expect(ids.size).toBe(10_000);
  });

  it('never returns 0 or a live id, even from a colliding source', () => {
    // Source: 0, 2^63 (masks to 0), 5, 5, 5 | sign bit, 6.
    const draws = [0n, 1n << 63n, 5n, 5n, (1n << 63n) | 5n, 6n];
    const ids = new StreamIdAllocator({ random: () => draws.shift() ?? 7n });
    expect(ids.allocate()).toBe(5n);
    expect(ids.allocate()).toBe(6n);
    expect([ids.has(5n), ids.has(6n), ids.size]).toEqual([true, true, 2]);
  });

  it('frees ids on release; release is idempotent', () => {
    const draws = [9n, 9n];
    const ids = new StreamIdAllocator({ random: () => draws.shift() ?? 10n });
    expect(ids.allocate()).toBe(9n);
    expect(ids.release(9n)).toBe(true);
    expect(ids.release(9n)).toBe(false);
    expect(ids.allocate()).toBe(9n);
  });

  it('gives up with PROTO_ERR_STREAM_ID_IN_USE when the source is broken', () => {
    const ids = new StreamIdAllocator({ random: () => 0n });
    expect(() => ids.allocate()).toThrow(ProtocolError);
    try {
      ids.allocate();
    } catch (err) {
      expect((err as ProtocolError).code).toBe('PROTO_ERR_STREAM_ID_IN_USE');
    }
  });

  it('reserves peer-chosen ids and refuses reuse of a live one', () => {
    const ids = new StreamIdAllocator();
    ids.reserve(42n);
    let error: unknown;
    try {
      ids.reserve(42n);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('PROTO_ERR_STREAM_ID_IN_USE');
    expect((error as ProtocolError).streamId).toBe(42n);
    ids.release(42n);
    ids.reserve(42n);
    expect(ids.has(42n)).toBe(true);
  });

  it.each([0n, -1n, MAX_STREAM_ID + 1n])('refuses to reserve %s', (id) => {
    const ids = new StreamIdAllocator();
    try {
      ids.reserve(id);
      expect.unreachable();
    } catch (err) {
      expect((err as ProtocolError).code).toBe('PROTO_ERR_INVALID_ID');
    }
  });
});
