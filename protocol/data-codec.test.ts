// The data path's DATA codec must be indistinguishable from the table-driven codec: the same
// bytes out, the same packets in, the same errors; and the decoder's shortcut must never accept
// what the full decoder would read differently.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { decodePacket, decodePacketBySchema, encodePacket } from './codec.ts';
import { MAX_PACKET_BYTES } from './constants.ts';
import { decodeCanonicalData, encodeDataPacket, MAX_DATA_OVERHEAD_BYTES } from './data-codec.ts';
import type { ProtocolError } from './errors.ts';

const MAX_ID = 0x7fff_ffff_ffff_ffffn;
/** One id per varint length (1–9 bytes), and the extremes. */
const IDS = [1n, 127n, 128n, 16_383n, 16_384n, 1n << 28n, 1n << 35n, 1n << 42n, 1n << 49n, MAX_ID];
const SIZES = [0, 1, 127, 128, 16_383, 16_384, 65_535, 65_536, 200_000];

/** `bytes` cut into `parts` pieces of uneven size (some empty). */
function split(bytes: Buffer, parts: number): Buffer[] {
  const cuts = Array.from({ length: parts - 1 }, (_, i) =>
    Math.floor((bytes.length * i ** 2) / parts ** 2),
  );
  return [...cuts, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : cuts[i - 1], end));
}

function errorOf(fn: () => unknown): Pick<ProtocolError, 'code' | 'message'> | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    const { code, message } = err as ProtocolError;
    return { code, message };
  }
}

describe('encodeDataPacket', () => {
  it.each(IDS.flatMap((id) => SIZES.map((size) => [id, size] as const)))(
    'id %s, %i payload bytes: the bytes of encodePacket, from any split of the payload',
    (connectId, size) => {
      const data = randomBytes(size);
      const expected = encodePacket({ type: 'DATA', connectId, data });
      for (const parts of [1, 2, 5]) {
        expect(encodeDataPacket(connectId, split(data, parts)).equals(expected)).toBe(true);
      }
      expect(expected.length - size).toBeLessThanOrEqual(MAX_DATA_OVERHEAD_BYTES);
    },
  );

  it('encodes into what the allocator returns, asking for the exact size', () => {
    const sizes: number[] = [];
    const slab = Buffer.alloc(1024, 0xee);
    const out = encodeDataPacket(7n, [Buffer.from('abc'), Buffer.from('de')], (size) => {
      sizes.push(size);
      return slab.subarray(0, size);
    });
    expect(sizes).toEqual([out.length]);
    expect(out.buffer).toBe(slab.buffer);
    const expected = encodePacket({ type: 'DATA', connectId: 7n, data: Buffer.from('abcde') });
    expect(out.equals(expected)).toBe(true);
  });

  it.each([0n, -1n, MAX_ID + 1n])('refuses connectId %s as encodePacket does', (connectId) => {
    const data = Buffer.from('x');
    const ours = errorOf(() => encodeDataPacket(connectId, [data]));
    expect(ours?.code).toBe('PROTO_ERR_INVALID_ID');
    expect(ours).toEqual(errorOf(() => encodePacket({ type: 'DATA', connectId, data })));
  });

  it('refuses a packet above MAX_PACKET_BYTES before allocating, as encodePacket does', () => {
    const data = Buffer.alloc(MAX_PACKET_BYTES);
    let allocated = false;
    const ours = errorOf(() =>
      encodeDataPacket(1n, [data], (size) => {
        allocated = true;
        return Buffer.alloc(size);
      }),
    );
    expect(allocated).toBe(false);
    expect(ours?.code).toBe('PROTO_ERR_PACKET_TOO_LARGE');
    expect(ours?.message).toBe(
      `DATA packet of ${MAX_PACKET_BYTES + 14} bytes exceeds MAX_PACKET_BYTES (${MAX_PACKET_BYTES})`,
    );
    expect(ours).toEqual(errorOf(() => encodePacket({ type: 'DATA', connectId: 1n, data })));
  });
});

describe('decodeCanonicalData', () => {
  it.each(IDS)('decodes what the encoder writes (id %s), as a view of the input', (connectId) => {
    for (const size of SIZES.filter((n) => n > 0)) {
      const data = randomBytes(size);
      const bytes = encodePacket({ type: 'DATA', connectId, data });
      const packet = decodeCanonicalData(bytes);
      expect(packet).toEqual(decodePacketBySchema(bytes));
      expect(packet?.data.buffer).toBe(bytes.buffer);
    }
  });

  // Valid packets in another layout, and invalid ones: the shortcut declines, decodePacket
  // still answers exactly as the full decoder does.
  const other: Array<[string, string]> = [
    ['empty data (field omitted)', '08 04 22 02 08 05'],
    ['connectID 0', '08 04 22 05 08 00 1a 01 61'],
    ['connectID omitted', '08 04 22 03 1a 01 61'],
    ['data before connectID', '08 04 22 05 1a 01 61 08 05'],
    ['with error text', '08 04 22 08 08 05 12 01 65 1a 01 61'],
    ['unknown field after data', '08 04 22 07 08 05 1a 01 61 20 01'],
    ['type after the payload', '22 05 08 05 1a 01 61 08 04'],
    ['payload repeated (merged)', '08 04 22 02 08 05 22 03 1a 01 61'],
    ['trailing byte after the payload', '08 04 22 05 08 05 1a 01 61 00'],
    ['payload length past the end', '08 04 22 06 08 05 1a 01 61'],
    ['data length past the end', '08 04 22 05 08 05 1a 02 61'],
    ['connectID of 10 bytes', '08 04 22 0e 08 ff ff ff ff ff ff ff ff ff 01 1a 01 61'],
    ['CLOSE_REQ, not DATA', '08 02 2a 02 08 05'],
  ];
  it.each(other)('%s: declines; decodePacket answers as the full decoder', (_name, hex) => {
    const bytes = Buffer.from(hex.replaceAll(' ', ''), 'hex');
    expect(decodeCanonicalData(bytes)).toBeUndefined();
    const full = errorOf(() => decodePacketBySchema(bytes)) ?? decodePacketBySchema(bytes);
    expect(errorOf(() => decodePacket(bytes)) ?? decodePacket(bytes)).toEqual(full);
  });

  it('never disagrees with the full decoder on mutated packets', () => {
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = IDS[i % IDS.length] as bigint;
      const bytes = Buffer.from(
        encodePacket({ type: 'DATA', connectId: id, data: randomBytes(1 + (i % 300)) }),
      );
      const mutated = mutate(bytes, i);
      const fast = decodeCanonicalData(mutated);
      if (fast === undefined) continue;
      accepted++;
      expect(fast).toEqual(decodePacketBySchema(mutated));
    }
    expect(accepted).toBeGreaterThan(1_000); // the shortcut is taken, not just declined
  });
});

/** Flips, truncates, extends or rewrites one header byte, deterministically by `seed`. */
function mutate(bytes: Buffer, seed: number): Buffer {
  const at = (seed * 7919) % Math.min(bytes.length, 24);
  switch (seed % 4) {
    case 0: {
      const out = Buffer.from(bytes);
      out[at] = (out[at] as number) ^ (1 << (seed % 8));
      return out;
    }
    case 1:
      return bytes.subarray(0, bytes.length - 1 - (seed % 3));
    case 2:
      return Buffer.concat([bytes, Buffer.from([seed & 0xff])]);
    default: {
      const out = Buffer.from(bytes);
      out[at] = seed & 0xff;
      return out;
    }
  }
}
