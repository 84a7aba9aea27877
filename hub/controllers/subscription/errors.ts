/**
 * Errors of hub/controllers/subscription/. Callers branch on `code`, never on the message; the
 * message is what a Subscription's `status.message` shows, so it names the channel, path, chart
 * or kind at fault and never carries credentials or file contents. This folder's README lists
 * exactly these codes (errors.test.ts keeps the two in sync).
 */

/** Every code a {@link SubscriptionError} can carry, with the status reason it is shown as. */
export const SUBSCRIPTION_ERROR_REASONS = {
  HUB_ERR_SUB_INVALID: 'InvalidSubscription',
  HUB_ERR_SUB_PLACEMENT: 'PlacementNotSupported',
  HUB_ERR_SUB_CHANNEL_NOT_FOUND: 'ChannelNotFound',
  HUB_ERR_SUB_CHANNEL_INVALID: 'InvalidChannel',
  HUB_ERR_SUB_CHANNEL_UNSUPPORTED: 'ChannelTypeNotSupported',
  HUB_ERR_SUB_CHANNEL_CREDENTIALS: 'ChannelCredentialsInvalid',
  HUB_ERR_SUB_SOURCE_UNREACHABLE: 'SourceUnreachable',
  HUB_ERR_SUB_PATH_REFUSED: 'PathRefused',
  HUB_ERR_SUB_PATH_NOT_FOUND: 'PathNotFound',
  HUB_ERR_SUB_PACKAGE_NOT_FOUND: 'PackageNotFound',
  HUB_ERR_SUB_RENDER_FAILED: 'RenderFailed',
  HUB_ERR_SUB_FORBIDDEN: 'ResourceForbidden',
  HUB_ERR_SUB_TOO_LARGE: 'SourceTooLarge',
} as const;

/** One code of {@link SUBSCRIPTION_ERROR_REASONS}. */
export type SubscriptionErrorCode = keyof typeof SUBSCRIPTION_ERROR_REASONS;

/** Every code, in the catalog's order. */
export const SUBSCRIPTION_ERROR_CODES = Object.keys(
  SUBSCRIPTION_ERROR_REASONS,
) as readonly SubscriptionErrorCode[];

/**
 * The one error class of the subscription controller: a source that cannot be read, rendered or
 * delivered. The controller shows it as `PropagationFailed` with `reason` = {@link reason} and
 * `message` = the error's message, and leaves the works it wrote earlier as they are (nothing is
 * pruned on a failed read).
 */
export class SubscriptionError extends Error {
  /** Machine-readable code; see {@link SUBSCRIPTION_ERROR_REASONS}. */
  readonly code: SubscriptionErrorCode;

  constructor(code: SubscriptionErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SubscriptionError';
    this.code = code;
  }

  /** The PascalCase reason the Subscription's status carries for this error. */
  get reason(): string {
    return SUBSCRIPTION_ERROR_REASONS[this.code];
  }
}

/** True when `err` is a {@link SubscriptionError}, optionally with the given code. */
export function isSubscriptionError(
  err: unknown,
  code?: SubscriptionErrorCode,
): err is SubscriptionError {
  return err instanceof SubscriptionError && (code === undefined || err.code === code);
}
