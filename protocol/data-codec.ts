/**
 * The data path's own codec: DATA packets encoded straight from a stream's write chunks into one
 * buffer that the caller supplies (so it can come from a pool), and canonical DATA packets decoded
 * without the table-driven decoder. Both give exactly what encodePacket / decodePacket give; the
 * field numbers come from schema.ts. Internal to protocol/ (not exported from index.ts). Pure.
 */
import { Buffer } from 'node:buffer';

import { MAX_PACKET_BYTES } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { PacketType, type DataPacket } from './packet.ts';
import { PACKET_TYPE_FIELD, PAYLOAD_BY_TYPE, type PayloadSpec } from './schema.ts';
import { validatePacket } from './validate-packet.ts';
import { WireType, int64Size, varintSize, writeInt64, writeVarint } from './wire.ts';

const MAX_INT64 = 0x7fff_ffff_ffff_ffffn;
const EMPTY_BYTES = new Uint8Array(0);

const DATA_SPEC = PAYLOAD_BY_TYPE.get('DATA') as PayloadSpec;
function dataFieldNumber(slot: 'connectId' | 'data'): number {
  const field = DATA_SPEC.fields.find((candidate) => candidate.slot === slot);
  if (field === undefined) throw new Error(`schema.ts has no DATA ${slot} field`);
  return field.number;
}
// Every key on this path is one byte (field numbers below 16), checked below.
const TYPE_KEY = (PACKET_TYPE_FIELD << 3) | WireType.VARINT;
const PAYLOAD_KEY = (DATA_SPEC.field << 3) | WireType.LEN;
const ID_KEY = (dataFieldNumber('connectId') << 3) | WireType.VARINT;
const BYTES_KEY = (dataFieldNumber('data') << 3) | WireType.LEN;
if (Math.max(TYPE_KEY, PAYLOAD_KEY, ID_KEY, BYTES_KEY, PacketType.DATA) >= 0x80) {
  throw new Error('DATA keys must be single-byte varints');
}

/**
 * Most bytes a DATA packet (without `error` text) takes beyond its payload: type (2), payload key
 * and length (1 + 5), connectID key and value (1 + 10), data key and length (1 + 5).
 */
export const MAX_DATA_OVERHEAD_BYTES = 25;

/** Allocates the buffer a packet is encoded into; it must be exactly `size` bytes long. */
export type PacketAllocator = (size: number) => Buffer;

/**
 * Encodes DATA{connectId, data} where data is `payload`'s pieces back to back, into one buffer
 * from `allocate` (default `Buffer.allocUnsafe`): the payload is copied once, straight from the
 * pieces, with no intermediate concatenation. The bytes equal `encodePacket` of the same packet.
 * Throws ProtocolError `PROTO_ERR_INVALID_ID` (connectId outside 1..2^63 − 1) or
 * `PROTO_ERR_PACKET_TOO_LARGE`, as encodePacket does, before allocating.
 */
export function encodeDataPacket(
  connectId: bigint,
  payload: readonly Uint8Array[],
  allocate: PacketAllocator = Buffer.allocUnsafe,
): Buffer {
  if (typeof connectId !== 'bigint' || connectId < 1n || connectId > MAX_INT64) {
    validatePacket({ type: 'DATA', connectId, data: EMPTY_BYTES }); // throws its error
  }
  let n = 0;
  for (const piece of payload) n += piece.length;
  const body = 1 + int64Size(connectId) + (n > 0 ? 1 + varintSize(n) + n : 0);
  const total = 3 + varintSize(body) + body;
  if (total > MAX_PACKET_BYTES) {
    throw new ProtocolError(
      'PROTO_ERR_PACKET_TOO_LARGE',
      `DATA packet of ${total} bytes exceeds MAX_PACKET_BYTES (${MAX_PACKET_BYTES})`,
    );
  }
  const buf = allocate(total);
  buf[0] = TYPE_KEY;
  buf[1] = PacketType.DATA;
  buf[2] = PAYLOAD_KEY;
  let pos = writeVarint(buf, 3, body);
  buf[pos++] = ID_KEY;
  pos = writeInt64(buf, pos, connectId);
  if (n > 0) {
    buf[pos++] = BYTES_KEY;
    pos = writeVarint(buf, pos, n);
    for (const piece of payload) {
      buf.set(piece, pos);
      pos += piece.length;
    }
  }
  return buf;
}

/**
 * Decodes `bytes` if it is a DATA packet in the canonical layout every protobuf encoder writes
 * (type, then the payload holding connectID ≥ 1 and non-empty data, nothing else); returns
 * undefined for anything else, which the table-driven decoder then handles (and, where it must,
 * rejects). Zero-copy: `data` is a view into `bytes`.
 */
export function decodeCanonicalData(bytes: Uint8Array): DataPacket | undefined {
  const end = bytes.length;
  if (end < 8 || bytes[0] !== TYPE_KEY || bytes[1] !== PacketType.DATA) return undefined;
  if (bytes[2] !== PAYLOAD_KEY) return undefined;
  // Payload length: at most 4 bytes here (packets are at most MAX_PACKET_BYTES).
  let pos = 3;
  let body = 0;
  for (let shift = 0; ; shift += 7) {
    const b = bytes[pos++] as number;
    body += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    if (shift === 21 || pos >= end) return undefined;
  }
  if (pos + body !== end || bytes[pos++] !== ID_KEY) return undefined;
  // connectID: at most 9 bytes (< 2^63), kept as two 32-bit halves.
  let lo = 0;
  let hi = 0;
  for (let i = 0; ; i++) {
    if (pos >= end) return undefined;
    const b = bytes[pos++] as number;
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x7f) >>> 4;
    } else hi |= (b & 0x7f) << (7 * i - 32);
    if (b < 0x80) break;
    if (i === 8) return undefined;
  }
  lo >>>= 0;
  if (lo === 0 && hi === 0) return undefined;
  if (pos >= end || bytes[pos++] !== BYTES_KEY) return undefined;
  let n = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= end) return undefined;
    const b = bytes[pos++] as number;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    if (shift === 21) return undefined;
  }
  if (n === 0 || pos + n !== end) return undefined;
  const connectId = hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
  return { type: 'DATA', connectId, data: bytes.subarray(pos, end) };
}
