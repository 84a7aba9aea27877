/**
 * Errors of the sandbox: building the Kubernetes binaries and running local control planes.
 * Callers branch on `code`; `message` is for humans and names the next step to take.
 */
export const SANDBOX_ERROR_CODES = [
  'SANDBOX_ERR_GO_MISSING',
  'SANDBOX_ERR_GO_TOO_OLD',
  'SANDBOX_ERR_MODULE_DOWNLOAD',
  'SANDBOX_ERR_BUILD_FAILED',
  'SANDBOX_ERR_BINARY_MISSING',
  'SANDBOX_ERR_PORT_IN_USE',
  'SANDBOX_ERR_EARLY_EXIT',
  'SANDBOX_ERR_START_TIMEOUT',
  'SANDBOX_ERR_INVALID_OPTIONS',
  'SANDBOX_ERR_STOPPED',
] as const;

export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];

/** The one error class of sandbox/. `logTail` holds the last log lines of a failed process. */
export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  readonly logTail: readonly string[];

  constructor(
    code: SandboxErrorCode,
    message: string,
    options: { cause?: unknown; logTail?: readonly string[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SandboxError';
    this.code = code;
    this.logTail = options.logTail ?? [];
  }
}
