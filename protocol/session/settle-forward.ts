/**
 * Completion of one forwarded direction (`TunnelStream.forwardTo`, `sendFrom`), reported the
 * way `stream.pipeline` reports a direction it pipes, for the bridges that use both.
 */
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream';

/**
 * Calls `done` once `from`'s readable side ended and `to`'s writable side finished, or with the
 * first error of either, after which both are destroyed with it, as pipeline() destroys its
 * streams (a no-op for one the caller already aborted with a reset code of its choosing).
 */
export function settleForward(
  from: Duplex,
  to: Duplex,
  done: (err: Error | null | undefined) => void,
): void {
  let remaining = 2;
  let firstError: Error | undefined;
  const settle = (err: Error | null | undefined): void => {
    if (err != null && firstError === undefined) {
      firstError = err;
      from.destroy(err);
      to.destroy(err);
    }
    remaining -= 1;
    if (remaining === 0) done(firstError);
  };
  finished(from, { writable: false }, settle);
  finished(to, { readable: false }, settle);
}
