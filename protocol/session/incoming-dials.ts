/** The acceptor side of a session: DIAL_REQs awaiting accept()/reject(), DIAL_CLS, CLOSE_REQ. */
import {
  DIAL_FAILURE_MESSAGES,
  classifyDialError,
  type DialFailureReason,
  type StreamResetCode,
} from '../error-codes.ts';
import type {
  CloseDialPacket,
  CloseRequestPacket,
  DialRequestPacket,
  DialResponsePacket,
} from '../packet.ts';
import { IncomingDialHandle } from './incoming-dial-handle.ts';
import type { SessionCore } from './session-core.ts';
import { dialError, toError } from './session-errors.ts';
import type { StreamControl } from './stream-host.ts';
import { TunnelStream } from './tunnel-stream.ts';
import type { IncomingDial } from './types.ts';

/**
 * Sends a failed DIAL_RSP for `random` and publishes dial:failed. The `error` text is all a
 * plain ANP peer reads, so without `error-codes` it is replaced by DIAL_FAILURE_MESSAGES[reason]
 * unless it already classifies as `reason` (classifyDialError round-trips those).
 */
export function sendDialFailure(
  core: SessionCore,
  random: bigint,
  address: string,
  reason: DialFailureReason,
  message: string,
): void {
  let text = message === '' ? DIAL_FAILURE_MESSAGES[reason] : message;
  if (!core.isErrorCodes && classifyDialError(text) !== reason) {
    text = DIAL_FAILURE_MESSAGES[reason];
  }
  const packet: DialResponsePacket = {
    type: 'DIAL_RSP',
    random,
    connectId: 0n,
    error: text,
    ...(core.isErrorCodes ? { errorCode: reason } : {}),
  };
  core.send(packet);
  core.publishDialFailed(random, address, reason);
}

/**
 * DIAL_REQs of an acceptor session that await the callee's accept() or reject(), by `random`.
 * With `stream-id` the stream id is `random` (reserved in `core.ids` from DIAL_REQ to the end of
 * the stream); plain ANP gets connectIDs from a counter starting at 1, and a map dialId →
 * connectID so a DIAL_CLS can find an established stream.
 */
export class IncomingDials {
  readonly #core: SessionCore;
  readonly #onDial: ((dial: IncomingDial) => void) | undefined;
  // Both made on first use: most tunnels of a hub are idle, and never need them.
  #pending: Map<bigint, IncomingDialHandle> | undefined;
  #streamByDialId: Map<bigint, bigint> | undefined;
  #nextConnectId = 1n;

  constructor(core: SessionCore, onDial: ((dial: IncomingDial) => void) | undefined) {
    this.#core = core;
    this.#onDial = onDial;
  }

  /** Dials awaiting an answer. */
  get size(): number {
    return this.#pending?.size ?? 0;
  }

  onDialRequest(p: DialRequestPacket): void {
    const core = this.#core;
    const { random, address } = p;
    if (core.isClosing()) {
      sendDialFailure(core, random, address, 'tunnel-closed', 'session is closing');
      return;
    }
    const isInUse = core.isStreamId
      ? random === 0n || core.ids.has(random)
      : this.#pending?.has(random) === true || this.#streamByDialId?.has(random) === true;
    if (isInUse) {
      sendDialFailure(core, random, address, 'bad-request', `dial id ${random} is zero or in use`);
      return;
    }
    if (this.#onDial === undefined) {
      sendDialFailure(core, random, address, 'not-allowed', 'this side accepts no dials');
      return;
    }
    if (core.load() >= core.maxStreams) {
      const message = `${core.maxStreams} streams and dials in flight`;
      sendDialFailure(core, random, address, 'overloaded', message);
      return;
    }
    if (core.isStreamId) core.ids.reserve(random);
    const dial: IncomingDialHandle = new IncomingDialHandle({
      address,
      dialId: random,
      onAccept: () => this.#accept(dial),
      onReject: (reason, message) => this.#reject(dial, reason, message),
      onAcceptCanceled: (code) => this.#detachedStream(dial, code),
    });
    (this.#pending ??= new Map()).set(random, dial);
    try {
      this.#onDial(dial);
    } catch (err) {
      if (dial.isPending) dial.reject('internal', `dial handler threw: ${toError(err).message}`);
    }
  }

  /** A DIAL_REQ that failed validation (bad address or protocol) for dial id `random`. */
  refuseInvalid(random: bigint, message: string): void {
    if (this.#core.stream(random) !== undefined || this.#pending?.has(random) === true) return;
    sendDialFailure(this.#core, random, '', 'bad-request', message);
  }

  onCloseDial(p: CloseDialPacket): void {
    const core = this.#core;
    const dial = this.#pending?.get(p.random);
    if (dial !== undefined) {
      this.#pending?.delete(p.random);
      dial.cancel(
        dialError(core.label, dial.address, 'canceled', 'the dialer canceled'),
        'canceled',
      );
      if (core.isStreamId) {
        // Exactly one terminal answer (README, stream-id); plain ANP dialers expect none.
        core.ids.release(p.random);
        sendDialFailure(core, p.random, dial.address, 'canceled', DIAL_FAILURE_MESSAGES.canceled);
      } else {
        core.publishDialFailed(p.random, dial.address, 'canceled');
      }
      core.checkIdle();
      return;
    }
    const id = core.isStreamId ? p.random : this.#streamByDialId?.get(p.random);
    if (id !== undefined) core.stream(id)?.receiveCancel();
  }

  onCloseRequest(p: CloseRequestPacket): void {
    const control = this.#core.stream(p.connectId);
    if (control !== undefined) {
      control.receiveClose(this.#core.isErrorCodes ? p.errorCode : undefined);
      return;
    }
    // Unknown or finished stream: answer anyway, so a waiting dialer can release its id.
    this.#core.send({ type: 'CLOSE_RSP', connectId: p.connectId, error: 'unknown connectID' });
  }

  /** A stream opened by accept() is gone. */
  streamFinished(dialId: bigint): void {
    this.#streamByDialId?.delete(dialId);
  }

  /** The session is gone: abort every pending dial's signal ('tunnel-closed'). */
  cancelAll(cause: Error | undefined): void {
    for (const dial of this.#pending?.values() ?? []) {
      const err = dialError(
        this.#core.label,
        dial.address,
        'tunnel-closed',
        'session closed',
        cause,
      );
      dial.cancel(err, 'tunnel-closed');
    }
    this.#pending?.clear();
    this.#streamByDialId?.clear();
  }

  #accept(dial: IncomingDialHandle): TunnelStream {
    const core = this.#core;
    this.#pending?.delete(dial.dialId);
    const id = core.isStreamId ? dial.dialId : this.#nextConnectId++;
    if (!core.isStreamId) (this.#streamByDialId ??= new Map()).set(dial.dialId, id);
    const stream = core.openStream(id, dial.address, dial.dialId, undefined);
    core.send({ type: 'DIAL_RSP', random: dial.dialId, connectId: id, error: '' });
    return stream;
  }

  #reject(dial: IncomingDialHandle, reason: DialFailureReason, message: string): void {
    this.#pending?.delete(dial.dialId);
    if (this.#core.isStreamId) this.#core.ids.release(dial.dialId);
    sendDialFailure(this.#core, dial.dialId, dial.address, reason, message);
    this.#core.checkIdle();
  }

  /** A stream for accept() after a cancel: destroyed at once, never registered. */
  #detachedStream(dial: IncomingDialHandle, code: StreamResetCode): TunnelStream {
    let control: StreamControl | undefined;
    const stream = new TunnelStream({
      host: {
        ...this.#core.host,
        sendControl: () => {},
        streamReset: () => {},
        streamFinished: () => {},
      },
      streamId: dial.dialId,
      address: dial.address,
      bindControl: (c) => (control = c),
    });
    control?.discard(code);
    return stream;
  }
}
