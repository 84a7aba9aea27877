import { Buffer } from 'node:buffer';

import { describe, expect, it } from 'vitest';

import { decodePacket, encodePacket } from './codec.ts';
import { MAX_PACKET_BYTES } from './constants.ts';
import { ProtocolError, type ProtocolErrorCode } from './errors.ts';
import type { Packet } from './packet.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function catchProtocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodePacket rejects invalid input with an exact code', () => {
  it.each<{ name: string; bytes: string; code: ProtocolErrorCode; streamId?: bigint }>([
    {
      name: 'empty input (DIAL_REQ without payload)',
      bytes: '',
      code: 'PROTO_ERR_MISSING_PAYLOAD',
    },
    { name: 'DATA without payload', bytes: '08 04', code: 'PROTO_ERR_MISSING_PAYLOAD' },
    {
      name: 'DATA type with a DialRequest payload',
      bytes: '08 04 12 00',
      code: 'PROTO_ERR_PAYLOAD_MISMATCH',
    },
    { name: 'key without value', bytes: '08', code: 'PROTO_ERR_TRUNCATED' },
    { name: 'varint cut in the middle', bytes: '08 80', code: 'PROTO_ERR_TRUNCATED' },
    { name: 'length past the end', bytes: '12 05 0a 03', code: 'PROTO_ERR_TRUNCATED' },
    { name: 'huge length', bytes: '12 ffffffff0f', code: 'PROTO_ERR_TRUNCATED' },
    { name: 'fixed64 cut short', bytes: '49 0102', code: 'PROTO_ERR_TRUNCATED' },
    { name: 'unterminated group', bytes: '4b 08 01', code: 'PROTO_ERR_TRUNCATED' },
    { name: 'field number 0', bytes: '00 00', code: 'PROTO_ERR_MALFORMED' },
    { name: 'wire type 7', bytes: '0f', code: 'PROTO_ERR_MALFORMED' },
    { name: 'wire type 6', bytes: '0e', code: 'PROTO_ERR_MALFORMED' },
    { name: 'end group without start', bytes: '4c', code: 'PROTO_ERR_MALFORMED' },
    { name: 'mismatched end group', bytes: '4b 54', code: 'PROTO_ERR_MALFORMED' },
    { name: 'type sent as bytes', bytes: '0a 00', code: 'PROTO_ERR_MALFORMED' },
    { name: 'payload sent as varint', bytes: '08 04 20 04', code: 'PROTO_ERR_MALFORMED' },
    {
      name: 'DATA.data sent as varint',
      bytes: '08 04 22 04 08 01 18 01',
      code: 'PROTO_ERR_MALFORMED',
    },
    {
      name: 'varint overflowing 64 bits',
      bytes: '08 ffffffffffffffffff02',
      code: 'PROTO_ERR_MALFORMED',
    },
    { name: 'varint of 11 bytes', bytes: '08 ffffffffffffffffff8001', code: 'PROTO_ERR_MALFORMED' },
    {
      name: 'negative connectID',
      bytes: '08 04 22 0b 08 ffffffffffffffffff01',
      code: 'PROTO_ERR_INVALID_ID',
    },
    { name: 'DATA with connectID 0', bytes: '08 04 22 03 1a 01 68', code: 'PROTO_ERR_INVALID_ID' },
    {
      name: 'successful DIAL_RSP without connectID',
      bytes: '08 01 1a 02 18 07',
      code: 'PROTO_ERR_INVALID_ID',
      streamId: 7n,
    },
    {
      name: 'negative DIAL_REQ random',
      bytes: '12 15 0a 03 746370 12 03 613a31 18 ffffffffffffffffff01',
      code: 'PROTO_ERR_INVALID_ID',
    },
    {
      name: 'DIAL_REQ address without port',
      bytes: '12 0c 0a 03 746370 12 03 61626318 05',
      code: 'PROTO_ERR_INVALID_ADDRESS',
      streamId: 5n,
    },
    {
      name: 'DIAL_REQ protocol udp',
      bytes: '12 0c 0a 03 756470 12 03 613a31 18 05',
      code: 'PROTO_ERR_UNSUPPORTED_PROTOCOL',
      streamId: 5n,
    },
    {
      name: 'invalid UTF-8 in a string',
      bytes: '08 01 1a 03 0a 01 ff',
      code: 'PROTO_ERR_INVALID_UTF8',
    },
    {
      name: 'DIAL_RSP errorCode with an empty error',
      bytes: '08 01 1a 05 18 01 a0 06 01',
      code: 'PROTO_ERR_INVALID_FIELD',
      streamId: 1n,
    },
    {
      name: 'window increment 0',
      bytes: '08 64 a2 06 02 08 05',
      code: 'PROTO_ERR_INVALID_FIELD',
      streamId: 5n,
    },
    {
      name: 'window increment above MAX_STREAM_WINDOW_BYTES',
      bytes: '08 64 a2 06 07 08 05 10 81808008',
      code: 'PROTO_ERR_INVALID_FIELD',
      streamId: 5n,
    },
    {
      name: 'ping timestamp above 2^53 - 1',
      bytes: '08 66 b2 06 0a 10 8080808080808080 10',
      code: 'PROTO_ERR_INVALID_FIELD',
    },
  ])('$name → $code', ({ bytes, code, streamId }) => {
    const error = catchProtocolError(() => decodePacket(hex(bytes)));
    expect(error.code).toBe(code);
    expect(error.streamId).toBe(streamId);
  });

  it('names the problem precisely in the message', () => {
    expect(catchProtocolError(() => decodePacket(hex('12 05 0a 03'))).message).toBe(
      'packet truncated: dialRequest message at byte 2 runs past the end (4 bytes)',
    );
    expect(catchProtocolError(() => decodePacket(hex('0f'))).message).toBe(
      'malformed packet at byte 1: invalid wire type 7',
    );
    expect(catchProtocolError(() => decodePacket(hex('08 04 12 00'))).message).toBe(
      'DATA packet carries a dialRequest payload, expected data',
    );
    expect(
      catchProtocolError(() => decodePacket(hex('12 0c 0a 03 746370 12 03 61626318 05'))).message,
    ).toBe('dial address "abc" is not host:port: missing port');
  });

  it('rejects input larger than MAX_PACKET_BYTES before parsing it', () => {
    const error = catchProtocolError(() => decodePacket(Buffer.alloc(MAX_PACKET_BYTES + 1)));
    expect(error.code).toBe('PROTO_ERR_PACKET_TOO_LARGE');
    expect(error.message).toBe(
      `packet of ${MAX_PACKET_BYTES + 1} bytes exceeds MAX_PACKET_BYTES (${MAX_PACKET_BYTES})`,
    );
  });

  it('rejects input that is not a Uint8Array', () => {
    for (const value of ['08 06', null, undefined, [8, 6], new ArrayBuffer(2)]) {
      const error = catchProtocolError(() => decodePacket(value as unknown as Uint8Array));
      expect(error.code).toBe('PROTO_ERR_MALFORMED');
    }
  });
});

describe('encodePacket refuses what it would not accept', () => {
  it.each<{ name: string; packet: unknown; code: ProtocolErrorCode }>([
    {
      name: 'negative id',
      packet: { type: 'CLOSE_REQ', connectId: -1n },
      code: 'PROTO_ERR_INVALID_ID',
    },
    {
      name: 'id above 2^63-1',
      packet: { type: 'DIAL_CLS', random: 1n << 63n },
      code: 'PROTO_ERR_INVALID_ID',
    },
    {
      name: 'number instead of bigint',
      packet: { type: 'DATA', connectId: 1, data: Buffer.alloc(1) },
      code: 'PROTO_ERR_INVALID_ID',
    },
    {
      name: 'bad address',
      packet: { type: 'DIAL_REQ', protocol: 'tcp', address: 'a b:1', random: 1n },
      code: 'PROTO_ERR_INVALID_ADDRESS',
    },
    {
      name: 'unknown error code',
      packet: { type: 'CLOSE_REQ', connectId: 1n, errorCode: 'nope' },
      code: 'PROTO_ERR_INVALID_FIELD',
    },
    {
      name: 'code on a successful dial',
      packet: { type: 'DIAL_RSP', random: 1n, connectId: 1n, error: '', errorCode: 'timeout' },
      code: 'PROTO_ERR_INVALID_FIELD',
    },
    {
      name: 'lone surrogate',
      packet: { type: 'CLOSE_RSP', connectId: 1n, error: '\ud800' },
      code: 'PROTO_ERR_INVALID_UTF8',
    },
    {
      name: 'nonce above uint32',
      packet: { type: 'EXT_PING', nonce: 2 ** 32, timestampUs: 0 },
      code: 'PROTO_ERR_INVALID_FIELD',
    },
    {
      name: 'UNKNOWN packet',
      packet: { type: 'UNKNOWN', typeNumber: 200 },
      code: 'PROTO_ERR_INVALID_FIELD',
    },
    {
      name: 'DATA too large',
      packet: { type: 'DATA', connectId: 1n, data: Buffer.alloc(MAX_PACKET_BYTES) },
      code: 'PROTO_ERR_PACKET_TOO_LARGE',
    },
  ])('$name → $code', ({ packet, code }) => {
    expect(catchProtocolError(() => encodePacket(packet as Packet)).code).toBe(code);
  });

  it('encodes the largest DATA payload that fits MAX_PACKET_BYTES', () => {
    // 08 04 | 22 <len 4 bytes> | 08 01 | 1a <len 3 bytes> <data>: 14 bytes of overhead.
    const data = Buffer.alloc(MAX_PACKET_BYTES - 14);
    expect(encodePacket({ type: 'DATA', connectId: 1n, data }).length).toBe(MAX_PACKET_BYTES);
  });
});

describe('decoding garbage never crashes or returns half-filled packets', () => {
  const samples: Packet[] = [
    { type: 'DIAL_REQ', protocol: 'tcp', address: 'cluster-a.ns:8443', random: 123456789012345n },
    { type: 'DIAL_RSP', random: 5n, connectId: 0n, error: 'refused', errorCode: 'refused' },
    { type: 'DATA', connectId: 99n, data: Buffer.from('some payload bytes') },
    { type: 'CLOSE_RSP', connectId: 4n, error: 'bye', errorCode: 'timeout' },
    { type: 'EXT_WINDOW_UPDATE', connectId: 8n, increment: 4096 },
    { type: 'EXT_PONG', nonce: 7, timestampUs: 123456 },
  ];

  /** Any outcome but a ProtocolError or a packet that re-encodes to a canonical form fails. */
  function checkOutcome(bytes: Uint8Array): void {
    let decoded;
    try {
      decoded = decodePacket(bytes);
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      return;
    }
    if (decoded.type === 'UNKNOWN') return;
    // A returned packet is complete and valid: encoding it succeeds and is stable.
    const canonical = encodePacket(decoded);
    expect(encodePacket(decodePacket(canonical) as Packet).equals(canonical)).toBe(true);
  }

  it('every truncation of valid packets', () => {
    for (const packet of samples) {
      const bytes = encodePacket(packet);
      for (let n = 0; n < bytes.length; n++) checkOutcome(bytes.subarray(0, n));
    }
  });

  it('random byte flips in valid packets (seeded)', () => {
    const random = prng(0x5eed);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(encodePacket(samples[i % samples.length]!));
      const flips = 1 + Math.floor(random() * 3);
      for (let j = 0; j < flips; j++)
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      checkOutcome(bytes);
    }
  });

  it('random buffers (seeded)', () => {
    const random = prng(0xbadc0de);
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 48));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      checkOutcome(bytes);
    }
  });
});
