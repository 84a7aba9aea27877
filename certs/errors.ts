/**
 * Every code a {@link CertError} can carry. Callers branch on `err.code`, never on the
 * message. The README's error table is checked against this list by `errors.test.ts`.
 */
export const CERT_ERROR_CODES = [
  'CERT_ERR_INVALID_PEM',
  'CERT_ERR_INVALID_KEY',
  'CERT_ERR_KEY_MISMATCH',
  'CERT_ERR_EXPIRED',
  'CERT_ERR_NOT_YET_VALID',
  'CERT_ERR_UNKNOWN_ISSUER',
  'CERT_ERR_BAD_SIGNATURE',
  'CERT_ERR_CSR_SIGNATURE',
  'CERT_ERR_INVALID_CSR',
  'CERT_ERR_USAGE',
  'CERT_ERR_INVALID_OPTIONS',
] as const;

/** A {@link CertError} code: one of {@link CERT_ERROR_CODES}. */
export type CertErrorCode = (typeof CERT_ERROR_CODES)[number];

/**
 * The only error type thrown by `certs/`. `code` is stable; `message` is for humans and never
 * contains key material; the underlying error (from node:crypto or the DER reader), when there
 * is one, is in `cause`.
 */
export class CertError extends Error {
  override readonly name = 'CertError';
  readonly code: CertErrorCode;

  constructor(code: CertErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Best-effort text of an unknown thrown value, for messages that wrap it. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
