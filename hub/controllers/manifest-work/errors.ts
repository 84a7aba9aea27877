/**
 * Errors of hub/controllers/manifest-work/. Callers branch on `code`, never on the message; this
 * folder's README lists exactly these codes (errors.test.ts keeps the two in sync).
 */

/** Every code a {@link WorkError} can carry. */
export const WORK_ERROR_CODES = [
  'HUB_ERR_WORK_SPOKE_API',
  'HUB_ERR_WORK_SPOKE_UNREACHABLE',
  'HUB_ERR_WORK_UNKNOWN_KIND',
  'HUB_ERR_WORK_IGNORE_FIELD',
  'HUB_ERR_WORK_EXECUTOR_DENIED',
] as const;

/** One of {@link WORK_ERROR_CODES}. */
export type WorkErrorCode = (typeof WORK_ERROR_CODES)[number];

/** Options of {@link WorkError}. */
export interface WorkErrorOptions {
  /** The underlying error, kept in ES2022 `cause`. */
  readonly cause?: unknown;
  /** `HUB_ERR_WORK_SPOKE_API`: the HTTP status the spoke's API server answered. */
  readonly status?: number;
  /** `HUB_ERR_WORK_SPOKE_API`: the `reason` of its Status (e.g. `Conflict`, `Invalid`). */
  readonly reason?: string;
}

/**
 * The one error class of the work controller. Its message is what goes into a manifest's
 * `Applied=False` condition: for `HUB_ERR_WORK_SPOKE_API` exactly the spoke API server's Status
 * message (never the request or response body beyond it).
 */
export class WorkError extends Error {
  /** Machine-readable code; see {@link WORK_ERROR_CODES}. */
  readonly code: WorkErrorCode;
  /** The spoke API server's HTTP status (`HUB_ERR_WORK_SPOKE_API`). */
  readonly status: number | undefined;
  /** The spoke API server's Status reason (`HUB_ERR_WORK_SPOKE_API`). */
  readonly reason: string | undefined;

  constructor(code: WorkErrorCode, message: string, options: WorkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WorkError';
    this.code = code;
    this.status = options.status;
    this.reason = options.reason;
  }
}

/** True when `err` is a {@link WorkError}, optionally with the given code. */
export function isWorkError(err: unknown, code?: WorkErrorCode): err is WorkError {
  return err instanceof WorkError && (code === undefined || err.code === code);
}

/** True when `err` is the spoke API server answering `status`. */
export function isSpokeStatus(err: unknown, status: number): boolean {
  return isWorkError(err, 'HUB_ERR_WORK_SPOKE_API') && err.status === status;
}
