/**
 * Hand-built protobuf bytes for the fuzzers: packets that no encoder of ours would write
 * (a zero window increment, an error code without error text, unknown packet types, any field
 * with any wire type). Test code only; not exported from protocol/index.ts.
 */
import { Buffer } from 'node:buffer';

import { WireType } from '../wire.ts';

/** One protobuf field: number, wire type and a value that matches the wire type. */
export type RawField =
  | { readonly number: number; readonly wireType: typeof WireType.VARINT; readonly value: bigint }
  | { readonly number: number; readonly wireType: typeof WireType.LEN; readonly value: Uint8Array }
  | {
      readonly number: number;
      readonly wireType: typeof WireType.FIXED64 | typeof WireType.FIXED32;
      readonly value: bigint;
    };

/** The varint encoding of `value` (0 ≤ value < 2^64; negative int64s are passed as 2^64 + v). */
export function rawVarint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** The bytes of `fields` back to back, each with its key. */
export function rawFields(fields: readonly RawField[]): Buffer {
  const out: number[] = [];
  for (const field of fields) {
    out.push(...rawVarint(BigInt(field.number) * 8n + BigInt(field.wireType)));
    switch (field.wireType) {
      case WireType.VARINT:
        out.push(...rawVarint(field.value));
        break;
      case WireType.LEN:
        out.push(...rawVarint(BigInt(field.value.length)), ...field.value);
        break;
      default: {
        const size = field.wireType === WireType.FIXED64 ? 8 : 4;
        let v = BigInt.asUintN(size * 8, field.value);
        for (let i = 0; i < size; i++, v >>= 8n) out.push(Number(v & 0xffn));
      }
    }
  }
  return Buffer.from(out);
}

/**
 * A `Packet` with `type` = `typeNumber` (omitted when 0, as proto3 does) and the payload
 * message `payloadFields` in oneof field `payloadField`.
 */
export function rawPacket(
  typeNumber: number,
  payloadField: number,
  payloadFields: readonly RawField[],
): Buffer {
  const fields: RawField[] = [];
  if (typeNumber !== 0) {
    fields.push({ number: 1, wireType: WireType.VARINT, value: BigInt(typeNumber) });
  }
  fields.push({ number: payloadField, wireType: WireType.LEN, value: rawFields(payloadFields) });
  return rawFields(fields);
}

/** EXT_WINDOW_UPDATE with increment 0: decodes to PROTO_ERR_INVALID_FIELD naming `streamId`. */
export function zeroWindowUpdate(streamId: bigint): Buffer {
  return rawPacket(100, 100, [{ number: 1, wireType: WireType.VARINT, value: streamId }]);
}

/**
 * DIAL_RSP for `random` with an error code but no error text: decodes to
 * PROTO_ERR_INVALID_FIELD naming `random` (ANP peers would read it as a success).
 */
export function codeWithoutTextDialResponse(random: bigint): Buffer {
  return rawPacket(1, 3, [
    { number: 3, wireType: WireType.VARINT, value: random },
    { number: 100, wireType: WireType.VARINT, value: 1n },
  ]);
}
