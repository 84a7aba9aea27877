/** Error constructors and mappings shared by the session files (internal). */
import type { DialFailureReason, StreamResetCode } from '../error-codes.ts';
import { ProtocolError } from '../errors.ts';
import { TUNNEL_CLOSE_CODES } from './tunnel-close-codes.ts';

/** Normalizes a caught value (catch variables are `unknown`). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** The ProtocolError a failed dial rejects with. */
export function dialError(
  label: string,
  address: string,
  reason: DialFailureReason,
  message: string,
  cause?: unknown,
): ProtocolError {
  return new ProtocolError(
    'PROTO_ERR_DIAL_FAILED',
    `${label}: dial ${address} failed (${reason}): ${message}`,
    cause === undefined ? { reason } : { reason, cause },
  );
}

/** The ProtocolError for a session that is gone (transport lost, ping deadline, ...). */
export function sessionClosedError(
  label: string,
  message: string,
  options: { cause?: unknown; closeCode?: number } = {},
): ProtocolError {
  return new ProtocolError('PROTO_ERR_SESSION_CLOSED', `${label}: ${message}`, options);
}

/** Codes that mean "the peer sent something unreadable": the tunnel closes with 4000. */
const SESSION_LEVEL_CODES = new Set<string>([
  'PROTO_ERR_SESSION_CLOSED',
  'PROTO_ERR_DIAL_FAILED',
  'PROTO_ERR_STREAM_RESET',
]);

/**
 * The WebSocket close code that destroying a session with `err` sends: the error's own
 * `closeCode`, 4000 (PROTOCOL_ERROR) for a packet-level ProtocolError, else none (terminate).
 */
export function closeCodeFor(err: Error | undefined): number | undefined {
  if (!(err instanceof ProtocolError)) return undefined;
  if (err.closeCode !== undefined) return err.closeCode;
  return SESSION_LEVEL_CODES.has(err.code) ? undefined : TUNNEL_CLOSE_CODES.PROTOCOL_ERROR;
}

/** The ProtocolError `PROTO_ERR_STREAM_RESET` a stream is destroyed with. */
export function streamResetError(
  streamId: bigint,
  resetCode: StreamResetCode,
  message: string,
  cause?: unknown,
): ProtocolError {
  return new ProtocolError(
    'PROTO_ERR_STREAM_RESET',
    `stream ${streamId} ${message}`,
    cause === undefined ? { streamId, resetCode } : { streamId, resetCode, cause },
  );
}

/** The reset code that a local `stream.destroy(err)` sends. */
export function resetCodeFor(err: Error | null): StreamResetCode {
  if (err === null) return 'canceled';
  if (err instanceof ProtocolError && err.resetCode !== undefined) return err.resetCode;
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') {
    return 'connection-reset';
  }
  if (code === 'ETIMEDOUT') return 'timeout';
  if (err.name === 'AbortError') return 'canceled';
  return 'internal';
}
