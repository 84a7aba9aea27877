/**
 * The codec's table of client.proto: for each packet type, the payload oneof member and its
 * fields. Internal to protocol/. schema.test.ts loads proto/client.proto with protobufjs
 * and checks this table against it field by field, so the .proto stays the source of truth.
 */
import { PacketType, type PacketTypeName } from './packet.ts';

/** How a field is encoded. */
export type FieldKind = 'string' | 'bytes' | 'int64' | 'uint32' | 'uint64' | 'enum';

/** Property of the typed packet (and of the decoder's scratch record) a field maps to. */
export type Slot =
  | 'protocol'
  | 'address'
  | 'random'
  | 'connectId'
  | 'error'
  | 'data'
  | 'errorCode'
  | 'increment'
  | 'nonce'
  | 'timestampUs';

/** One field of a payload message. */
export interface FieldSpec {
  readonly number: number;
  /** Field name in client.proto. */
  readonly protoName: string;
  /** Type name in client.proto (scalar or enum name). */
  readonly protoType: string;
  readonly kind: FieldKind;
  readonly slot: Slot;
}

/** One member of Packet's `payload` oneof. */
export interface PayloadSpec {
  readonly packetType: PacketTypeName;
  /** Field number in Packet. */
  readonly field: number;
  /** Oneof member name in client.proto. */
  readonly protoField: string;
  /** Message type name in client.proto. */
  readonly message: string;
  /** Fields in ascending number order (the order protobuf-go writes them). */
  readonly fields: readonly FieldSpec[];
}

const f = (
  number: number,
  protoName: string,
  protoType: string,
  kind: FieldKind,
  slot: Slot,
): FieldSpec => ({ number, protoName, protoType, kind, slot });

const PING_FIELDS = [
  f(1, 'nonce', 'uint32', 'uint32', 'nonce'),
  f(2, 'timestampMicros', 'uint64', 'uint64', 'timestampUs'),
];

/** Every payload, in Packet field-number order. */
export const PAYLOADS: readonly PayloadSpec[] = [
  {
    packetType: 'DIAL_REQ',
    field: 2,
    protoField: 'dialRequest',
    message: 'DialRequest',
    fields: [
      f(1, 'protocol', 'string', 'string', 'protocol'),
      f(2, 'address', 'string', 'string', 'address'),
      f(3, 'random', 'int64', 'int64', 'random'),
    ],
  },
  {
    packetType: 'DIAL_RSP',
    field: 3,
    protoField: 'dialResponse',
    message: 'DialResponse',
    fields: [
      f(1, 'error', 'string', 'string', 'error'),
      f(2, 'connectID', 'int64', 'int64', 'connectId'),
      f(3, 'random', 'int64', 'int64', 'random'),
      f(100, 'extErrorCode', 'ExtDialError', 'enum', 'errorCode'),
    ],
  },
  {
    packetType: 'DATA',
    field: 4,
    protoField: 'data',
    message: 'Data',
    fields: [
      f(1, 'connectID', 'int64', 'int64', 'connectId'),
      f(2, 'error', 'string', 'string', 'error'),
      f(3, 'data', 'bytes', 'bytes', 'data'),
    ],
  },
  {
    packetType: 'CLOSE_REQ',
    field: 5,
    protoField: 'closeRequest',
    message: 'CloseRequest',
    fields: [
      f(1, 'connectID', 'int64', 'int64', 'connectId'),
      f(100, 'extErrorCode', 'ExtStreamError', 'enum', 'errorCode'),
    ],
  },
  {
    packetType: 'CLOSE_RSP',
    field: 6,
    protoField: 'closeResponse',
    message: 'CloseResponse',
    fields: [
      f(1, 'error', 'string', 'string', 'error'),
      f(2, 'connectID', 'int64', 'int64', 'connectId'),
      f(100, 'extErrorCode', 'ExtStreamError', 'enum', 'errorCode'),
    ],
  },
  {
    packetType: 'DIAL_CLS',
    field: 7,
    protoField: 'closeDial',
    message: 'CloseDial',
    fields: [
      f(1, 'random', 'int64', 'int64', 'random'),
      f(100, 'extErrorCode', 'ExtDialError', 'enum', 'errorCode'),
    ],
  },
  { packetType: 'DRAIN', field: 8, protoField: 'drain', message: 'Drain', fields: [] },
  {
    packetType: 'EXT_WINDOW_UPDATE',
    field: 100,
    protoField: 'extWindowUpdate',
    message: 'ExtWindowUpdate',
    fields: [
      f(1, 'connectID', 'int64', 'int64', 'connectId'),
      f(2, 'increment', 'uint32', 'uint32', 'increment'),
    ],
  },
  {
    packetType: 'EXT_HALF_CLOSE',
    field: 101,
    protoField: 'extHalfClose',
    message: 'ExtHalfClose',
    fields: [f(1, 'connectID', 'int64', 'int64', 'connectId')],
  },
  {
    packetType: 'EXT_PING',
    field: 102,
    protoField: 'extPing',
    message: 'ExtPing',
    fields: PING_FIELDS,
  },
  {
    packetType: 'EXT_PONG',
    field: 103,
    protoField: 'extPong',
    message: 'ExtPing',
    fields: PING_FIELDS,
  },
];

/** Payload spec by Packet field number. */
export const PAYLOAD_BY_FIELD: ReadonlyMap<number, PayloadSpec> = new Map(
  PAYLOADS.map((p) => [p.field, p]),
);

/** Payload spec by packet type name. */
export const PAYLOAD_BY_TYPE: ReadonlyMap<PacketTypeName, PayloadSpec> = new Map(
  PAYLOADS.map((p) => [p.packetType, p]),
);

/** Packet type name by wire number. */
export const TYPE_BY_NUMBER: ReadonlyMap<number, PacketTypeName> = new Map(
  Object.entries(PacketType).map(([name, n]) => [n, name as PacketTypeName]),
);

/** Packet field numbers of `type` (1) and of the oneof. */
export const PACKET_TYPE_FIELD = 1;
