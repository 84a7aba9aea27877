/**
 * Errors of proxy-agent/. Callers branch on `code`, never on the message; README.md's error
 * table lists exactly these codes (test/docs/error-codes.test.ts keeps the two in sync).
 */
import type { DialFailureReason } from '../protocol/index.ts';

/** Every code an {@link AgentError} can carry. */
export const AGENT_ERROR_CODES = [
  'AGENT_ERR_INVALID_OPTIONS',
  'AGENT_ERR_CONNECT_FAILED',
  'AGENT_ERR_REFUSED_BY_SERVER',
  'AGENT_ERR_HANDSHAKE',
  'AGENT_ERR_DIAL_FAILED',
  'AGENT_ERR_CLOSED',
  'AGENT_ERR_REGISTRATION',
  'AGENT_ERR_HUB_UNTRUSTED',
] as const;

/** One of {@link AGENT_ERROR_CODES}. */
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

/** Options of {@link AgentError}. */
export interface AgentErrorOptions {
  /** The underlying error, kept in ES2022 `cause`. */
  readonly cause?: unknown;
  /** For `AGENT_ERR_DIAL_FAILED`: why the target could not be reached (also the metric label). */
  readonly reason?: DialFailureReason;
  /**
   * For `AGENT_ERR_CONNECT_FAILED`: the retry delay the server named (gRPC
   * `grpc-retry-pushback-ms`, HTTP `Retry-After`), in ms, when it refused at its handshake rate.
   */
  readonly retryAfterMs?: number;
}

/**
 * The one error class of proxy-agent/. `reason` is set on `AGENT_ERR_DIAL_FAILED` and carries
 * the same value that goes into the failed DIAL_RSP and the `dial_failures_total` label.
 */
export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly reason: DialFailureReason | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: AgentErrorCode, message: string, options: AgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** True when `err` is an {@link AgentError}, optionally with the given code. */
export function isAgentError(err: unknown, code?: AgentErrorCode): err is AgentError {
  return err instanceof AgentError && (code === undefined || err.code === code);
}

/** Normalizes a caught value (catch variables are `unknown`) to an Error. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
