import {
  INITIAL_STREAM_WINDOW_BYTES,
  LEGACY_STREAM_BUFFER_BYTES,
  MAX_STREAM_WINDOW_BYTES,
} from './constants.ts';
import { ProtocolError } from './errors.ts';

/** Options for {@link ReceiveWindow}. */
export interface ReceiveWindowOptions {
  /**
   * True (default) when the `flow-control` extension is in effect: the peer may send only what
   * was granted. False for plain ANP peers: nothing is granted and the stream is bounded by
   * `legacyLimitBytes` of buffered data instead.
   */
  readonly isCreditBased?: boolean;
  /**
   * Credit the peer has when the stream opens: INITIAL_STREAM_WINDOW_BYTES (default), or
   * SMALL_INITIAL_STREAM_WINDOW_BYTES with the `initial-window-64k` extension. Both peers must
   * assume the same value.
   */
  readonly initialBytes?: number;
  /**
   * Target window in bytes, `initialBytes` … MAX_STREAM_WINDOW_BYTES (default `initialBytes`).
   * Above it, the difference is granted by the first {@link ReceiveWindow.takeGrant} that crosses
   * the update threshold.
   */
  readonly windowBytes?: number;
  /** Buffer bound for a non-credit-based stream (default LEGACY_STREAM_BUFFER_BYTES). */
  readonly legacyLimitBytes?: number;
}

function misuse(message: string): ProtocolError {
  return new ProtocolError('PROTO_ERR_WINDOW_MISUSE', message);
}

function checkBytes(bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw misuse(`${what} ${bytes} is not a byte count`);
}

/**
 * Receiving side of one stream's flow-control window (one direction). It tracks the peer's
 * remaining credit and the bytes buffered locally (received, not yet taken by the local sink),
 * detects overflow, and decides when to send EXT_WINDOW_UPDATE.
 *
 * Invariant (credit-based): credit + buffered + ungranted = windowBytes, so a stream never
 * buffers more than its window, whatever the sink does. Grants go out once at least half the
 * window has been drained by the sink and not yet granted (HTTP/2-style batching); a sink that
 * keeps draining therefore always reopens the window, and a stalled sink stalls only its stream.
 *
 * Pure state, no I/O or timers; one instance per stream direction, driven from the event loop
 * that demultiplexes the tunnel (which must never await the sink). Nothing to close.
 */
export class ReceiveWindow {
  readonly #isCreditBased: boolean;
  readonly #legacyLimit: number;
  #windowBytes: number;
  #credit: number;
  #buffered = 0;
  #ungranted: number;

  constructor(options: ReceiveWindowOptions = {}) {
    this.#isCreditBased = options.isCreditBased ?? true;
    const initial = options.initialBytes ?? INITIAL_STREAM_WINDOW_BYTES;
    this.#windowBytes = options.windowBytes ?? initial;
    this.#legacyLimit = options.legacyLimitBytes ?? LEGACY_STREAM_BUFFER_BYTES;
    if (!Number.isSafeInteger(initial) || initial < 1 || initial > MAX_STREAM_WINDOW_BYTES) {
      throw misuse(`initialBytes ${initial} is outside [1, ${MAX_STREAM_WINDOW_BYTES}]`);
    }
    if (
      !Number.isSafeInteger(this.#windowBytes) ||
      this.#windowBytes < initial ||
      this.#windowBytes > MAX_STREAM_WINDOW_BYTES
    ) {
      throw misuse(
        `windowBytes ${this.#windowBytes} is outside [${initial}, ${MAX_STREAM_WINDOW_BYTES}]`,
      );
    }
    checkBytes(this.#legacyLimit, 'legacyLimitBytes');
    this.#credit = initial;
    this.#ungranted = this.#windowBytes - initial;
  }

  /** Whether credit is enforced and granted (false for plain ANP peers). */
  get isCreditBased(): boolean {
    return this.#isCreditBased;
  }

  /** Target window in bytes. */
  get windowBytes(): number {
    return this.#windowBytes;
  }

  /**
   * DATA bytes the peer may still send: its granted credit, or (not credit-based) the room left
   * under the buffer bound.
   */
  get credit(): number {
    return this.#isCreditBased ? this.#credit : this.#legacyLimit - this.#buffered;
  }

  /** Bytes received and not yet consumed by the local sink. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Records a DATA packet of `bytes` from the peer. Throws ProtocolError
   * `PROTO_ERR_DATA_EXCEEDS_WINDOW` (state unchanged) if the peer exceeded its credit, or for a
   * plain ANP peer if the buffer bound would be passed: reset this stream alone with
   * 'flow-control' and drop the data.
   */
  receive(bytes: number): void {
    checkBytes(bytes, 'received');
    if (bytes > this.credit) {
      throw new ProtocolError(
        'PROTO_ERR_DATA_EXCEEDS_WINDOW',
        this.#isCreditBased
          ? `peer sent ${bytes} bytes with only ${this.#credit} bytes of credit`
          : `peer sent ${bytes} bytes with ${this.#buffered} of ${this.#legacyLimit} buffered`,
      );
    }
    if (this.#isCreditBased) this.#credit -= bytes;
    this.#buffered += bytes;
  }

  /**
   * Records that the local sink took `bytes` out of the buffer (e.g. socket.write accepted
   * them). Returns the EXT_WINDOW_UPDATE increment to send now, 0 for none. Throws ProtocolError
   * `PROTO_ERR_WINDOW_MISUSE` if more than `buffered` is consumed (a caller bug).
   */
  consume(bytes: number): number {
    checkBytes(bytes, 'consumed');
    if (bytes > this.#buffered) {
      throw misuse(`consuming ${bytes} bytes but only ${this.#buffered} are buffered`);
    }
    this.#buffered -= bytes;
    if (this.#isCreditBased) this.#ungranted += bytes;
    return this.takeGrant();
  }

  /**
   * Returns the increment to send now (0 for none) and counts it as granted. Call once right
   * after the stream opens (it grants windowBytes − initialBytes when that is at least half the
   * window); {@link consume} calls it itself. Always 0 when not credit-based.
   */
  takeGrant(): number {
    if (!this.#isCreditBased || this.#ungranted === 0) return 0;
    if (this.#ungranted * 2 < this.#windowBytes) return 0;
    const increment = this.#ungranted;
    this.#ungranted = 0;
    this.#credit += increment;
    return increment;
  }

  /**
   * Grows the target window to `windowBytes` (≤ MAX_STREAM_WINDOW_BYTES), e.g. for a fast
   * long-lived stream; returns the increment to send now. Windows never shrink: credit already
   * granted cannot be taken back. Throws `PROTO_ERR_WINDOW_MISUSE` for a smaller or too large
   * value.
   */
  growWindow(windowBytes: number): number {
    if (
      !Number.isSafeInteger(windowBytes) ||
      windowBytes < this.#windowBytes ||
      windowBytes > MAX_STREAM_WINDOW_BYTES
    ) {
      throw misuse(
        `window can only grow from ${this.#windowBytes} up to ${MAX_STREAM_WINDOW_BYTES}, got ${windowBytes}`,
      );
    }
    if (this.#isCreditBased) this.#ungranted += windowBytes - this.#windowBytes;
    this.#windowBytes = windowBytes;
    return this.takeGrant();
  }
}
