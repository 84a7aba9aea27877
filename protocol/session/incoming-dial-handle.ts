import type { DialFailureReason, StreamResetCode } from '../error-codes.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import type { IncomingDial } from './types.ts';

/** How TunnelSession wires one {@link IncomingDialHandle} (internal). */
export interface IncomingDialHandleInit {
  readonly address: string;
  readonly dialId: bigint;
  /** Sends the successful DIAL_RSP and returns the registered stream. */
  readonly onAccept: () => TunnelStream;
  /** Sends the failed DIAL_RSP. */
  readonly onReject: (reason: DialFailureReason, message: string) => void;
  /** accept() after a cancel: a stream that is already destroyed and not registered. */
  readonly onAcceptCanceled: (code: StreamResetCode) => TunnelStream;
}

type State = 'pending' | 'accepted' | 'rejected' | 'canceled';

/**
 * The acceptor's view of one DIAL_REQ ({@link IncomingDial}). Exactly one of accept() or
 * reject() must be called. If the dialer cancels (DIAL_CLS) or the session closes first,
 * `signal` aborts; then accept() returns a stream that is already destroyed (resetCode
 * 'canceled' or 'tunnel-closed') and reject() does nothing. reject() after an answer is a
 * no-op too (safe in error paths); accept() after an answer throws (a caller bug).
 */
export class IncomingDialHandle implements IncomingDial {
  readonly address: string;
  readonly dialId: bigint;
  readonly #init: IncomingDialHandleInit;
  readonly #controller = new AbortController();
  #state: State = 'pending';
  #cancelCode: StreamResetCode = 'canceled';

  constructor(init: IncomingDialHandleInit) {
    this.address = init.address;
    this.dialId = init.dialId;
    this.#init = init;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True until accept(), reject() or a cancel. */
  get isPending(): boolean {
    return this.#state === 'pending';
  }

  accept(): TunnelStream {
    if (this.#state === 'canceled') return this.#init.onAcceptCanceled(this.#cancelCode);
    if (this.#state !== 'pending') {
      throw new Error(`dial ${this.dialId} to ${this.address} was already ${this.#state}`);
    }
    this.#state = 'accepted';
    return this.#init.onAccept();
  }

  reject(reason: DialFailureReason, message: string): void {
    // A no-op once answered or canceled, so error paths (`catch → reject`) are always safe.
    if (this.#state !== 'pending') return;
    this.#state = 'rejected';
    this.#init.onReject(reason, message);
  }

  /**
   * Session side: the dialer canceled (`code` 'canceled') or the session closed
   * ('tunnel-closed'). Aborts `signal` with `reason`. No-op once answered.
   */
  cancel(reason: Error, code: StreamResetCode): boolean {
    if (this.#state !== 'pending') return false;
    this.#state = 'canceled';
    this.#cancelCode = code;
    this.#controller.abort(reason);
    return true;
  }
}
