/**
 * Protocol-buffers wire format primitives (varints, keys, length-delimited fields) for the
 * codec. Internal to protocol/: not exported from index.ts. Reading follows protobuf-go where it
 * matters for interop: 10-byte varints with overflow check, last-wins scalars, int32/uint32
 * truncation of wider varints, proto3 strings must be valid UTF-8.
 */
import { Buffer } from 'node:buffer';

import { ProtocolError } from './errors.ts';

/** Protobuf wire types. */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LEN: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

/** Nesting limit for (unknown) groups while skipping, so hostile input cannot recurse deeply. */
const MAX_GROUP_DEPTH = 64;
const TWO_POW_32 = 0x1_0000_0000;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Sequential reader over `buf[start, end)`. Throws ProtocolError on any malformed input. */
export class WireReader {
  readonly #buf: Uint8Array;
  readonly #end: number;
  #pos: number;
  #lo = 0;
  #hi = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  /** True when every byte has been consumed. */
  get done(): boolean {
    return this.#pos >= this.#end;
  }

  #truncated(what: string): ProtocolError {
    return new ProtocolError(
      'PROTO_ERR_TRUNCATED',
      `packet truncated: ${what} at byte ${this.#pos} runs past the end (${this.#end} bytes)`,
    );
  }

  #malformed(what: string): ProtocolError {
    return new ProtocolError(
      'PROTO_ERR_MALFORMED',
      `malformed packet at byte ${this.#pos}: ${what}`,
    );
  }

  /** Reads one varint into #lo/#hi (low and high 32 bits, unsigned). */
  #varint(): void {
    const buf = this.#buf;
    const end = this.#end;
    let pos = this.#pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw this.#truncated('varint');
      const b = buf[pos++]!;
      if (i < 4) {
        lo |= (b & 0x7f) << (i * 7);
      } else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else if (i === 9 && b > 1) {
        throw this.#malformed('varint overflows 64 bits');
      } else {
        hi |= (b & 0x7f) << ((i - 5) * 7 + 3);
      }
      if (b < 0x80) {
        this.#pos = pos;
        this.#lo = lo >>> 0;
        this.#hi = hi >>> 0;
        return;
      }
    }
    throw this.#malformed('varint longer than 10 bytes');
  }

  /** Reads a field key; returns `fieldNumber * 8 + wireType` after checking both. */
  key(): number {
    this.#varint();
    const fieldNumber = this.#lo >>> 3;
    const wireType = this.#lo & 7;
    if (this.#hi !== 0 || fieldNumber > 0x1fff_ffff)
      throw this.#malformed('field number too large');
    if (fieldNumber === 0) throw this.#malformed('field number 0');
    if (wireType > 5) throw this.#malformed(`invalid wire type ${wireType}`);
    return this.#lo;
  }

  /** int64 field: the varint as a signed 64-bit integer. */
  int64(): bigint {
    this.#varint();
    if (this.#hi === 0) return BigInt(this.#lo);
    return BigInt.asIntN(64, (BigInt(this.#hi) << 32n) | BigInt(this.#lo));
  }

  /** int32/enum field: low 32 bits, signed (as protobuf-go truncates wider varints). */
  int32(): number {
    this.#varint();
    return this.#lo | 0;
  }

  /** uint32 field: low 32 bits, unsigned. */
  uint32(): number {
    this.#varint();
    return this.#lo;
  }

  /** uint64 field that must fit a JS safe integer; `name` goes into the error. */
  uint64Safe(name: string): number {
    this.#varint();
    if (this.#hi > 0x1f_ffff) {
      throw new ProtocolError('PROTO_ERR_INVALID_FIELD', `${name} exceeds 2^53 - 1`);
    }
    return this.#hi * TWO_POW_32 + this.#lo;
  }

  /** Length-delimited field: returns [start, end) of its body and advances past it. */
  #lenRange(what: string): [number, number] {
    this.#varint();
    const start = this.#pos;
    const remaining = this.#end - start;
    if (this.#hi !== 0 || this.#lo > remaining) throw this.#truncated(what);
    this.#pos = start + this.#lo;
    return [start, this.#pos];
  }

  /** bytes field: a view (no copy) of the body. */
  bytes(): Uint8Array {
    const [start, end] = this.#lenRange('bytes field');
    return this.#buf.subarray(start, end);
  }

  /** string field: the body decoded as strict UTF-8; `name` goes into the error. */
  string(name: string): string {
    const [start, end] = this.#lenRange(`${name} string`);
    if (start === end) return '';
    try {
      return utf8Decoder.decode(this.#buf.subarray(start, end));
    } catch (err) {
      throw new ProtocolError('PROTO_ERR_INVALID_UTF8', `${name} is not valid UTF-8`, {
        cause: err,
      });
    }
  }

  /** Embedded message field: a reader over its body, sharing the buffer. */
  message(name: string): WireReader {
    const [start, end] = this.#lenRange(`${name} message`);
    return new WireReader(this.#buf, start, end);
  }

  /** Skips one field of `wireType` whose key was just read (unknown fields, like protobuf-go). */
  skip(wireType: number, fieldNumber: number, depth = 0): void {
    switch (wireType) {
      case WireType.VARINT:
        this.#varint();
        return;
      case WireType.FIXED64:
        this.#advance(8, 'fixed64 field');
        return;
      case WireType.FIXED32:
        this.#advance(4, 'fixed32 field');
        return;
      case WireType.LEN:
        this.#lenRange('length-delimited field');
        return;
      case WireType.START_GROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw this.#malformed('groups nested too deeply');
        for (;;) {
          if (this.done) throw this.#truncated(`group ${fieldNumber}`);
          const key = this.key();
          const wt = key & 7;
          if (wt === WireType.END_GROUP) {
            if (key >>> 3 !== fieldNumber) throw this.#malformed('mismatched end group');
            return;
          }
          this.skip(wt, key >>> 3, depth + 1);
        }
      }
      default:
        throw this.#malformed(`unexpected wire type ${wireType} for field ${fieldNumber}`);
    }
  }

  #advance(n: number, what: string): void {
    if (this.#end - this.#pos < n) throw this.#truncated(what);
    this.#pos += n;
  }

  /** Error for a known field sent with the wrong wire type (stricter than protobuf-go, see README). */
  wrongWireType(name: string, wireType: number): ProtocolError {
    return this.#malformed(`field ${name} has wire type ${wireType}`);
  }
}

/** Bytes a uint32 (0 ≤ n < 2^32) takes as a varint. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x20_0000) return 3;
  if (n < 0x1000_0000) return 4;
  return 5;
}

/** Bytes a non-negative int64 (< 2^63) takes as a varint. */
export function int64Size(n: bigint): number {
  if (n < 0x1_0000_0000n) return varintSize(Number(n));
  let size = 5;
  for (let v = n >> 35n; v > 0n; v >>= 7n) size++;
  return size;
}

/** Writes a uint32 varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Writes a non-negative int64 varint at `pos`; returns the position after it. */
export function writeInt64(buf: Uint8Array, pos: number, n: bigint): number {
  if (n < 0x1_0000_0000n) return writeVarint(buf, pos, Number(n));
  let v = n;
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

/** Writes a uint64 given as a safe-integer number; returns the position after it. */
export function writeUint64Safe(buf: Uint8Array, pos: number, n: number): number {
  return n < TWO_POW_32 ? writeVarint(buf, pos, n) : writeInt64(buf, pos, BigInt(n));
}

/** Bytes a safe-integer uint64 takes as a varint. */
export function uint64SafeSize(n: number): number {
  return n < TWO_POW_32 ? varintSize(n) : int64Size(BigInt(n));
}

/** UTF-8 length of `s`; throws PROTO_ERR_INVALID_UTF8 for lone surrogates (not encodable). */
export function utf8Size(s: string, name: string): number {
  if (s.length === 0) return 0;
  if (LONE_SURROGATE.test(s)) {
    throw new ProtocolError('PROTO_ERR_INVALID_UTF8', `${name} contains a lone UTF-16 surrogate`);
  }
  return Buffer.byteLength(s, 'utf8');
}
