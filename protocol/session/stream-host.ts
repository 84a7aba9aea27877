/**
 * The internal interface between TunnelSession and TunnelStream (not exported from protocol/).
 * The session implements {@link StreamHost} once per tunnel; each stream hands the session its
 * {@link StreamControl}. Everything runs on the event loop turn that delivered the packet: no
 * method here awaits anything.
 */
import type { StreamResetCode } from '../error-codes.ts';
import type { ProtocolError } from '../errors.ts';
import type { Packet } from '../packet.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import type { SessionRole } from './types.ts';

/** What a stream may ask of its session. */
export interface StreamHost {
  readonly label: string;
  readonly role: SessionRole;
  readonly isFlowControl: boolean;
  /** Credit each direction of a stream starts with (with flow control): 256 or 64 KiB. */
  readonly initialWindowBytes: number;
  readonly isHalfClose: boolean;
  readonly isErrorCodes: boolean;
  /** How long a dialer waits for the CLOSE_RSP that ends a stream before it forgets it, ms. */
  readonly closeTimeoutMs: number;
  /** Whether the connection brake is on (transport above its high-water mark): DATA waits. */
  isBraked(): boolean;
  /** Sends a control packet now, even while braked (it is small and unblocks the peer). */
  sendControl(packet: Packet): void;
  /**
   * Sends one DATA packet whose payload is `payload`'s pieces back to back (copied once, into
   * the packet; the pieces may be reused as soon as this returns); may engage the brake.
   */
  sendData(streamId: bigint, payload: readonly Uint8Array[], byteLength: number): void;
  /** Calls `control.resumeAfterDrain()` once the brake is released. Idempotent. */
  waitForDrain(control: StreamControl): void;
  /** Forgets a {@link waitForDrain} registration. */
  cancelDrainWait(control: StreamControl): void;
  /** A sender found zero credit. */
  windowStalled(streamId: bigint): void;
  /** A stream was reset (sent or received). */
  streamReset(streamId: bigint, code: StreamResetCode, isLocal: boolean): void;
  /** The stream is over: last packet sent or received and the Duplex closed. Called once. */
  streamFinished(control: StreamControl): void;
}

/** What the session may do to one stream. */
export interface StreamControl {
  readonly stream: TunnelStream;
  /** Bytes received and not yet read by the consumer (own queue + Readable buffer). */
  bufferedBytes(): number;
  /** DATA from the peer. */
  receiveData(data: Uint8Array): void;
  /** EXT_WINDOW_UPDATE from the peer. */
  receiveWindowUpdate(increment: number): void;
  /** EXT_HALF_CLOSE from the peer. */
  receiveHalfClose(): void;
  /** CLOSE_REQ (acceptor) or CLOSE_RSP (dialer); a code makes it a reset. */
  receiveClose(code: StreamResetCode | undefined): void;
  /** DIAL_CLS naming this (already established) stream: acceptor only. */
  receiveCancel(): void;
  /** A peer violation confined to this stream: send a reset with `code`, destroy with an error. */
  violate(code: StreamResetCode, cause: ProtocolError): void;
  /** Never registered (accept() after a cancel): destroy quietly with `code`, send nothing. */
  discard(code: StreamResetCode): void;
  /** The session is gone: destroy with 'tunnel-closed', send nothing. */
  abandon(cause: Error | undefined): void;
  /** The brake was released: continue sending. */
  resumeAfterDrain(): void;
}
