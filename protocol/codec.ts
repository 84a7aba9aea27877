/**
 * Packet codec: typed {@link Packet} ⇄ protobuf bytes of client.proto's `Packet`, byte-identical
 * to what ANP's protobuf-go produces (fields in number order, proto3 defaults omitted, DRAIN with
 * an empty payload). Table-driven by schema.ts; pure, synchronous, safe to call concurrently.
 */
import { Buffer } from 'node:buffer';

import { MAX_PACKET_BYTES } from './constants.ts';
import { decodeCanonicalData } from './data-codec.ts';
import {
  DIAL_FAILURE_WIRE,
  STREAM_RESET_WIRE,
  dialFailureFromWire,
  streamResetFromWire,
} from './error-codes.ts';
import { ProtocolError } from './errors.ts';
import { PacketType, type DecodedPacket, type Packet, type PacketTypeName } from './packet.ts';
import {
  PACKET_TYPE_FIELD,
  PAYLOAD_BY_FIELD,
  PAYLOAD_BY_TYPE,
  TYPE_BY_NUMBER,
  type FieldSpec,
  type PayloadSpec,
  type Slot,
} from './schema.ts';
import { validatePacket } from './validate-packet.ts';
import {
  WireReader,
  WireType,
  int64Size,
  uint64SafeSize,
  utf8Size,
  varintSize,
  writeInt64,
  writeUint64Safe,
  writeVarint,
} from './wire.ts';

/** Decoder scratch record: every payload field at its proto3 default. */
interface Scratch {
  protocol: string;
  address: string;
  random: bigint;
  connectId: bigint;
  error: string;
  data: Uint8Array;
  errorCode: number;
  increment: number;
  nonce: number;
  timestampUs: number;
}

const EMPTY_BYTES = new Uint8Array(0);

function newScratch(): Scratch {
  return {
    protocol: '',
    address: '',
    random: 0n,
    connectId: 0n,
    error: '',
    data: EMPTY_BYTES,
    errorCode: 0,
    increment: 0,
    nonce: 0,
    timestampUs: 0,
  };
}

function wireTypeOf(field: FieldSpec): number {
  return field.kind === 'string' || field.kind === 'bytes' ? WireType.LEN : WireType.VARINT;
}

/** Reads one payload message into `into` (merging, as protobuf does for a repeated member). */
function readPayload(r: WireReader, spec: PayloadSpec, into: Scratch): void {
  const slots = into as unknown as Record<Slot, unknown>;
  while (!r.done) {
    const key = r.key();
    const number = key >>> 3;
    const wireType = key & 7;
    const field = spec.fields.find((candidate) => candidate.number === number);
    if (field === undefined) {
      r.skip(wireType, number);
      continue;
    }
    const name = `${spec.message}.${field.protoName}`;
    if (wireType !== wireTypeOf(field)) throw r.wrongWireType(name, wireType);
    switch (field.kind) {
      case 'string':
        slots[field.slot] = r.string(name);
        break;
      case 'bytes':
        slots[field.slot] = r.bytes();
        break;
      case 'int64':
        slots[field.slot] = r.int64();
        break;
      case 'uint32':
        slots[field.slot] = r.uint32();
        break;
      case 'uint64':
        slots[field.slot] = r.uint64Safe(name);
        break;
      case 'enum':
        slots[field.slot] = r.int32();
        break;
    }
  }
}

/** Builds the typed packet from the decoded fields (validation follows separately). */
function build(type: PacketTypeName, s: Scratch): Packet {
  switch (type) {
    case 'DIAL_REQ':
      return { type, protocol: s.protocol, address: s.address, random: s.random };
    case 'DIAL_RSP': {
      const errorCode = dialFailureFromWire(s.errorCode);
      const base = { type, random: s.random, connectId: s.connectId, error: s.error };
      return errorCode === undefined ? base : { ...base, errorCode };
    }
    case 'CLOSE_REQ': {
      const errorCode = streamResetFromWire(s.errorCode);
      return errorCode === undefined
        ? { type, connectId: s.connectId }
        : { type, connectId: s.connectId, errorCode };
    }
    case 'CLOSE_RSP': {
      const errorCode = streamResetFromWire(s.errorCode);
      const base = { type, connectId: s.connectId, error: s.error };
      return errorCode === undefined ? base : { ...base, errorCode };
    }
    case 'DATA':
      return s.error === ''
        ? { type, connectId: s.connectId, data: s.data }
        : { type, connectId: s.connectId, data: s.data, error: s.error };
    case 'DIAL_CLS': {
      const errorCode = dialFailureFromWire(s.errorCode);
      return errorCode === undefined
        ? { type, random: s.random }
        : { type, random: s.random, errorCode };
    }
    case 'DRAIN':
      return { type };
    case 'EXT_WINDOW_UPDATE':
      return { type, connectId: s.connectId, increment: s.increment };
    case 'EXT_HALF_CLOSE':
      return { type, connectId: s.connectId };
    case 'EXT_PING':
    case 'EXT_PONG':
      return { type, nonce: s.nonce, timestampUs: s.timestampUs };
  }
}

function decodeChecked(bytes: Uint8Array): DecodedPacket {
  const r = new WireReader(bytes);
  let typeNumber = 0;
  let payload: PayloadSpec | undefined;
  let scratch = newScratch();
  while (!r.done) {
    const key = r.key();
    const number = key >>> 3;
    const wireType = key & 7;
    if (number === PACKET_TYPE_FIELD) {
      if (wireType !== WireType.VARINT) throw r.wrongWireType('Packet.type', wireType);
      typeNumber = r.int32(); // last one wins, as in protobuf-go
      continue;
    }
    const spec = PAYLOAD_BY_FIELD.get(number);
    if (spec === undefined) {
      r.skip(wireType, number); // unknown field: ignored, like every protobuf runtime
      continue;
    }
    if (wireType !== WireType.LEN) throw r.wrongWireType(`Packet.${spec.protoField}`, wireType);
    // oneof: another member replaces the payload; the same member again merges into it.
    if (spec !== payload) scratch = newScratch();
    payload = spec;
    readPayload(r.message(spec.protoField), spec, scratch);
  }

  const type = TYPE_BY_NUMBER.get(typeNumber);
  if (type === undefined) return { type: 'UNKNOWN', typeNumber };
  const expected = PAYLOAD_BY_TYPE.get(type);
  if (payload === undefined) {
    // ANP's Drain message is empty; tolerate a peer that leaves it out.
    if (type === 'DRAIN') return { type };
    throw new ProtocolError(
      'PROTO_ERR_MISSING_PAYLOAD',
      `${type} packet has no payload, expected ${expected?.protoField ?? '?'}`,
    );
  }
  if (payload !== expected) {
    throw new ProtocolError(
      'PROTO_ERR_PAYLOAD_MISMATCH',
      `${type} packet carries a ${payload.protoField} payload, expected ${expected?.protoField ?? '?'}`,
    );
  }
  const packet = build(type, scratch);
  validatePacket(packet);
  return packet;
}

/**
 * Decodes one packet (one gRPC message or one WebSocket binary message).
 *
 * Returns an {@link UnknownPacket} for a PacketType this version does not know, which callers
 * ignore as ANP does. Throws {@link ProtocolError} for anything else that is wrong: oversize
 * (`PROTO_ERR_PACKET_TOO_LARGE`), truncated or malformed wire data, invalid UTF-8, missing or
 * mismatched payload, invalid ids, address or fields; never a half-filled object. When the fault
 * is confined to one stream, the error's `streamId` names it.
 *
 * Zero-copy: DATA `data` is a view into `bytes`. Pure and synchronous. DATA in the canonical
 * layout (what every encoder writes) takes a shortcut (`decodeCanonicalData`) to the same result.
 */
export function decodePacket(bytes: Uint8Array): DecodedPacket {
  return decode(bytes, true);
}

/**
 * {@link decodePacket} without the DATA shortcut: the table-driven decoder alone, which the
 * shortcut must agree with (data-codec.test.ts holds them to it). Not exported from index.ts.
 */
export function decodePacketBySchema(bytes: Uint8Array): DecodedPacket {
  return decode(bytes, false);
}

function decode(bytes: Uint8Array, isShortcutAllowed: boolean): DecodedPacket {
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError(
      'PROTO_ERR_MALFORMED',
      `packet must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`,
    );
  }
  if (bytes.length > MAX_PACKET_BYTES) {
    throw new ProtocolError(
      'PROTO_ERR_PACKET_TOO_LARGE',
      `packet of ${bytes.length} bytes exceeds MAX_PACKET_BYTES (${MAX_PACKET_BYTES})`,
    );
  }
  try {
    return (isShortcutAllowed ? decodeCanonicalData(bytes) : undefined) ?? decodeChecked(bytes);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    // Defence in depth: a bug must still surface as a ProtocolError, not crash a receive loop.
    throw new ProtocolError('PROTO_ERR_MALFORMED', 'packet could not be decoded', { cause: err });
  }
}

/**
 * Like {@link decodePacket} but returns the ProtocolError instead of throwing it: the form used
 * by the gRPC deserializers, so one bad packet reaches the session logic (which decides between
 * resetting a stream and closing the tunnel) instead of failing the gRPC call.
 */
export function tryDecodePacket(bytes: Uint8Array): DecodedPacket | ProtocolError {
  try {
    return decodePacket(bytes);
  } catch (err) {
    return err as ProtocolError; // decodePacket throws nothing else
  }
}

/** The wire value of `field` in `p` (enum names → numbers; absent → proto3 default). */
function wireValue(p: Packet, field: FieldSpec): string | Uint8Array | bigint | number {
  const value = (p as unknown as Record<Slot, unknown>)[field.slot];
  if (field.kind === 'enum') {
    if (value === undefined) return 0;
    const table: Readonly<Record<string, number>> =
      field.protoType === 'ExtDialError' ? DIAL_FAILURE_WIRE : STREAM_RESET_WIRE;
    return table[value as string] ?? 0;
  }
  if (value === undefined) {
    if (field.kind === 'string') return '';
    if (field.kind === 'int64') return 0n;
    return field.kind === 'bytes' ? EMPTY_BYTES : 0;
  }
  return value as string | Uint8Array | bigint | number;
}

function isDefault(value: string | Uint8Array | bigint | number): boolean {
  if (typeof value === 'string' || value instanceof Uint8Array) return value.length === 0;
  return value === 0 || value === 0n;
}

function keySize(number: number): number {
  return varintSize(number << 3);
}

/** Size of a field's value, without its key. */
function valueSize(field: FieldSpec, value: string | Uint8Array | bigint | number): number {
  switch (field.kind) {
    case 'string': {
      const n = utf8Size(value as string, field.protoName);
      return varintSize(n) + n;
    }
    case 'bytes': {
      const n = (value as Uint8Array).length;
      return varintSize(n) + n;
    }
    case 'int64':
      return int64Size(value as bigint);
    case 'uint64':
      return uint64SafeSize(value as number);
    default:
      return varintSize(value as number);
  }
}

function writeField(
  buf: Buffer,
  pos: number,
  field: FieldSpec,
  value: string | Uint8Array | bigint | number,
): number {
  pos = writeVarint(buf, pos, (field.number << 3) | wireTypeOf(field));
  switch (field.kind) {
    case 'string': {
      const s = value as string;
      const n = Buffer.byteLength(s, 'utf8');
      pos = writeVarint(buf, pos, n);
      return pos + buf.write(s, pos, n, 'utf8');
    }
    case 'bytes': {
      const b = value as Uint8Array;
      pos = writeVarint(buf, pos, b.length);
      buf.set(b, pos);
      return pos + b.length;
    }
    case 'int64':
      return writeInt64(buf, pos, value as bigint);
    case 'uint64':
      return writeUint64Safe(buf, pos, value as number);
    default:
      return writeVarint(buf, pos, value as number);
  }
}

/**
 * Encodes a packet after validating it (the same checks decodePacket applies), into a fresh
 * Buffer with exactly protobuf-go's bytes. DATA bytes are copied once. Throws ProtocolError for
 * an invalid packet or one whose encoding exceeds {@link MAX_PACKET_BYTES}. Pure.
 */
export function encodePacket(p: Packet): Buffer {
  validatePacket(p);
  const spec = PAYLOAD_BY_TYPE.get(p.type) as PayloadSpec; // validatePacket rejected unknown types
  const typeNumber = PacketType[p.type];
  const values = spec.fields.map((field) => wireValue(p, field));
  let bodySize = 0;
  spec.fields.forEach((field, i) => {
    const value = values[i]!;
    if (!isDefault(value)) bodySize += keySize(field.number) + valueSize(field, value);
  });
  const total =
    (typeNumber === 0 ? 0 : keySize(PACKET_TYPE_FIELD) + varintSize(typeNumber)) +
    keySize(spec.field) +
    varintSize(bodySize) +
    bodySize;
  if (total > MAX_PACKET_BYTES) {
    throw new ProtocolError(
      'PROTO_ERR_PACKET_TOO_LARGE',
      `${p.type} packet of ${total} bytes exceeds MAX_PACKET_BYTES (${MAX_PACKET_BYTES})`,
    );
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  if (typeNumber !== 0) {
    pos = writeVarint(buf, pos, (PACKET_TYPE_FIELD << 3) | WireType.VARINT);
    pos = writeVarint(buf, pos, typeNumber);
  }
  pos = writeVarint(buf, pos, (spec.field << 3) | WireType.LEN);
  pos = writeVarint(buf, pos, bodySize);
  spec.fields.forEach((field, i) => {
    const value = values[i]!;
    if (!isDefault(value)) pos = writeField(buf, pos, field, value);
  });
  return buf;
}
