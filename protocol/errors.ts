import type { DialFailureReason, StreamResetCode } from './error-codes.ts';

/**
 * Every code a {@link ProtocolError} can carry. Callers branch on `code`, never on the message.
 * The README's error table lists exactly these codes (a test keeps the two in sync).
 */
export const PROTOCOL_ERROR_CODES = [
  'PROTO_ERR_PACKET_TOO_LARGE',
  'PROTO_ERR_TRUNCATED',
  'PROTO_ERR_MALFORMED',
  'PROTO_ERR_INVALID_UTF8',
  'PROTO_ERR_MISSING_PAYLOAD',
  'PROTO_ERR_PAYLOAD_MISMATCH',
  'PROTO_ERR_INVALID_ID',
  'PROTO_ERR_INVALID_ADDRESS',
  'PROTO_ERR_UNSUPPORTED_PROTOCOL',
  'PROTO_ERR_INVALID_FIELD',
  'PROTO_ERR_DATA_EXCEEDS_WINDOW',
  'PROTO_ERR_WINDOW_TOO_LARGE',
  'PROTO_ERR_WINDOW_MISUSE',
  'PROTO_ERR_STREAM_ID_IN_USE',
  'PROTO_ERR_INVALID_AGENT_IDENTIFIERS',
  'PROTO_ERR_INVALID_METADATA',
  'PROTO_ERR_DIAL_FAILED',
  'PROTO_ERR_STREAM_RESET',
  'PROTO_ERR_SESSION_CLOSED',
  'PROTO_ERR_PING_FAILED',
] as const;

/** The closed set of `ProtocolError.code` values. */
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** Options for {@link ProtocolError}. */
export interface ProtocolErrorOptions {
  /** The underlying error, kept in ES2022 `cause`. */
  readonly cause?: unknown;
  /**
   * The stream the fault belongs to, when the packet was parsed far enough to name one
   * (`connectID`, or `random` for DIAL_REQ/DIAL_CLS). Lets a caller reset only that stream
   * instead of the whole tunnel.
   */
  readonly streamId?: bigint;
  /** `PROTO_ERR_DIAL_FAILED`: why the dial failed (also the metric label). */
  readonly reason?: DialFailureReason;
  /** `PROTO_ERR_STREAM_RESET`: the reset code, sent by the peer or chosen locally. */
  readonly resetCode?: StreamResetCode;
  /**
   * A tunnel-level fault: the WebSocket application close code (4000–4999, see
   * TUNNEL_CLOSE_CODES) that was received, or that the session sends when it closes for it.
   */
  readonly closeCode?: number;
}

/**
 * The one error class of `protocol/`: malformed or invalid packets, flow-control violations,
 * bad metadata, and (from the tunnel session, session/) failed dials, reset streams and lost
 * sessions. Thrown synchronously by pure functions; the session rejects dials with it, destroys
 * streams with it and passes it to 'close'.
 */
export class ProtocolError extends Error {
  /** Machine-readable code; see {@link PROTOCOL_ERROR_CODES}. */
  readonly code: ProtocolErrorCode;
  /** The stream the fault is confined to, if known (see {@link ProtocolErrorOptions.streamId}). */
  readonly streamId: bigint | undefined;
  /** Set on `PROTO_ERR_DIAL_FAILED`: the closed-set reason (see {@link ProtocolErrorOptions.reason}). */
  readonly reason: DialFailureReason | undefined;
  /** Set on `PROTO_ERR_STREAM_RESET`: the reset code (see {@link ProtocolErrorOptions.resetCode}). */
  readonly resetCode: StreamResetCode | undefined;
  /** WebSocket close code of a tunnel-level fault, if any (see {@link ProtocolErrorOptions.closeCode}). */
  readonly closeCode: number | undefined;

  constructor(code: ProtocolErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.streamId = options.streamId;
    this.reason = options.reason;
    this.resetCode = options.resetCode;
    this.closeCode = options.closeCode;
  }
}

/** True when `err` is a {@link ProtocolError}, optionally with the given code. */
export function isProtocolError(err: unknown, code?: ProtocolErrorCode): err is ProtocolError {
  return err instanceof ProtocolError && (code === undefined || err.code === code);
}
