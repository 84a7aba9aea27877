import { Buffer } from 'node:buffer';

import { describe, expect, it } from 'vitest';

import { decodePacket, encodePacket, tryDecodePacket } from './codec.ts';
import { ProtocolError } from './errors.ts';
import type { DecodedPacket, Packet } from './packet.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MAX_ID = 0x7fff_ffff_ffff_ffffn;

// Every packet type, with and without its optional (extension) fields.
const ROUND_TRIPS: readonly { name: string; packet: Packet }[] = [
  {
    name: 'DIAL_REQ',
    packet: { type: 'DIAL_REQ', protocol: 'tcp', address: 'kube-apiserver:443', random: 42n },
  },
  {
    name: 'DIAL_REQ with max id and IPv6',
    packet: { type: 'DIAL_REQ', protocol: 'tcp', address: '[fe80::1%eth0]:6443', random: MAX_ID },
  },
  {
    name: 'DIAL_REQ with random 0',
    packet: { type: 'DIAL_REQ', protocol: 'tcp', address: 'a:1', random: 0n },
  },
  { name: 'DIAL_RSP success', packet: { type: 'DIAL_RSP', random: 9n, connectId: 9n, error: '' } },
  {
    name: 'DIAL_RSP failure',
    packet: { type: 'DIAL_RSP', random: 9n, connectId: 0n, error: 'No agent available' },
  },
  {
    name: 'DIAL_RSP failure with code',
    packet: {
      type: 'DIAL_RSP',
      random: 9n,
      connectId: 0n,
      error: 'dial timeout',
      errorCode: 'timeout',
    },
  },
  { name: 'CLOSE_REQ', packet: { type: 'CLOSE_REQ', connectId: 5n } },
  { name: 'CLOSE_REQ id 0', packet: { type: 'CLOSE_REQ', connectId: 0n } },
  { name: 'CLOSE_REQ reset', packet: { type: 'CLOSE_REQ', connectId: 5n, errorCode: 'canceled' } },
  { name: 'CLOSE_RSP', packet: { type: 'CLOSE_RSP', connectId: 5n, error: '' } },
  {
    name: 'CLOSE_RSP reset',
    packet: { type: 'CLOSE_RSP', connectId: 5n, error: 'stalled', errorCode: 'flow-control' },
  },
  { name: 'DATA', packet: { type: 'DATA', connectId: 1n, data: Buffer.from('hello') } },
  { name: 'DATA empty', packet: { type: 'DATA', connectId: 1n, data: Buffer.alloc(0) } },
  {
    name: 'DATA with error text',
    packet: { type: 'DATA', connectId: 1n, data: Buffer.from([0, 255]), error: 'é ✓' },
  },
  { name: 'DIAL_CLS', packet: { type: 'DIAL_CLS', random: 77n } },
  { name: 'DIAL_CLS with code', packet: { type: 'DIAL_CLS', random: 77n, errorCode: 'canceled' } },
  { name: 'DRAIN', packet: { type: 'DRAIN' } },
  {
    name: 'EXT_WINDOW_UPDATE',
    packet: { type: 'EXT_WINDOW_UPDATE', connectId: 3n, increment: 131072 },
  },
  { name: 'EXT_HALF_CLOSE', packet: { type: 'EXT_HALF_CLOSE', connectId: MAX_ID } },
  {
    name: 'EXT_PING',
    packet: { type: 'EXT_PING', nonce: 0xffff_ffff, timestampUs: Number.MAX_SAFE_INTEGER },
  },
  { name: 'EXT_PONG', packet: { type: 'EXT_PONG', nonce: 0, timestampUs: 0 } },
];

function normalize(p: DecodedPacket): unknown {
  // Compare DATA bytes by content, not by Buffer identity.
  return 'data' in p ? { ...p, data: Array.from(p.data) } : p;
}

describe('encodePacket / decodePacket round trip', () => {
  it.each(ROUND_TRIPS)('$name', ({ packet }) => {
    const bytes = encodePacket(packet);
    expect(normalize(decodePacket(bytes))).toEqual(normalize(packet));
    // Canonical: re-encoding the decoded packet gives the same bytes.
    expect(encodePacket(decodePacket(bytes) as Packet).equals(bytes)).toBe(true);
  });

  it('covers every packet type', () => {
    const types = new Set(ROUND_TRIPS.map((r) => r.packet.type));
    expect([...types].sort()).toEqual(
      [
        'CLOSE_REQ',
        'CLOSE_RSP',
        'DATA',
        'DIAL_CLS',
        'DIAL_REQ',
        'DIAL_RSP',
        'DRAIN',
        'EXT_HALF_CLOSE',
        'EXT_PING',
        'EXT_PONG',
        'EXT_WINDOW_UPDATE',
      ].sort(),
    );
  });
});

// Hand-computed protobuf bytes (what protobuf-go writes: number order, proto3 defaults omitted).
const KNOWN_BYTES: readonly { name: string; packet: Packet; bytes: string }[] = [
  {
    name: 'DIAL_REQ: type 0 omitted; 300 = ac 02',
    packet: { type: 'DIAL_REQ', protocol: 'tcp', address: '10.0.0.1:443', random: 300n },
    bytes: '12 16  0a 03 746370  12 0c 31302e302e302e313a343433  18 ac02',
  },
  {
    name: 'DATA connectID 7 "hi"',
    packet: { type: 'DATA', connectId: 7n, data: Buffer.from('hi') },
    bytes: '08 04  22 06  08 07  1a 02 6869',
  },
  {
    name: 'DRAIN with its empty payload, as ANP agents send it',
    packet: { type: 'DRAIN' },
    bytes: '08 06 42 00',
  },
  {
    name: 'DIAL_RSP failure: connectID 0 omitted',
    packet: { type: 'DIAL_RSP', random: 1n, connectId: 0n, error: 'x' },
    bytes: '08 01  1a 05  0a 01 78  18 01',
  },
  {
    name: 'DIAL_RSP success with random 2^63-1 (9-byte varint)',
    packet: { type: 'DIAL_RSP', random: MAX_ID, connectId: 1n, error: '' },
    bytes: '08 01  1a 0c  10 01  18 ffffffffffffffff7f',
  },
  {
    name: 'CLOSE_REQ connectID 0: empty message still present',
    packet: { type: 'CLOSE_REQ', connectId: 0n },
    bytes: '08 02  2a 00',
  },
  {
    name: 'CLOSE_RSP with extErrorCode (field 100, key a0 06)',
    packet: { type: 'CLOSE_RSP', connectId: 3n, error: '', errorCode: 'flow-control' },
    bytes: '08 03  32 05  10 03  a006 02',
  },
  {
    name: 'EXT_WINDOW_UPDATE: type 100 = 64, oneof field 100 key a2 06',
    packet: { type: 'EXT_WINDOW_UPDATE', connectId: 5n, increment: 65536 },
    bytes: '08 64  a206 06  08 05  10 808004',
  },
  {
    name: 'EXT_PING: type 102, key b2 06, 1000000 = c0 84 3d',
    packet: { type: 'EXT_PING', nonce: 1, timestampUs: 1_000_000 },
    bytes: '08 66  b206 06  08 01  10 c0843d',
  },
];

describe('known wire bytes', () => {
  it.each(KNOWN_BYTES)('$name', ({ packet, bytes }) => {
    expect(encodePacket(packet).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(normalize(decodePacket(hex(bytes)))).toEqual(normalize(packet));
  });
});

describe('decoding what other encoders may send', () => {
  it.each([
    {
      name: 'unknown fields at every level are skipped (varint, fixed64, fixed32, bytes, group)',
      bytes:
        '08 04  22 18  08 07  c8 3e 01  d1 3e 0102030405060708  dd 3e 01020304  1a 01 41  ' +
        '4b 08 01 4c',
      expected: { type: 'DATA', connectId: 7n, data: [0x41] },
    },
    {
      name: 'an unknown packet type is returned as UNKNOWN, payload ignored',
      bytes: '08 c8 01  a2 06 02 08 01',
      expected: { type: 'UNKNOWN', typeNumber: 200 },
    },
    {
      name: 'a negative packet type (10-byte varint) is UNKNOWN',
      bytes: '08 ffffffffffffffffff01',
      expected: { type: 'UNKNOWN', typeNumber: -1 },
    },
    { name: 'DRAIN without its empty payload', bytes: '08 06', expected: { type: 'DRAIN' } },
    {
      name: 'type after payload (any field order)',
      bytes: '2a 02 08 09  08 02',
      expected: { type: 'CLOSE_REQ', connectId: 9n },
    },
    {
      name: 'repeated scalar: last one wins',
      bytes: '08 02  2a 04 08 01 08 02',
      expected: { type: 'CLOSE_REQ', connectId: 2n },
    },
    {
      name: 'same oneof member twice: merged',
      bytes: '08 01  1a 02 10 05  1a 02 18 06',
      expected: { type: 'DIAL_RSP', random: 6n, connectId: 5n, error: '' },
    },
    {
      name: 'another oneof member replaces the first',
      bytes: '08 02  32 02 10 05  2a 02 08 06',
      expected: { type: 'CLOSE_REQ', connectId: 6n },
    },
    {
      name: 'an error code this version does not know maps to internal',
      bytes: '08 02  2a 05 08 01 a0 06 63',
      expected: { type: 'CLOSE_REQ', connectId: 1n, errorCode: 'internal' },
    },
    {
      name: 'an explicit zero error code means none',
      bytes: '08 02  2a 05 08 01 a0 06 00',
      expected: { type: 'CLOSE_REQ', connectId: 1n },
    },
  ])('$name', ({ bytes, expected }) => {
    expect(normalize(decodePacket(hex(bytes)))).toEqual(expected);
  });

  it('returns DATA bytes as a view of the input, without copying', () => {
    const bytes = encodePacket({ type: 'DATA', connectId: 1n, data: Buffer.from('abc') });
    const packet = decodePacket(bytes);
    expect(packet.type).toBe('DATA');
    if (packet.type !== 'DATA') return;
    expect(packet.data.buffer).toBe(bytes.buffer);
    bytes[bytes.length - 1] = 0x5a;
    expect(Buffer.from(packet.data).toString()).toBe('abZ');
  });

  it('decodes a DATA packet whose input is a plain Uint8Array slice of a larger buffer', () => {
    const inner = encodePacket({ type: 'DATA', connectId: 2n, data: Buffer.from('xyz') });
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    const packet = decodePacket(outer.subarray(5, 5 + inner.length));
    expect(normalize(packet)).toEqual({ type: 'DATA', connectId: 2n, data: [0x78, 0x79, 0x7a] });
  });
});

describe('tryDecodePacket', () => {
  it('returns the packet, or the ProtocolError instead of throwing it', () => {
    expect(tryDecodePacket(hex('08 06 42 00'))).toEqual({ type: 'DRAIN' });
    const error = tryDecodePacket(hex('08 04'));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('PROTO_ERR_MISSING_PAYLOAD');
    expect((error as ProtocolError).message).toBe('DATA packet has no payload, expected data');
  });
});
