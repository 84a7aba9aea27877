import {
  MAX_DATA_CHUNK_BYTES,
  INITIAL_STREAM_WINDOW_BYTES,
  MAX_STREAM_WINDOW_BYTES,
} from './constants.ts';
import { ProtocolError } from './errors.ts';

/** Options for {@link SendWindow}. */
export interface SendWindowOptions {
  /**
   * True (default) when the `flow-control` extension is in effect for the tunnel. False gives an
   * unlimited window (plain ANP peer): `credit` is Infinity and grants are ignored.
   */
  readonly isCreditBased?: boolean;
  /**
   * Credit when the stream opens: INITIAL_STREAM_WINDOW_BYTES (default), or
   * SMALL_INITIAL_STREAM_WINDOW_BYTES with the `initial-window-64k` extension.
   */
  readonly initialCredit?: number;
}

function checkBytes(bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new ProtocolError('PROTO_ERR_WINDOW_MISUSE', `${what} ${bytes} is not a byte count`);
  }
}

/**
 * Sending side of one stream's flow-control window (one direction): how many DATA bytes may
 * still be sent before the peer grants more. Starts at the initial window (256 KiB, or 64 KiB
 * with `initial-window-64k`) when the stream opens (DIAL_RSP success), shrinks with every DATA sent, grows with every
 * EXT_WINDOW_UPDATE received, and never exceeds MAX_STREAM_WINDOW_BYTES.
 *
 * Pure state, no I/O or timers: the stream owns one instance and calls it from its event loop
 * turn; not shared between streams. Nothing to close.
 */
export class SendWindow {
  readonly #isCreditBased: boolean;
  #credit: number;

  constructor(options: SendWindowOptions = {}) {
    this.#isCreditBased = options.isCreditBased ?? true;
    const initial = options.initialCredit ?? INITIAL_STREAM_WINDOW_BYTES;
    if (!Number.isSafeInteger(initial) || initial < 1 || initial > MAX_STREAM_WINDOW_BYTES) {
      throw new ProtocolError(
        'PROTO_ERR_WINDOW_MISUSE',
        `initialCredit ${initial} is outside [1, ${MAX_STREAM_WINDOW_BYTES}]`,
      );
    }
    this.#credit = this.#isCreditBased ? initial : Infinity;
  }

  /** Whether the window enforces credit (false for plain ANP peers). */
  get isCreditBased(): boolean {
    return this.#isCreditBased;
  }

  /** Bytes that may still be sent, 0 … MAX_STREAM_WINDOW_BYTES (Infinity when not credit-based). */
  get credit(): number {
    return this.#credit;
  }

  /** True when no DATA may be sent until the peer grants credit (a "window stall"). */
  get isBlocked(): boolean {
    return this.#credit === 0;
  }

  /**
   * Size of the next DATA payload for `wanted` queued bytes: min(wanted, credit, maxChunk).
   * 0 means wait for a grant (or nothing to send).
   */
  sendable(wanted: number, maxChunk: number = MAX_DATA_CHUNK_BYTES): number {
    return Math.max(0, Math.min(wanted, this.#credit, maxChunk));
  }

  /**
   * Records `bytes` of DATA as sent. Throws ProtocolError `PROTO_ERR_WINDOW_MISUSE` (a bug in
   * the caller, state unchanged) if it exceeds the credit.
   */
  consume(bytes: number): void {
    checkBytes(bytes, 'consumed');
    if (bytes > this.#credit) {
      throw new ProtocolError(
        'PROTO_ERR_WINDOW_MISUSE',
        `sending ${bytes} bytes exceeds the stream's send credit of ${this.#credit}`,
      );
    }
    this.#credit -= bytes;
  }

  /**
   * Applies an EXT_WINDOW_UPDATE `increment` from the peer. Throws ProtocolError
   * `PROTO_ERR_WINDOW_TOO_LARGE` (state unchanged) if the credit would exceed
   * MAX_STREAM_WINDOW_BYTES: the peer broke the flow-control rules, so reset the stream with
   * 'flow-control'. Ignored when not credit-based.
   */
  grant(increment: number): void {
    if (!this.#isCreditBased) return;
    if (!Number.isSafeInteger(increment) || increment < 1) {
      throw new ProtocolError(
        'PROTO_ERR_INVALID_FIELD',
        `window increment ${increment} must be a positive integer`,
      );
    }
    if (this.#credit + increment > MAX_STREAM_WINDOW_BYTES) {
      throw new ProtocolError(
        'PROTO_ERR_WINDOW_TOO_LARGE',
        `grant of ${increment} bytes raises send credit ${this.#credit} above MAX_STREAM_WINDOW_BYTES (${MAX_STREAM_WINDOW_BYTES})`,
      );
    }
    this.#credit += increment;
  }
}
