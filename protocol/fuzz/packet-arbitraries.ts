/**
 * fast-check arbitraries for tunnel packets: every valid packet type with its extension
 * fields, and hostile bytes (mutations of valid packets, protobuf-shaped garbage, random bytes,
 * huge declared lengths, over-long varints, unknown types). Test code only.
 */
import { Buffer } from 'node:buffer';

import fc from 'fast-check';

import { encodePacket } from '../codec.ts';
import { MAX_STREAM_WINDOW_BYTES } from '../constants.ts';
import { parseDialAddress } from '../dial-address.ts';
import { DIAL_FAILURE_REASONS, STREAM_RESET_CODES } from '../error-codes.ts';
import type { Packet } from '../packet.ts';
import { WireType } from '../wire.ts';
import { rawFields, rawVarint, type RawField } from './raw-packet.ts';

const MAX_ID = 0x7fff_ffff_ffff_ffffn;

/** Any valid id (0 … 2^63 − 1), biased towards small and extreme values by fast-check. */
export const idArb = fc.bigInt({ min: 0n, max: MAX_ID });
const positiveIdArb = fc.bigInt({ min: 1n, max: MAX_ID });

/** Text as peers send it: any Unicode (no lone surrogates: they cannot be UTF-8). */
const textArb = fc.string({ unit: 'binary', maxLength: 40 });
const nonEmptyTextArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });

/** Valid dial addresses: DNS names, IPv4, bracketed IPv6 (with a zone sometimes). */
export const addressArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      fc.domain(),
      fc.ipV4(),
      fc.ipV6().map((ip) => `[${ip}]`),
      fc.stringMatching(/^[a-z0-9_]{1,12}$/),
    ),
    fc.integer({ min: 1, max: 65_535 }),
  )
  .map(([host, port]) => `${host}:${port}`)
  .filter((address) => {
    try {
      parseDialAddress(address);
      return true;
    } catch {
      return false;
    }
  });

const dialFailureArb = fc.constantFrom(...DIAL_FAILURE_REASONS);
const resetCodeArb = fc.constantFrom(...STREAM_RESET_CODES);
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arb, { nil: undefined });

/** Drops `undefined` members, so packets match what the decoder builds (exact optional types). */
function compact(value: object): Packet {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Packet;
}

/** Options for {@link validPacketArb}. */
export interface ValidPacketOptions {
  /** Smallest id in any id field (e.g. 2^40 for ids no live stream of a test uses). */
  readonly minId?: bigint;
  /** Largest DATA payload, bytes. Default 512. */
  readonly maxDataBytes?: number;
}

/** Every packet type this version knows, valid by `validatePacket`, extension fields included. */
export function validPacketArb(options: ValidPacketOptions = {}): fc.Arbitrary<Packet> {
  const minId = options.minId ?? 0n;
  const anyId = minId === 0n ? idArb : fc.bigInt({ min: minId, max: MAX_ID });
  const someId = minId === 0n ? positiveIdArb : anyId;
  const dataArb = fc.uint8Array({ maxLength: options.maxDataBytes ?? 512 });
  return fc.oneof(
    fc.record({
      type: fc.constant('DIAL_REQ' as const),
      protocol: fc.constant('tcp'),
      address: addressArb,
      random: anyId,
    }),
    // DIAL_RSP success: connectID ≥ 1, no code.
    fc.record({
      type: fc.constant('DIAL_RSP' as const),
      random: anyId,
      connectId: someId,
      error: fc.constant(''),
    }),
    // DIAL_RSP failure: text always, a code sometimes.
    fc
      .record({
        type: fc.constant('DIAL_RSP' as const),
        random: anyId,
        connectId: anyId,
        error: nonEmptyTextArb,
        errorCode: optional(dialFailureArb),
      })
      .map(compact),
    fc
      .record({
        type: fc.constant('CLOSE_REQ' as const),
        connectId: anyId,
        errorCode: optional(resetCodeArb),
      })
      .map(compact),
    fc
      .record({
        type: fc.constant('CLOSE_RSP' as const),
        connectId: anyId,
        error: textArb,
        errorCode: optional(resetCodeArb),
      })
      .map(compact),
    fc
      .record({
        type: fc.constant('DATA' as const),
        connectId: someId,
        data: dataArb,
        error: optional(nonEmptyTextArb),
      })
      .map(compact),
    fc
      .record({
        type: fc.constant('DIAL_CLS' as const),
        random: anyId,
        errorCode: optional(dialFailureArb),
      })
      .map(compact),
    fc.constant({ type: 'DRAIN' as const }),
    fc.record({
      type: fc.constant('EXT_WINDOW_UPDATE' as const),
      connectId: someId,
      increment: fc.integer({ min: 1, max: MAX_STREAM_WINDOW_BYTES }),
    }),
    fc.record({ type: fc.constant('EXT_HALF_CLOSE' as const), connectId: someId }),
    fc.record({
      type: fc.constantFrom('EXT_PING' as const, 'EXT_PONG' as const),
      nonce: fc.integer({ min: 0, max: 0xffff_ffff }),
      timestampUs: fc.maxSafeNat(),
    }),
  );
}

/** One way to damage an encoded packet. Positions are taken modulo the length. */
export type Mutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'flip-bit'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set-byte'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  /** Overwrite with a varint declaring a huge length (2^32 − 1, 2^63, 2^64 − 1, …). */
  | { readonly kind: 'huge-length'; readonly at: number; readonly value: bigint }
  /** Pad a varint with 0x80 continuation bytes (over-long or over 10 bytes). */
  | { readonly kind: 'overlong-varint'; readonly at: number; readonly pad: number }
  /** Replace the packet type with any int32 (unknown types, negative, extension numbers). */
  | { readonly kind: 'retype'; readonly typeNumber: number }
  /** Append an unknown or known field with any wire type. */
  | { readonly kind: 'append-field'; readonly field: RawField };

const rawFieldArb: fc.Arbitrary<RawField> = fc.oneof(
  fc.record({
    number: fc.integer({ min: 1, max: 200 }),
    wireType: fc.constant(WireType.VARINT),
    value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  }),
  fc.record({
    number: fc.integer({ min: 1, max: 200 }),
    wireType: fc.constant(WireType.LEN),
    value: fc.uint8Array({ maxLength: 24 }),
  }),
  fc.record({
    number: fc.integer({ min: 1, max: 200 }),
    wireType: fc.constantFrom(WireType.FIXED64, WireType.FIXED32),
    value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  }),
);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('flip-bit' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('set-byte' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('huge-length' as const),
    at: fc.nat(),
    value: fc.constantFrom(
      0xffff_ffffn,
      0x7fff_ffffn,
      4n * 1024n * 1024n + 1n,
      1n << 63n,
      (1n << 64n) - 1n,
    ),
  }),
  fc.record({
    kind: fc.constant('overlong-varint' as const),
    at: fc.nat(),
    pad: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({
    kind: fc.constant('retype' as const),
    typeNumber: fc.oneof(
      fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }),
      fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 99, 100, 101, 102, 103, 104),
    ),
  }),
  fc.record({ kind: fc.constant('append-field' as const), field: rawFieldArb }),
);

/** Applies one mutation to a copy of `bytes`. */
export function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const b = Buffer.from(bytes);
  const at = (n: number): number => (b.length === 0 ? 0 : n % (b.length + 1));
  switch (m.kind) {
    case 'truncate':
      return b.subarray(0, at(m.at));
    case 'flip-bit':
      if (b.length > 0) b[m.at % b.length]! ^= 1 << m.bit;
      return b;
    case 'set-byte':
      if (b.length > 0) b[m.at % b.length] = m.value;
      return b;
    case 'insert':
      return Buffer.concat([b.subarray(0, at(m.at)), m.bytes, b.subarray(at(m.at))]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at(m.at)), b.subarray(at(m.at) + m.count)]);
    case 'huge-length': {
      const i = at(m.at);
      const varint = Buffer.from(rawVarint(m.value));
      return Buffer.concat([b.subarray(0, i), varint, b.subarray(i + 1)]);
    }
    case 'overlong-varint': {
      const i = at(m.at);
      const pad = Buffer.alloc(m.pad, 0x80);
      return Buffer.concat([b.subarray(0, i), pad, b.subarray(i)]);
    }
    case 'retype': {
      // The type field comes first when present (key 0x08); otherwise prepend one.
      const typeField = rawFields([
        { number: 1, wireType: WireType.VARINT, value: BigInt(m.typeNumber) },
      ]);
      if (b[0] !== 0x08) return Buffer.concat([typeField, b]);
      let end = 1;
      while (end < b.length && (b[end]! & 0x80) !== 0) end++;
      return Buffer.concat([typeField, b.subarray(end + 1)]);
    }
    case 'append-field':
      return Buffer.concat([b, rawFields([m.field])]);
  }
}

/** Protobuf-shaped garbage: a Packet of random fields whose payload is random fields too. */
const shapedGarbageArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.option(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 99, max: 104 })), {
      nil: undefined,
    }),
    fc.oneof(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 100, max: 104 })),
    fc.array(
      fc.oneof(
        rawFieldArb,
        fc.record({
          number: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(100)),
          wireType: fc.constant(WireType.VARINT),
          value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        }),
        fc.record({
          number: fc.integer({ min: 1, max: 3 }),
          wireType: fc.constant(WireType.LEN),
          value: fc.uint8Array({ maxLength: 16 }),
        }),
      ),
      { maxLength: 5 },
    ),
  )
  .map(([typeNumber, payloadField, fields]) => {
    const payload = rawFields(fields);
    const outer: RawField[] = [];
    if (typeNumber !== undefined) {
      outer.push({ number: 1, wireType: WireType.VARINT, value: BigInt(typeNumber) });
    }
    outer.push({ number: payloadField, wireType: WireType.LEN, value: payload });
    return rawFields(outer);
  });

/** Encoded valid packets with small DATA payloads. */
export const validBytesArb: fc.Arbitrary<Uint8Array> = validPacketArb({ maxDataBytes: 64 }).map(
  (p) => encodePacket(p),
);

/**
 * Hostile input for the decoder: valid packets with one to four mutations, protobuf-shaped
 * garbage (optionally mutated), and plain random bytes.
 */
export const hostileBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(validBytesArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
      .map(([b, ms]) => ms.reduce(mutate, b)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(shapedGarbageArb, fc.array(mutationArb, { maxLength: 2 }))
      .map(([b, ms]) => ms.reduce(mutate, b)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 96 }) },
);
