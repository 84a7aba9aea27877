/**
 * Typed tunnel packets: a discriminated union over `type`, one member per PacketType of
 * client.proto. Field names follow the proto fields (camelCase, `connectID` → `connectId`).
 * int64 ids are `bigint` so every ANP id (up to 2^63 − 1) round-trips exactly.
 */
import type { DialFailureReason, StreamResetCode } from './error-codes.ts';

/**
 * Wire numbers of `PacketType`. 0–6 are ANP's; 100–103 are Spokelink extensions, sent only to a
 * peer that negotiated the matching extension. Never renumber.
 */
export const PacketType = {
  DIAL_REQ: 0,
  DIAL_RSP: 1,
  CLOSE_REQ: 2,
  CLOSE_RSP: 3,
  DATA: 4,
  DIAL_CLS: 5,
  DRAIN: 6,
  EXT_WINDOW_UPDATE: 100,
  EXT_HALF_CLOSE: 101,
  EXT_PING: 102,
  EXT_PONG: 103,
} as const;

/** Name of a known packet type (the `type` discriminant of {@link Packet}). */
export type PacketTypeName = keyof typeof PacketType;

/**
 * DIAL_REQ: open a stream to `address`. Sent by the dialing side of a tunnel (frontend → server,
 * server → agent). `random` is the dial id; with the `stream-id` extension it is also the stream
 * id for the stream's whole life, chosen unique and non-zero by the dialer.
 */
export interface DialRequestPacket {
  readonly type: 'DIAL_REQ';
  /** Always "tcp" (the only protocol ANP dials). */
  readonly protocol: string;
  /** "host:port", IPv6 hosts in brackets. */
  readonly address: string;
  /** Dial id, 0 ≤ random < 2^63. */
  readonly random: bigint;
}

/**
 * DIAL_RSP: the accepting side's answer to DIAL_REQ `random`. Success when `error` is empty:
 * then `connectId` (≥ 1) names the stream; with `stream-id` it equals `random`.
 */
export interface DialResponsePacket {
  readonly type: 'DIAL_RSP';
  readonly random: bigint;
  /** Stream id on success, 0 on failure. */
  readonly connectId: bigint;
  /** Empty on success; a human message on failure (the only failure signal ANP peers read). */
  readonly error: string;
  /** `error-codes` extension (field 100): typed reason; requires a non-empty `error`. */
  readonly errorCode?: DialFailureReason;
}

/**
 * CLOSE_REQ: the dialing side asks to close stream `connectId`; answered by CLOSE_RSP. With
 * `errorCode` (extension) it is a reset: abort without flushing.
 */
export interface CloseRequestPacket {
  readonly type: 'CLOSE_REQ';
  /** May be 0: ANP sends that for streams whose id it never learned. */
  readonly connectId: bigint;
  readonly errorCode?: StreamResetCode;
}

/**
 * CLOSE_RSP: the accepting side reports stream `connectId` closed (in answer to CLOSE_REQ or on
 * its own). The dialing side never answers it. With `errorCode` (extension) it is a reset.
 */
export interface CloseResponsePacket {
  readonly type: 'CLOSE_RSP';
  readonly connectId: bigint;
  /** Empty, or a human reason. */
  readonly error: string;
  readonly errorCode?: StreamResetCode;
}

/**
 * DATA: stream bytes, either direction. After {@link decodePacket}, `data` is a view into the
 * decoded buffer (no copy): keep the buffer unchanged while `data` is in use.
 */
export interface DataPacket {
  readonly type: 'DATA';
  /** ≥ 1. */
  readonly connectId: bigint;
  readonly data: Uint8Array;
  /** ANP's Data.error, unused in practice; omitted when empty. */
  readonly error?: string;
}

/**
 * DIAL_CLS: the dialing side cancels pending dial `random`. ANP agents ignore it; with
 * `stream-id`, the accepting side answers with exactly one terminal packet (DIAL_RSP failure
 * if still dialing, CLOSE_RSP if already established).
 */
export interface CloseDialPacket {
  readonly type: 'DIAL_CLS';
  readonly random: bigint;
  /** `error-codes` extension: why the dialer gave up ('canceled' or 'timeout'). */
  readonly errorCode?: DialFailureReason;
}

/** DRAIN: agent → server hint that the agent is terminating; prefer other agents for new dials. */
export interface DrainPacket {
  readonly type: 'DRAIN';
}

/**
 * EXT_WINDOW_UPDATE (`flow-control`): the receiver of stream `connectId` grants `increment`
 * more bytes of DATA credit to the sender.
 */
export interface WindowUpdatePacket {
  readonly type: 'EXT_WINDOW_UPDATE';
  /** ≥ 1. */
  readonly connectId: bigint;
  /** Bytes, 1 ≤ increment ≤ MAX_STREAM_WINDOW_BYTES. */
  readonly increment: number;
}

/** EXT_HALF_CLOSE (`half-close`): the sender sends no more DATA on stream `connectId` (FIN). */
export interface HalfClosePacket {
  readonly type: 'EXT_HALF_CLOSE';
  /** ≥ 1. */
  readonly connectId: bigint;
}

/** EXT_PING (`ping`): tunnel-level liveness probe; the peer answers EXT_PONG with the same fields. */
export interface PingPacket {
  readonly type: 'EXT_PING';
  /** uint32 chosen by the pinger. */
  readonly nonce: number;
  /** Pinger's clock in whole microseconds (opaque to the responder), a safe integer ≥ 0. */
  readonly timestampUs: number;
}

/** EXT_PONG (`ping`): echo of an EXT_PING's nonce and timestamp. */
export interface PongPacket {
  readonly type: 'EXT_PONG';
  readonly nonce: number;
  readonly timestampUs: number;
}

/** Every packet this version can encode and decode. */
export type Packet =
  | DialRequestPacket
  | DialResponsePacket
  | CloseRequestPacket
  | CloseResponsePacket
  | DataPacket
  | CloseDialPacket
  | DrainPacket
  | WindowUpdatePacket
  | HalfClosePacket
  | PingPacket
  | PongPacket;

/**
 * A decoded packet whose PacketType this version does not know (a newer peer). Like ANP, ignore
 * it; its payload is skipped, not kept.
 */
export interface UnknownPacket {
  readonly type: 'UNKNOWN';
  /** The PacketType number as received (int32). */
  readonly typeNumber: number;
}

/** What {@link decodePacket} returns. */
export type DecodedPacket = Packet | UnknownPacket;
