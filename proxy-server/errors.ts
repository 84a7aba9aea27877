/**
 * Errors of proxy-server/. Callers branch on `code` (and, for dial failures, on `reason`),
 * never on the message. README.md (root) lists every code; test/docs keeps the two in sync.
 */
import { DIAL_FAILURE_REASONS } from '../protocol/index.ts';
import type { DialFailureReason } from '../protocol/index.ts';

/** Every code a {@link ServerError} can carry. */
export const SERVER_ERROR_CODES = [
  'SERVER_ERR_INVALID_OPTIONS',
  'SERVER_ERR_LISTEN',
  'SERVER_ERR_AGENT_UNAUTHENTICATED',
  'SERVER_ERR_CLUSTER_MISMATCH',
  'SERVER_ERR_AGENT_ID_MISMATCH',
  'SERVER_ERR_AGENT_NOT_ADMITTED',
  'SERVER_ERR_INVALID_AGENT_METADATA',
  'SERVER_ERR_FRONTEND_FORBIDDEN',
  'SERVER_ERR_CLOSED',
] as const;

/** The closed set of `ServerError.code` values. */
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** Options of {@link ServerError}. */
export interface ServerErrorOptions {
  /** The underlying error, kept in ES2022 `cause`. */
  readonly cause?: unknown;
}

/**
 * The one error class of proxy-server/. Dial failures are not ServerErrors: every dial path
 * (frontends, `ProxyServer.dial`) fails with the session's ProtocolError `PROTO_ERR_DIAL_FAILED`
 * and its `reason`, exactly as a client's dial through ProxyService does.
 */
export class ServerError extends Error {
  /** Machine-readable code; see {@link SERVER_ERROR_CODES}. */
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options: ServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServerError';
    this.code = code;
  }
}

/** True when `err` is a {@link ServerError}, optionally with the given code. */
export function isServerError(err: unknown, code?: ServerErrorCode): err is ServerError {
  return err instanceof ServerError && (code === undefined || err.code === code);
}

/** Normalizes a caught value to an Error (catch variables are `unknown`). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Best-effort text of a caught value, for messages that wrap it. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const REASONS = new Set<string>(DIAL_FAILURE_REASONS);

/**
 * The `DialFailureReason` of a failed dial, whatever raised it: a ProtocolError `PROTO_ERR_DIAL_FAILED` (its `reason`), a closed session
 * (`tunnel-closed`), an aborted signal (`canceled`); anything else is `internal`.
 */
export function dialFailureReasonOf(err: unknown): DialFailureReason {
  if (typeof err !== 'object' || err === null) return 'internal';
  const { reason, code, name } = err as { reason?: unknown; code?: unknown; name?: unknown };
  if (typeof reason === 'string' && REASONS.has(reason)) return reason as DialFailureReason;
  if (code === 'PROTO_ERR_SESSION_CLOSED' || code === 'SERVER_ERR_CLOSED') return 'tunnel-closed';
  if (code === 'ABORT_ERR' || name === 'AbortError') return 'canceled';
  if (name === 'TimeoutError') return 'timeout';
  return 'internal';
}
