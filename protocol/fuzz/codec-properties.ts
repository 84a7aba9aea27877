/**
 * Properties of the packet codec, shared by the unit tests (a few thousand cases) and
 * `npm run fuzz` (hundreds of thousands). Each returns a fast-check property; a violated
 * property throws a plain Error that says which rule broke. Test code only.
 */
import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';

import fc from 'fast-check';

import { decodePacket, decodePacketBySchema, encodePacket, tryDecodePacket } from '../codec.ts';
import { MAX_PACKET_BYTES } from '../constants.ts';
import { PROTOCOL_ERROR_CODES, ProtocolError } from '../errors.ts';
import type { DecodedPacket, Packet } from '../packet.ts';
import { validatePacket } from '../validate-packet.ts';
import { WireType } from '../wire.ts';
import { hostileBytesArb, validPacketArb } from './packet-arbitraries.ts';
import { rawFields, rawVarint } from './raw-packet.ts';

const MAX_ID = 0x7fff_ffff_ffff_ffffn;
/** The message of decode()'s defence-in-depth wrapper: seeing it means a decoder bug. */
const WRAPPED_BUG_MESSAGE = 'packet could not be decoded';

function fail(message: string): never {
  throw new Error(message);
}

/** A comparable form of a packet: DATA bytes as plain arrays. */
function comparable(p: DecodedPacket): unknown {
  return p.type === 'DATA' ? { ...p, data: [...p.data] } : { ...p };
}

function describe(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  );
}

/** Decodes, returning the packet or the thrown value (never throws). */
function attempt(decode: (bytes: Uint8Array) => DecodedPacket, bytes: Uint8Array): unknown {
  try {
    return decode(bytes);
  } catch (err) {
    return err;
  }
}

/** Checks that `err` is one of our typed errors and not a wrapped decoder bug. */
export function checkTypedError(err: unknown, bytes: Uint8Array): ProtocolError {
  if (!(err instanceof ProtocolError)) {
    fail(
      `decoder threw a ${String((err as Error)?.name)} (not a ProtocolError) for ${Buffer.from(bytes).toString('hex')}: ${String(err)}`,
    );
  }
  if (!PROTOCOL_ERROR_CODES.includes(err.code)) fail(`unknown code ${err.code}`);
  if (err.message === WRAPPED_BUG_MESSAGE) {
    fail(
      `decoder bug wrapped as ${err.code}: ${String(err.cause)} for ${Buffer.from(bytes).toString('hex')}`,
    );
  }
  if (err.message.length === 0) fail(`${err.code} without a message`);
  if (err.streamId !== undefined && (err.streamId < 0n || err.streamId > MAX_ID)) {
    fail(`${err.code} names stream ${err.streamId}, outside 0…2^63 − 1`);
  }
  return err;
}

/** decode(encode(p)) = p for every valid packet, and the bytes are canonical (re-encode equal). */
export function roundTripProperty(): fc.IPropertyWithHooks<[Packet]> {
  return fc.property(validPacketArb(), (p) => {
    const bytes = encodePacket(p);
    if (bytes.length > MAX_PACKET_BYTES) fail('encoder produced an oversize packet');
    const decoded = decodePacket(bytes);
    if (!isDeepStrictEqual(comparable(decoded), comparable(p))) {
      fail(`round trip changed ${describe(p)} into ${describe(decoded)}`);
    }
    if (!isDeepStrictEqual(comparable(decodePacketBySchema(bytes)), comparable(decoded))) {
      fail(`the DATA shortcut and the table decoder disagree on ${describe(p)}`);
    }
    if (!bytes.equals(encodePacket(decoded as Packet)))
      fail(`re-encoding ${describe(p)} changed its bytes`);
  });
}

/**
 * Hostile bytes: the decoder returns a valid packet (which re-encodes and decodes to itself,
 * DATA as a view of the input: nothing allocated for it) or throws a ProtocolError with a known
 * code and never a wrapped bug; tryDecodePacket never throws; both decoders agree.
 */
export function hostileBytesProperty(): fc.IPropertyWithHooks<[Uint8Array]> {
  return fc.property(hostileBytesArb, (bytes) => checkHostileBytes(bytes));
}

/** The check of {@link hostileBytesProperty} for one input (also used by regression tests). */
export function checkHostileBytes(bytes: Uint8Array): void {
  const result = attempt(decodePacket, bytes);
  const bySchema = attempt(decodePacketBySchema, bytes);
  const tried = tryDecodePacket(bytes);
  if (result instanceof Error || !(typeof result === 'object' && result !== null)) {
    const err = checkTypedError(result, bytes);
    const other = checkTypedError(bySchema, bytes);
    if (other.code !== err.code || other.streamId !== err.streamId) {
      fail(
        `decoders disagree: ${err.code} vs ${other.code} for ${Buffer.from(bytes).toString('hex')}`,
      );
    }
    if (!(tried instanceof ProtocolError) || tried.code !== err.code) {
      fail('tryDecodePacket did not return the same error');
    }
    return;
  }
  const packet = result as DecodedPacket;
  if (bySchema instanceof Error)
    fail(`only the table decoder rejects ${Buffer.from(bytes).toString('hex')}`);
  if (!isDeepStrictEqual(comparable(bySchema as DecodedPacket), comparable(packet))) {
    fail(`decoders disagree on ${Buffer.from(bytes).toString('hex')}`);
  }
  if (tried instanceof ProtocolError) fail('tryDecodePacket failed where decodePacket did not');
  if (packet.type === 'UNKNOWN') {
    if (packet.typeNumber !== (packet.typeNumber | 0)) {
      fail(`UNKNOWN typeNumber ${packet.typeNumber} is not an int32`);
    }
    return;
  }
  validatePacket(packet); // throws a ProtocolError (a failure here) if the decoder let one through
  if (packet.type === 'DATA' && packet.data.length > 0 && packet.data.buffer !== bytes.buffer) {
    fail('DATA payload was copied: the decoder must return a view of its input');
  }
  const again = decodePacket(encodePacket(packet));
  if (!isDeepStrictEqual(comparable(again), comparable(packet))) {
    fail(`${describe(packet)} does not survive encode/decode: ${describe(again)}`);
  }
}

/**
 * A length prefix that points past the end (up to 2^64 − 1) is refused as PROTO_ERR_TRUNCATED
 * (or MALFORMED for a varint beyond 64 bits) from the prefix alone: no buffer of the declared
 * size is ever allocated (an attempt would surface as a wrapped RangeError, which
 * checkTypedError rejects). Oversize input is refused before it is parsed.
 */
export function hugeLengthProperty(): fc.IPropertyWithHooks<[number, number, bigint, Uint8Array]> {
  return fc.property(
    fc.oneof(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 100, max: 103 })),
    fc.integer({ min: 1, max: 3 }),
    fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
    fc.uint8Array({ maxLength: 32 }),
    (payloadField, innerField, extra, tail) => {
      // Outer: a payload whose declared length exceeds what follows.
      const declared = BigInt(tail.length) + extra;
      if (declared >= 1n << 64n) return; // not a varint any more
      const outer = Buffer.concat([
        Buffer.from(rawVarint(BigInt(payloadField) * 8n + BigInt(WireType.LEN))),
        Buffer.from(rawVarint(declared)),
        tail,
      ]);
      expectCode(outer, 'PROTO_ERR_TRUNCATED');
      // Inner: a well-formed payload holding a length-delimited field that overruns it.
      const inner = Buffer.concat([
        Buffer.from(rawVarint(BigInt(innerField) * 8n + BigInt(WireType.LEN))),
        Buffer.from(rawVarint(declared)),
        tail,
      ]);
      const packet = rawFields([{ number: payloadField, wireType: WireType.LEN, value: inner }]);
      const err = checkTypedError(attempt(decodePacket, packet), packet);
      // A field of the wrong wire type for its schema is MALFORMED before its length is read.
      if (err.code !== 'PROTO_ERR_TRUNCATED' && err.code !== 'PROTO_ERR_MALFORMED') {
        fail(`overrunning inner field gave ${err.code}`);
      }
    },
  );
}

function expectCode(bytes: Uint8Array, code: ProtocolError['code']): void {
  const err = checkTypedError(attempt(decodePacket, bytes), bytes);
  if (err.code !== code) fail(`expected ${code}, got ${err.code}: ${err.message}`);
}

/** Input above MAX_PACKET_BYTES is refused with PROTO_ERR_PACKET_TOO_LARGE whatever it holds. */
export function oversizeProperty(): fc.IPropertyWithHooks<[number, number]> {
  const big = Buffer.alloc(MAX_PACKET_BYTES + 1024);
  return fc.property(
    fc.integer({ min: 1, max: 1024 }),
    fc.integer({ min: 0, max: 255 }),
    (over, fill) => {
      const bytes = big.subarray(0, MAX_PACKET_BYTES + over);
      bytes[0] = fill;
      expectCode(bytes, 'PROTO_ERR_PACKET_TOO_LARGE');
    },
  );
}
