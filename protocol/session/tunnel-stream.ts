/**
 * One multiplexed byte stream of a tunnel session, as a Node Duplex. Created only by
 * TunnelSession (dial() on the dialer, IncomingDial.accept() on the acceptor).
 */
import { Duplex, type Writable } from 'node:stream';

import type { StreamResetCode } from '../error-codes.ts';
import { ProtocolError } from '../errors.ts';
import type { CloseRequestPacket, CloseResponsePacket } from '../packet.ts';
import { ReceiveWindow } from '../receive-window.ts';
import { SendWindow } from '../send-window.ts';
import { ChunkQueue } from './chunk-queue.ts';
import { resetCodeFor, streamResetError } from './session-errors.ts';
import type { StreamControl, StreamHost } from './stream-host.ts';
import type { TunnelStreamApi } from './types.ts';

/**
 * Readable and writable highWaterMark of every stream, bytes. The receive side pushes into the
 * Readable only up to this mark and keeps the rest in its own queue, which the credit window
 * bounds; so a stalled consumer holds at most window + one highWaterMark per stream.
 */
export const STREAM_HIGH_WATER_MARK_BYTES = 64 * 1024;

/** Largest receive window auto-tuning grows a stream to (see `#autoGrow`). */
export const AUTO_WINDOW_MAX_BYTES = 4 * 1024 * 1024;
/** A grant this soon after the previous one counts as a fast one (see `#autoGrow`). */
export const WINDOW_GROW_INTERVAL_MS = 20;
/**
 * Fast grants in a row (each for half a window drained) that double the window: two windows'
 * worth drained in quick succession. One fast window is not enough evidence: a relay drains its
 * first window of a new stream at once into the next hop's credit and buffers (≈ 450 KiB on the
 * proxy-server), also when the reader at the end never reads.
 */
export const WINDOW_GROW_AFTER_FAST_GRANTS = 4;

/** What {@link TunnelStream.flowStats} returns: one stream's credit accounting, in bytes. */
export interface StreamFlowStats {
  /** DATA bytes we may still send (0 … MAX_STREAM_WINDOW_BYTES; Infinity without flow-control). */
  readonly sendCredit: number;
  /** DATA bytes the peer may still send: its credit, or the room left under the legacy bound. */
  readonly receiveCredit: number;
  /** The receive window (the initial window, grown by auto-tuning). */
  readonly receiveWindowBytes: number;
  /** Received bytes in the stream's own queue, not yet pushed into the Readable (≤ the window). */
  readonly queuedBytes: number;
}

/** Where the stream is in its close handshake. */
type Phase =
  /** Data may flow (possibly one direction already ended). */
  | 'open'
  /** Dialer only: its last packet is out, it waits for the acceptor's CLOSE_RSP. */
  | 'closing'
  /** The last packet was sent or received; the id is free once the Duplex closes too. */
  | 'done';

/** A write (or a writev batch) being sent: `chunks` from `index`/`offset` on, `remaining` bytes. */
interface PendingWrite {
  readonly chunks: readonly Buffer[];
  index: number;
  offset: number;
  remaining: number;
  readonly callback: (err?: Error | null) => void;
}

/** How TunnelSession creates a stream (internal). */
export interface TunnelStreamInit {
  readonly host: StreamHost;
  readonly streamId: bigint;
  readonly address: string;
  /** Receives the stream's control object, synchronously, from the constructor. */
  readonly bindControl: (control: StreamControl) => void;
}

/**
 * A tunnel stream (implements {@link TunnelStreamApi}; see types.ts for the contract).
 *
 * - Writes are cut into DATA of at most MAX_DATA_CHUNK_BYTES, each encoded straight from the
 *   written chunks (one copy, into a pooled packet buffer). A write's callback is held until all
 *   of it went to the transport: with `flow-control` that waits for credit, and while the
 *   transport's brake is on it waits for 'drain'.
 * - Reads are pull-based: DATA goes to an own queue (bounded by the receive window, or by
 *   LEGACY_STREAM_BUFFER_BYTES for a plain ANP peer) and is pushed into the Readable only while
 *   the Readable wants more; credit is granted as chunks move into the Readable.
 * - `end()`: EXT_HALF_CLOSE with `half-close`, else the whole stream closes (ANP).
 * - `destroy()` / `destroy(err)` / `reset(code)` abort: CLOSE_REQ or CLOSE_RSP with the code.
 *   A peer reset or a lost session destroys the stream with a ProtocolError
 *   `PROTO_ERR_STREAM_RESET` ('error' event: attach a listener, as for a socket).
 * - After the peer closed the whole stream (plain ANP, or an unsolicited graceful CLOSE_RSP),
 *   the readable ends after the queued data and further writes are discarded; end() or
 *   destroy() releases the stream.
 *
 * Not thread-safe in any sense that matters in Node: all calls come from the event loop.
 */
export class TunnelStream extends Duplex implements TunnelStreamApi {
  readonly #host: StreamHost;
  readonly #id: bigint;
  readonly #address: string;
  readonly #send: SendWindow;
  readonly #recv: ReceiveWindow;
  #lastGrantAt: number | undefined;
  #fastGrants = 0;
  readonly #queue = new ChunkQueue();
  readonly #control: StreamControl;
  #phase: Phase = 'open';
  #wantsRead = false;
  #isEofPushed = false;
  /** We ended our direction (EXT_HALF_CLOSE or, without half-close, the whole stream). */
  #hasSentEnd = false;
  /** The peer's direction ended (EXT_HALF_CLOSE, or a graceful close of the whole stream). */
  #hasReceivedEnd = false;
  /** The peer closed the whole stream: writes are discarded. */
  #isWriteClosed = false;
  #isStalled = false;
  #isDuplexClosed = false;
  #isFinished = false;
  #isResetByPeer = false;
  /** Our CLOSE_REQ/CLOSE_RSP with a code went out. */
  #hasSentReset = false;
  #resetCode: StreamResetCode | undefined;
  #pendingWrite: PendingWrite | undefined;
  /** Forward mode (see {@link forwardTo}): where our received bytes go instead of the Readable. */
  #forwardTarget: TunnelStream | Writable | undefined;
  /** Another stream forwards into this one: its bytes arrive as pending writes. */
  #isForwardTarget = false;
  /** Bytes handed to the forward target and not yet all sent (still inside our window). */
  #forwardingBytes = 0;
  #lingerTimer: NodeJS.Timeout | undefined;
  #bytesIn = 0;
  #bytesOut = 0;

  /** Internal: streams are created by TunnelSession. */
  constructor(init: TunnelStreamInit) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: STREAM_HIGH_WATER_MARK_BYTES,
      writableHighWaterMark: STREAM_HIGH_WATER_MARK_BYTES,
    });
    this.#host = init.host;
    this.#id = init.streamId;
    this.#address = init.address;
    const flow = {
      isCreditBased: init.host.isFlowControl,
      initialCredit: init.host.initialWindowBytes,
    };
    this.#send = new SendWindow(flow);
    this.#recv = new ReceiveWindow({ ...flow, initialBytes: flow.initialCredit });
    this.#control = {
      stream: this,
      bufferedBytes: () =>
        this.#isDuplexClosed ? 0 : this.#queue.bytes + this.readableLength + this.#forwardingBytes,
      receiveData: (data) => this.#receiveData(data),
      receiveWindowUpdate: (increment) => this.#receiveWindowUpdate(increment),
      receiveHalfClose: () => this.#receiveHalfClose(),
      receiveClose: (code) => this.#receiveClose(code),
      receiveCancel: () => this.#receiveCancel(),
      violate: (code, cause) => this.#violate(code, cause),
      abandon: (cause) => this.#abandon(cause),
      discard: (code) => {
        this.#setDone();
        this.#resetCode = code;
        this.#isResetByPeer = true;
        this.destroy();
      },
      resumeAfterDrain: () => this.#flush(),
    };
    init.bindControl(this.#control);
  }

  /** The stream id on this tunnel (DATA/CLOSE connectID). */
  get streamId(): bigint {
    return this.#id;
  }

  /** The dial address, `host:port`. */
  get remoteAddress(): string {
    return this.#address;
  }

  /** Set once the stream was reset, locally or by the peer (or lost with its session). */
  get resetCode(): StreamResetCode | undefined {
    return this.#resetCode;
  }

  /** DATA payload bytes received from the peer. */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** DATA payload bytes sent to the peer. */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  /**
   * A read-only snapshot of this stream's flow-control state, for metrics and for the
   * invariant checks of the fuzzers (protocol/fuzz/). Cheap; safe at any time, also after
   * close. See {@link StreamFlowStats}.
   */
  flowStats(): StreamFlowStats {
    return {
      sendCredit: this.#send.credit,
      receiveCredit: this.#recv.credit,
      receiveWindowBytes: this.#recv.windowBytes,
      queuedBytes: this.#queue.bytes,
    };
  }

  /**
   * Aborts the stream with `code`: sends the reset (CLOSE_REQ or CLOSE_RSP with the code),
   * discards buffers and destroys the Duplex without an 'error' event. No-op once destroyed.
   */
  reset(code: StreamResetCode): void {
    if (this.destroyed) return;
    this.#resetCode = code;
    this.destroy();
  }

  /**
   * Relays what this stream receives straight into `target`, in place of this stream's Readable
   * and a pipe: how the proxy-server joins a frontend stream to an agent stream, and the agent
   * a stream to its target socket. Into another TunnelStream the bytes go as its DATA, past its
   * Writable too; into any other Writable (a socket) as corked writes. Everything queued goes as
   * one batch, and the next batch only after the last one was sent (TunnelStream) or written
   * (its write callback); the credit this stream grants its peer follows the batches, so a
   * relayed stream holds at most its receive window here, however slow the reader behind
   * `target`. When the peer's direction ends, `target.end()` follows; this stream's Readable
   * carries no data and ends then.
   *
   * Returns false and changes nothing unless neither stream is destroyed, nothing was read
   * from this one, `target` has nothing written or pending (and, a TunnelStream, no other
   * stream forwards into it), and this one forwards nowhere yet: then pipe instead. Errors are
   * not passed on: the caller watches both, as with pipe() (proxy-server/frontend/
   * bridge-streams.ts, proxy-agent/streams/bridge-stream.ts). Write nothing else into `target`.
   */
  forwardTo(target: Writable): boolean {
    if ((target as Duplex) === this || this.#forwardTarget !== undefined) return false;
    if (this.destroyed || target.destroyed || target.writableEnded) return false;
    if (this.readableLength > 0 || this.readableFlowing !== null || this.readableEnded)
      return false;
    if (target.writableLength > 0) return false;
    if (target instanceof TunnelStream) {
      if (target.#isForwardTarget || target.#pendingWrite !== undefined) return false;
      target.#isForwardTarget = true;
    }
    this.#forwardTarget = target;
    this.resume(); // flowing, with no data: so that the Readable's 'end' is emitted at EOF
    this.#pump();
    return true;
  }

  /**
   * Sends `data` as this stream's DATA right away, as far as credit and the transport's brake
   * allow, past the Writable: for a producer that reads into a buffer it reuses (a socket's
   * `onread`, proxy-agent/streams/bridge-stream.ts). Returns true when all of it went out.
   * Otherwise the rest is copied (so `data` may be reused as soon as this returns), goes out as
   * credit comes, and `onSent` is called once it has; the caller produces nothing more until
   * then, so a stream that cannot send holds at most one read's worth here. Data after the peer
   * closed the whole stream is discarded, as writes are (true). Not together with write() or
   * forwardTo() into this stream; end() only once `onSent` was called.
   */
  sendFrom(data: Uint8Array, onSent: () => void): boolean {
    if (this.#pendingWrite !== undefined || this.#isForwardTarget) {
      throw new ProtocolError('PROTO_ERR_WINDOW_MISUSE', 'sendFrom while a write is pending', {
        streamId: this.#id,
      });
    }
    if (this.destroyed) return false;
    let isSync = true;
    let isSentAtOnce = false;
    const callback = (err?: Error | null): void => {
      if (err != null) return;
      if (isSync) isSentAtOnce = true;
      else onSent();
    };
    this.#writeForwarded([data as Buffer], data.length, callback);
    isSync = false;
    const rest = this.#pendingWrite as PendingWrite | undefined;
    if (isSentAtOnce || rest === undefined) return isSentAtOnce;
    const copy = Buffer.from(takePieces(rest, rest.remaining)[0] as Uint8Array);
    this.#pendingWrite = { chunks: [copy], index: 0, offset: 0, remaining: copy.length, callback };
    return false;
  }

  override _read(): void {
    this.#wantsRead = true;
    this.#pump();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    if (this.#isWriteClosed || this.#phase === 'done') {
      callback(); // the peer closed the whole stream: discard, as ANP does
      return;
    }
    this.#pendingWrite = {
      chunks: [chunk],
      index: 0,
      offset: 0,
      remaining: chunk.length,
      callback,
    };
    this.#flush();
  }

  /**
   * Several buffered writes (a corked burst, e.g. the TLS records of one write of a TLS socket
   * layered on this stream) go out together, in DATA packets of up to MAX_DATA_CHUNK_BYTES
   * gathered from the chunks, rather than one packet per write: fewer packets, headers and
   * event-loop turns per byte, and no concatenation (the encoder copies from the chunks).
   */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (err?: Error | null) => void,
  ): void {
    if (this.#isWriteClosed || this.#phase === 'done') {
      callback(); // the peer closed the whole stream: discard, as ANP does
      return;
    }
    const buffers = chunks.map((c) => c.chunk);
    let remaining = 0;
    for (const b of buffers) remaining += b.length;
    this.#pendingWrite = { chunks: buffers, index: 0, offset: 0, remaining, callback };
    this.#flush();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#phase === 'open' && !this.#isWriteClosed) {
      this.#hasSentEnd = true;
      if (this.#host.isHalfClose) {
        if (this.#host.role === 'acceptor' && this.#hasReceivedEnd) {
          this.#finishAsAcceptor(); // both directions over: CLOSE_RSP stands for our half-close
        } else {
          this.#host.sendControl({ type: 'EXT_HALF_CLOSE', connectId: this.#id });
          if (this.#hasReceivedEnd) this.#awaitCloseResponse();
        }
      } else if (this.#host.role === 'dialer') {
        // Without half-close, ending one direction closes the whole stream (ANP).
        this.#host.sendControl({ type: 'CLOSE_REQ', connectId: this.#id });
        this.#awaitCloseResponse();
      } else {
        this.#hasReceivedEnd = true;
        this.#isWriteClosed = true;
        this.#finishAsAcceptor();
        this.#pump();
      }
    }
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (this.#phase === 'open') {
      // An abort: one or both directions still open.
      const code = (this.#resetCode ??= resetCodeFor(err));
      this.#sendReset(code);
      this.#host.streamReset(this.#id, code, true);
    } else if (this.#resetCode !== undefined && !this.#isResetByPeer && err !== null) {
      this.#host.streamReset(this.#id, this.#resetCode, true);
    }
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    this.#host.cancelDrainWait(this.#control);
    this.#queue.clear();
    this.#isDuplexClosed = true;
    this.#maybeFinish();
    const code = this.#resetCode ?? 'canceled';
    pending?.callback(
      err ?? streamResetError(this.#id, code, 'destroyed before the write was sent'),
    );
    callback(err);
  }

  // --- receive side -------------------------------------------------------------------------

  #receiveData(data: Uint8Array): void {
    if (this.#hasReceivedEnd) {
      // DATA after the peer's EXT_HALF_CLOSE breaks the protocol, also while we wait for the
      // CLOSE_RSP ('closing', possibly with the Duplex already closed); after a whole close
      // ('done') it is just in flight.
      if (this.#phase !== 'done' && this.#host.isHalfClose) {
        this.#violate(
          'protocol',
          new ProtocolError('PROTO_ERR_INVALID_FIELD', 'DATA after EXT_HALF_CLOSE', {
            streamId: this.#id,
          }),
        );
      }
      return;
    }
    if (this.destroyed) return;
    try {
      this.#recv.receive(data.length);
    } catch (err) {
      this.#violate('flow-control', err as ProtocolError);
      return;
    }
    this.#bytesIn += data.length;
    if (data.length === 0) return;
    this.#queue.push(data);
    this.#pump();
  }

  /**
   * Receive-window auto-tuning: a consumer that keeps draining half a window within
   * WINDOW_GROW_INTERVAL_MS of the previous grant, WINDOW_GROW_AFTER_FAST_GRANTS times in a
   * row, is limited by the window, not by itself, so the window doubles, up to
   * AUTO_WINDOW_MAX_BYTES (HTTP/2 and QUIC stacks tune the same way). A stalled consumer never
   * drains, so its window stays at the initial one (64 or 256 KiB): what a stalled stream can hold
   * stays small, while a bulk stream is not capped at window/RTT. Returns the extra credit.
   */
  #autoGrow(): number {
    const now = performance.now();
    const last = this.#lastGrantAt;
    this.#lastGrantAt = now;
    const current = this.#recv.windowBytes;
    if (last === undefined || now - last > WINDOW_GROW_INTERVAL_MS) {
      this.#fastGrants = 0;
      return 0;
    }
    if (current >= AUTO_WINDOW_MAX_BYTES) return 0;
    if (++this.#fastGrants < WINDOW_GROW_AFTER_FAST_GRANTS) return 0;
    this.#fastGrants = 0;
    return this.#recv.growWindow(Math.min(AUTO_WINDOW_MAX_BYTES, current * 2));
  }

  /** Records `bytes` as taken by our consumer; grants credit when a batch is due. */
  #consumed(bytes: number): void {
    let increment = this.#recv.consume(bytes);
    if (increment > 0) increment += this.#autoGrow();
    if (increment > 0 && this.#phase === 'open' && !this.#hasReceivedEnd) {
      this.#host.sendControl({ type: 'EXT_WINDOW_UPDATE', connectId: this.#id, increment });
    }
  }

  /** Moves queued chunks into the Readable while it wants more; grants credit for them. */
  #pump(): void {
    if (this.#forwardTarget !== undefined) {
      this.#pumpForward(this.#forwardTarget);
      return;
    }
    while (this.#wantsRead && this.#queue.length > 0 && !this.destroyed) {
      const chunk = this.#queue.shift()!;
      this.#consumed(chunk.length);
      this.#wantsRead = this.push(chunk);
    }
    if (this.#hasReceivedEnd && !this.#isEofPushed && this.#queue.length === 0 && !this.destroyed) {
      this.#isEofPushed = true;
      this.push(null);
    }
  }

  /**
   * Forward mode: hands everything queued to the target as one batch and grants credit for it
   * once it is sent (a TunnelStream target: as DATA of up to MAX_DATA_CHUNK_BYTES, as its credit
   * allows) or written (any other Writable: its write callback); one batch at a time. At EOF,
   * ends the target.
   */
  #pumpForward(target: TunnelStream | Writable): void {
    while (this.#forwardingBytes === 0 && this.#queue.length > 0 && !this.destroyed) {
      const bytes = this.#queue.bytes;
      const chunks = this.#queue.takeAll() as Buffer[];
      this.#forwardingBytes = bytes;
      let isSync = true;
      let isSentAtOnce = false;
      const onSent = (err?: Error | null): void => {
        this.#forwardingBytes = 0;
        if (err != null || this.destroyed) return;
        this.#consumed(bytes);
        if (isSync) isSentAtOnce = true;
        else this.#pump();
      };
      if (target instanceof TunnelStream) {
        target.#writeForwarded(chunks, bytes, onSent);
      } else if (target.destroyed || target.writableEnded) {
        this.#forwardingBytes = 0; // the caller tears down both
        return;
      } else {
        target.cork();
        const last = chunks.length - 1;
        for (let i = 0; i < last; i++) target.write(chunks[i]);
        target.write(chunks[last], onSent);
        target.uncork();
      }
      isSync = false;
      if (!isSentAtOnce) return;
    }
    if (
      this.#hasReceivedEnd &&
      this.#forwardingBytes === 0 &&
      this.#queue.length === 0 &&
      !this.#isEofPushed &&
      !this.destroyed
    ) {
      this.#isEofPushed = true;
      this.push(null);
      if (!target.destroyed && !target.writableEnded) target.end();
    }
  }

  #receiveHalfClose(): void {
    if (!this.#host.isHalfClose || this.#phase !== 'open' || this.#hasReceivedEnd) return;
    this.#hasReceivedEnd = true;
    this.#pump();
    if (!this.#hasSentEnd) return;
    if (this.#host.role === 'acceptor') this.#finishAsAcceptor();
    else this.#awaitCloseResponse();
  }

  #receiveClose(code: StreamResetCode | undefined): void {
    if (this.#phase === 'done') return;
    if (this.#host.role === 'acceptor') {
      this.#host.sendControl({ type: 'CLOSE_RSP', connectId: this.#id, error: '' });
    }
    this.#setDone();
    if (code !== undefined) {
      if (!this.destroyed) {
        this.#resetCode = code;
        this.#isResetByPeer = true;
        this.#host.streamReset(this.#id, code, false);
        this.destroy(streamResetError(this.#id, code, `reset by peer (${code})`));
      }
    } else {
      // Graceful close of the whole stream: deliver what is queued, then EOF; drop writes.
      this.#hasReceivedEnd = true;
      this.#isWriteClosed = true;
      const pending = this.#pendingWrite;
      this.#pendingWrite = undefined;
      this.#host.cancelDrainWait(this.#control);
      pending?.callback();
      this.#pump();
    }
    this.#maybeFinish();
  }

  #receiveCancel(): void {
    if (this.#phase !== 'open' || this.destroyed) return;
    this.#sendReset('canceled', 'dial canceled');
    this.#resetCode = 'canceled';
    this.#isResetByPeer = true;
    this.#host.streamReset(this.#id, 'canceled', false);
    this.destroy(streamResetError(this.#id, 'canceled', 'canceled by the dialer'));
  }

  #violate(code: StreamResetCode, cause: ProtocolError): void {
    // A dialer waiting for CLOSE_RSP has sent its last packet, so _destroy sends no reset; a
    // peer still writing (DATA after its HALF_CLOSE) must hear it, or its pending writes wait
    // for credit forever (found by protocol/fuzz/). Once, even if the Duplex already closed.
    if (this.#phase === 'closing' && !this.#hasSentReset) {
      this.#sendReset(code);
      if (this.destroyed) {
        this.#resetCode ??= code;
        this.#host.streamReset(this.#id, code, true);
        return;
      }
    }
    if (this.destroyed) return;
    this.#resetCode = code;
    this.destroy(streamResetError(this.#id, code, `reset (${code}): ${cause.message}`, cause));
  }

  #abandon(cause: Error | undefined): void {
    // A stream whose close handshake already completed gracefully lost nothing with the
    // tunnel: its consumer still reads what is queued, then EOF (found by protocol/fuzz/; the
    // peer may end the tunnel as soon as its side of the stream is done).
    const isComplete = this.#phase === 'done' && this.#resetCode === undefined;
    this.#setDone();
    if (!this.destroyed && !isComplete) {
      this.#resetCode = 'tunnel-closed';
      this.#isResetByPeer = true;
      this.destroy(streamResetError(this.#id, 'tunnel-closed', 'lost: tunnel closed', cause));
    }
    this.#maybeFinish();
  }

  // --- send side ----------------------------------------------------------------------------

  /** Forward mode, the target's side: `chunks` as if written, `callback` once all sent. */
  #writeForwarded(chunks: Buffer[], bytes: number, callback: (err?: Error | null) => void): void {
    if (this.destroyed) {
      callback(streamResetError(this.#id, this.#resetCode ?? 'canceled', 'destroyed'));
      return;
    }
    if (this.#isWriteClosed || this.#phase === 'done') {
      callback(); // the peer closed the whole stream: discard, as _write does
      return;
    }
    this.#pendingWrite = { chunks, index: 0, offset: 0, remaining: bytes, callback };
    this.#flush();
  }

  /** Sends as much of the pending write as credit and the brake allow. */
  #flush(): void {
    const write = this.#pendingWrite;
    if (write === undefined || this.destroyed) return;
    while (write.remaining > 0) {
      if (this.#host.isBraked()) {
        this.#host.waitForDrain(this.#control);
        return;
      }
      const n = this.#send.sendable(write.remaining);
      if (n === 0) {
        if (!this.#isStalled) {
          this.#isStalled = true;
          this.#host.windowStalled(this.#id);
        }
        return;
      }
      this.#isStalled = false;
      this.#send.consume(n);
      write.remaining -= n;
      this.#bytesOut += n;
      this.#host.sendData(this.#id, takePieces(write, n), n);
      if (this.destroyed) return;
    }
    this.#pendingWrite = undefined;
    write.callback();
  }

  #receiveWindowUpdate(increment: number): void {
    if (!this.#host.isFlowControl || this.#phase === 'done' || this.destroyed) return;
    try {
      this.#send.grant(increment);
    } catch (err) {
      this.#violate('flow-control', err as ProtocolError);
      return;
    }
    this.#isStalled = false;
    this.#flush();
  }

  // --- close handshake ----------------------------------------------------------------------

  /** Sends our reset: CLOSE_REQ (then wait for CLOSE_RSP) or CLOSE_RSP (then done). */
  #sendReset(code: StreamResetCode, text = `stream reset (${code})`): void {
    this.#hasSentReset = true;
    const withCode = this.#host.isErrorCodes ? { errorCode: code } : {};
    if (this.#host.role === 'dialer') {
      const packet: CloseRequestPacket = { type: 'CLOSE_REQ', connectId: this.#id, ...withCode };
      this.#host.sendControl(packet);
      this.#awaitCloseResponse();
    } else {
      const packet: CloseResponsePacket = {
        type: 'CLOSE_RSP',
        connectId: this.#id,
        error: text,
        ...withCode,
      };
      this.#host.sendControl(packet);
      this.#setDone();
    }
  }

  /** Acceptor: both directions are over; CLOSE_RSP is the stream's last packet. */
  #finishAsAcceptor(): void {
    this.#host.sendControl({ type: 'CLOSE_RSP', connectId: this.#id, error: '' });
    this.#setDone();
    this.#maybeFinish();
  }

  /** Dialer: our last packet is out; the acceptor's CLOSE_RSP ends the stream. */
  #awaitCloseResponse(): void {
    if (this.#phase !== 'open') return;
    this.#phase = 'closing';
    this.#lingerTimer = setTimeout(() => this.#onLingerTimeout(), this.#host.closeTimeoutMs);
    this.#lingerTimer.unref();
  }

  #onLingerTimeout(): void {
    this.#lingerTimer = undefined;
    if (this.#phase !== 'closing') return;
    this.#setDone();
    if (!this.destroyed) {
      this.#resetCode = 'timeout';
      this.#isResetByPeer = true;
      this.destroy(
        streamResetError(
          this.#id,
          'timeout',
          `no CLOSE_RSP within ${this.#host.closeTimeoutMs} ms`,
        ),
      );
    }
    this.#maybeFinish();
  }

  #setDone(): void {
    this.#phase = 'done';
    if (this.#lingerTimer !== undefined) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
  }

  #maybeFinish(): void {
    if (this.#isFinished || this.#phase !== 'done' || !this.#isDuplexClosed) return;
    this.#isFinished = true;
    this.#host.streamFinished(this.#control);
  }
}

/** The next `n` bytes of a pending write as views of its chunks (no copy); advances it. */
function takePieces(write: PendingWrite, n: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  while (n > 0) {
    const chunk = write.chunks[write.index] as Buffer;
    const available = chunk.length - write.offset;
    if (available <= n) {
      pieces.push(write.offset === 0 ? chunk : chunk.subarray(write.offset));
      n -= available;
      write.index++;
      write.offset = 0;
    } else {
      pieces.push(chunk.subarray(write.offset, write.offset + n));
      write.offset += n;
      n = 0;
    }
  }
  return pieces;
}
