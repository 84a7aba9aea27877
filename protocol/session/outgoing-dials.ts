/** The dialer side of a session: pending dials, their timeouts, cancels and answers. */
import { parseDialAddress } from '../dial-address.ts';
import { classifyDialError, type DialFailureReason } from '../error-codes.ts';
import type { ProtocolError } from '../errors.ts';
import type {
  CloseDialPacket,
  CloseRequestPacket,
  DialRequestPacket,
  DialResponsePacket,
} from '../packet.ts';
import { holdEarlyErrors } from './early-error-guard.ts';
import type { SessionCore } from './session-core.ts';
import { dialError } from './session-errors.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import type { DialOptions } from './types.ts';

/** Default dial timeout (DIAL_REQ → DIAL_RSP), ms; the konnectivity client's backstop is 30 s too. */
export const DEFAULT_DIAL_TIMEOUT_MS = 30_000;

interface OutgoingDial {
  readonly random: bigint;
  readonly address: string;
  readonly resolve: (stream: TunnelStream) => void;
  readonly reject: (err: ProtocolError) => void;
  readonly signal: AbortSignal | undefined;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Pending dials of a dialer session, by DIAL_REQ `random`.
 * - With `stream-id`, a canceled dial keeps its id until the acceptor's one terminal answer (a
 *   failed DIAL_RSP, or the CLOSE_RSP after a success that crossed the DIAL_CLS), at most
 *   `host.closeTimeoutMs`; it still counts as a pending dial meanwhile.
 * - Plain ANP: a canceled dial is forgotten at once; a late success for it gets a CLOSE_REQ.
 * Every timer is unref'd and cleared when its dial settles.
 */
export class OutgoingDials {
  readonly #core: SessionCore;
  // Both made on first use: most tunnels of a hub are idle, and never need them.
  #pending: Map<bigint, OutgoingDial> | undefined;
  #canceled: Map<bigint, NodeJS.Timeout> | undefined;

  constructor(core: SessionCore) {
    this.#core = core;
  }

  /** Pending dials plus canceled ones still awaiting their answer. */
  get size(): number {
    return (this.#pending?.size ?? 0) + (this.#canceled?.size ?? 0);
  }

  /** See TunnelSession.dial(). */
  dial(address: string, options: DialOptions): Promise<TunnelStream> {
    const core = this.#core;
    const { signal } = options;
    const failNow = (reason: DialFailureReason, message: string, cause?: unknown) => {
      core.publishDialFailed(0n, address, reason);
      return Promise.reject(dialError(core.label, address, reason, message, cause));
    };
    if (core.isClosing()) return failNow('tunnel-closed', 'session is closed');
    if (signal?.aborted) return failNow('canceled', 'signal aborted', signal.reason);
    try {
      parseDialAddress(address);
    } catch (err) {
      return failNow('bad-request', (err as Error).message, err);
    }
    if (core.load() >= core.maxStreams) {
      return failNow('overloaded', `${core.maxStreams} streams and dials in flight`);
    }
    let random: bigint;
    try {
      random = core.ids.allocate();
    } catch (err) {
      return failNow('internal', (err as Error).message, err);
    }
    return new Promise<TunnelStream>((resolve, reject) => {
      const dial: OutgoingDial = {
        random,
        address,
        resolve,
        reject,
        signal,
        timer: undefined,
        onAbort: undefined,
      };
      const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        dial.timer = setTimeout(
          () => this.#cancel(dial, 'timeout', `no answer within ${timeoutMs} ms`),
          timeoutMs,
        );
        dial.timer.unref();
      }
      if (signal !== undefined) {
        dial.onAbort = () => this.#cancel(dial, 'canceled', 'signal aborted', signal.reason);
        signal.addEventListener('abort', dial.onAbort, { once: true });
      }
      (this.#pending ??= new Map()).set(random, dial);
      const packet: DialRequestPacket = { type: 'DIAL_REQ', protocol: 'tcp', address, random };
      core.send(packet);
    });
  }

  onDialResponse(p: DialResponsePacket): void {
    const core = this.#core;
    const dial = this.#pending?.get(p.random);
    if (dial === undefined) {
      if (this.#canceled?.has(p.random) === true) {
        // The answer to our DIAL_CLS is a failed DIAL_RSP or, if a success crossed it, the
        // CLOSE_RSP that follows (README, stream-id).
        if (p.error !== '') this.forgetCanceled(p.random);
      } else if (p.error === '' && !core.isStreamId) {
        // Plain ANP: a success for a dial we gave up on. Close it, as ANP's server does.
        core.send({ type: 'CLOSE_REQ', connectId: p.connectId });
      }
      return;
    }
    this.#settle(dial);
    if (p.error !== '') {
      core.ids.release(p.random);
      const reason = (core.isErrorCodes ? p.errorCode : undefined) ?? classifyDialError(p.error);
      this.#fail(dial, reason, p.error);
      return;
    }
    const id = p.connectId;
    if (core.isStreamId ? id !== p.random : core.stream(id) !== undefined) {
      core.ids.release(p.random);
      const packet: CloseRequestPacket = {
        type: 'CLOSE_REQ',
        connectId: id,
        ...(core.isErrorCodes ? { errorCode: 'protocol' as const } : {}),
      };
      core.send(packet);
      this.#fail(dial, 'internal', `peer answered with unusable connectID ${id}`);
      return;
    }
    if (!core.isStreamId) core.ids.release(p.random); // the acceptor's connectID names it now
    const stream = core.openStream(id, dial.address, dial.random, dial.signal);
    holdEarlyErrors(stream); // the caller listens one continuation later (early-error-guard.ts)
    dial.resolve(stream);
  }

  /**
   * DIAL_CLS from the acceptor: a stock ANP server sends it when it drops a pending dial (e.g.
   * its agent went away). The dial fails with the packet's code or 'tunnel-closed'; nothing is
   * sent back. Ignored for a dial that is not pending.
   */
  onCloseDial(p: CloseDialPacket): void {
    const dial = this.#pending?.get(p.random);
    if (dial === undefined) return;
    this.#settle(dial);
    this.#core.ids.release(p.random);
    const reason = (this.#core.isErrorCodes ? p.errorCode : undefined) ?? 'tunnel-closed';
    this.#fail(dial, reason, 'the acceptor closed the dial (DIAL_CLS)');
  }

  /** True when `id` was a canceled dial awaiting its answer (now forgotten). */
  forgetCanceled(id: bigint): boolean {
    const timer = this.#canceled?.get(id);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#canceled?.delete(id);
    this.#core.ids.release(id);
    this.#core.checkIdle();
    return true;
  }

  /** A malformed DIAL_RSP for pending dial `random`: give up on it. True if there was one. */
  failInvalid(random: bigint, err: ProtocolError): boolean {
    const dial = this.#pending?.get(random);
    if (dial === undefined) return false;
    this.#cancel(dial, 'internal', `invalid DIAL_RSP: ${err.message}`, err);
    return true;
  }

  /** The session is gone: every pending dial fails 'tunnel-closed'; timers cleared. */
  failAll(cause: Error | undefined): void {
    for (const dial of [...(this.#pending?.values() ?? [])]) {
      this.#settle(dial);
      this.#fail(dial, 'tunnel-closed', 'session closed', cause);
    }
    for (const timer of this.#canceled?.values() ?? []) clearTimeout(timer);
    this.#canceled?.clear();
  }

  /** Gives up on a pending dial: DIAL_CLS, reject; with stream-id, keep the id until answered. */
  #cancel(dial: OutgoingDial, reason: DialFailureReason, message: string, cause?: unknown): void {
    const core = this.#core;
    if (this.#pending?.has(dial.random) !== true) return;
    this.#settle(dial);
    const packet: CloseDialPacket = {
      type: 'DIAL_CLS',
      random: dial.random,
      ...(core.isErrorCodes ? { errorCode: reason } : {}),
    };
    core.send(packet);
    if (core.isStreamId && !core.isClosed()) {
      const timer = setTimeout(() => this.forgetCanceled(dial.random), core.host.closeTimeoutMs);
      timer.unref();
      (this.#canceled ??= new Map()).set(dial.random, timer);
    } else {
      core.ids.release(dial.random);
    }
    this.#fail(dial, reason, message, cause);
  }

  /** Removes a dial from the pending table and clears its timer and abort listener. */
  #settle(dial: OutgoingDial): void {
    this.#pending?.delete(dial.random);
    if (dial.timer !== undefined) clearTimeout(dial.timer);
    if (dial.onAbort !== undefined) dial.signal?.removeEventListener('abort', dial.onAbort);
    dial.timer = undefined;
    dial.onAbort = undefined;
  }

  #fail(dial: OutgoingDial, reason: DialFailureReason, message: string, cause?: unknown): void {
    this.#core.publishDialFailed(dial.random, dial.address, reason);
    dial.reject(dialError(this.#core.label, dial.address, reason, message, cause));
    this.#core.checkIdle();
  }
}
