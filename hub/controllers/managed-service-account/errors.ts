/**
 * Errors of hub/controllers/managed-service-account/. Callers branch on `code`, never on the
 * message; this folder's README lists exactly these codes (errors.test.ts keeps the two in sync).
 */

/** Every code an {@link MsaError} can carry. */
export const MSA_ERROR_CODES = [
  'HUB_ERR_MSA_INVALID_SPEC',
  'HUB_ERR_MSA_SPOKE',
  'HUB_ERR_MSA_HUB',
  'HUB_ERR_MSA_INVALID_SECRET',
] as const;

/** One of {@link MSA_ERROR_CODES}. */
export type MsaErrorCode = (typeof MSA_ERROR_CODES)[number];

/**
 * The one error class of the managed-service-account controller and its client helper. Its
 * message is what goes into `TokenReported=False` (reason `TokenReportFailed`): it names the
 * step and the object, and for API answers the API server's Status message, never a token.
 */
export class MsaError extends Error {
  /** Machine-readable code; see {@link MSA_ERROR_CODES}. */
  readonly code: MsaErrorCode;

  constructor(code: MsaErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MsaError';
    this.code = code;
  }
}

/** True when `err` is an {@link MsaError}, optionally with the given code. */
export function isMsaError(err: unknown, code?: MsaErrorCode): err is MsaError {
  return err instanceof MsaError && (code === undefined || err.code === code);
}
