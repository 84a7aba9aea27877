/**
 * Errors of hub/leader-election/. Callers branch on `code`, never on the message; this folder's
 * README lists exactly these codes (errors.test.ts keeps the two in sync).
 */

/** Every code a {@link LeaderElectionError} can carry. */
export const LEADER_ELECTION_ERROR_CODES = [
  'HUB_ERR_LEADER_ELECTION_INVALID_OPTIONS',
  'HUB_ERR_LEADERSHIP_LOST',
  'HUB_ERR_LEADER_ELECTION_CLOSED',
] as const;

/** One of {@link LEADER_ELECTION_ERROR_CODES}. */
export type LeaderElectionErrorCode = (typeof LEADER_ELECTION_ERROR_CODES)[number];

/** Options of {@link LeaderElectionError}. */
export interface LeaderElectionErrorOptions {
  /** The underlying error, kept in ES2022 `cause`. */
  readonly cause?: unknown;
}

/**
 * The one error class of hub/leader-election/. Thrown by `createLeaderElector` (bad options) and
 * `start()` (after `stop()`/`destroy()`), and set as the `reason` of the leadership signal when
 * a term ends: `HUB_ERR_LEADERSHIP_LOST` when the lease was lost, `HUB_ERR_LEADER_ELECTION_CLOSED`
 * when the elector was stopped.
 */
export class LeaderElectionError extends Error {
  /** Machine-readable code; see {@link LEADER_ELECTION_ERROR_CODES}. */
  readonly code: LeaderElectionErrorCode;

  constructor(
    code: LeaderElectionErrorCode,
    message: string,
    options: LeaderElectionErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LeaderElectionError';
    this.code = code;
  }
}

/** True when `err` is a {@link LeaderElectionError}, optionally with the given code. */
export function isLeaderElectionError(
  err: unknown,
  code?: LeaderElectionErrorCode,
): err is LeaderElectionError {
  return err instanceof LeaderElectionError && (code === undefined || err.code === code);
}

/** The `message` of a Kubernetes Status in an API error's body (a string or an object). */
function statusMessage(body: unknown): string | undefined {
  let status = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (status as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

/**
 * A caught value as log fields: its `code` (the HTTP status for API errors) and `name`, and the
 * API server's Status message, or else the first line of the message and of each cause. Never
 * headers: client-node puts them (and the whole body) in its messages, after the first line.
 */
export function describeError(err: unknown): Record<string, unknown> {
  const { code, name, body } = (err ?? {}) as { code?: unknown; name?: unknown; body?: unknown };
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is in the causes.
  const lines: string[] = [];
  for (let e: unknown = err; e instanceof Error && lines.length < 4; e = e.cause) {
    const line = e.message.split('\n', 1)[0] ?? '';
    if (!lines.includes(line)) lines.push(line);
  }
  return {
    error: statusMessage(body) ?? (lines.length > 0 ? lines.join(': ') : String(err)),
    ...(code === undefined ? {} : { code }),
    ...(name === undefined ? {} : { name }),
  };
}
