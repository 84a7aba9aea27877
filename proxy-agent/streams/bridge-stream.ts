/**
 * Joins a target socket and a tunnel stream (STYLE §5.1), one direction at a time, so that
 * backpressure holds end to end and cleanup runs once:
 *
 * - tunnel → target: the stream forwards its DATA into the socket (`TunnelStream.forwardTo`,
 *   corked writes) and grants credit only as the writes complete: a slow target stops credit
 *   grants. Falls back to `stream.pipeline` when the stream cannot forward.
 * - target → tunnel: the socket reads into one shared buffer (connect-target.ts), and each
 *   read is sent as DATA at once (`TunnelStream.sendFrom`); what the credit does not cover is
 *   copied and the socket pauses until it went out. No Buffer per read, no Readable or
 *   Writable in between, and a stream whose reader stalls holds one read's worth here.
 *
 * - Half-close: target FIN → `stream.end()` (EXT_HALF_CLOSE with `half-close`, else the whole
 *   stream closes, as ANP does); stream end → `socket.end()` (FIN to the target). The socket is
 *   opened with `allowHalfOpen: true` so one direction ending does not end the other.
 * - Resets: a socket error resets the stream with `connection-reset`; a stream reset (by the
 *   peer, or the tunnel going away) resets the target connection (TCP RST).
 */
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';

import { settleForward, type TunnelStreamApi } from '../../protocol/index.ts';
import { readTarget } from './connect-target.ts';

/** What one bridged stream carried, reported once when both directions are done. */
export interface BridgeResult {
  /** Bytes written to the target socket (tunnel → target). */
  readonly bytesToTarget: number;
  /** Bytes read from the target socket (target → tunnel). */
  readonly bytesFromTarget: number;
  /** The first error of either direction; undefined when both ended cleanly. */
  readonly error: Error | undefined;
}

/** A live bridge: byte counters readable at any time (for metrics scraped mid-stream). */
export interface Bridge {
  readonly bytesToTarget: number;
  readonly bytesFromTarget: number;
}

/**
 * Starts moving bytes both ways; `socket` comes from connectTarget() (paused, reading through
 * readTarget()). `onDone` is called exactly once, after both directions have finished or
 * failed; by then the socket is destroyed. The stream is left to its own lifecycle (it closes
 * itself once both directions ended, or was destroyed by the error).
 */
export function bridgeStream(
  socket: Socket,
  stream: TunnelStreamApi,
  onDone: (result: BridgeResult) => void,
): Bridge {
  let remaining = 2;
  let firstError: Error | undefined;
  // Registered before the pipelines' own listeners, so the reset code is ours, not a default.
  socket.on('error', () => {
    if (!stream.destroyed) stream.reset('connection-reset');
  });
  stream.on('error', () => {
    if (!socket.destroyed) socket.resetAndDestroy();
  });
  const finish = (err: Error | null | undefined): void => {
    if (err != null) firstError ??= err;
    remaining -= 1;
    if (remaining > 0) return;
    const result: BridgeResult = {
      bytesToTarget: socket.bytesWritten,
      bytesFromTarget: socket.bytesRead,
      error: firstError,
    };
    socket.destroy();
    onDone(result);
  };
  // target → tunnel
  let isSending = false;
  let isTargetEnded = false;
  const endStream = (): void => {
    if (!stream.destroyed && !stream.writableEnded) stream.end();
  };
  readTarget(socket, (data) => {
    if (stream.destroyed) return false; // the error listeners tear both down
    isSending = !stream.sendFrom(data, () => {
      isSending = false;
      if (isTargetEnded) endStream();
      else socket.resume();
    });
    return !isSending;
  });
  socket.once('end', () => {
    isTargetEnded = true;
    if (!isSending) endStream();
  });
  settleForward(socket, stream, finish);
  // tunnel → target
  if (stream.forwardTo(socket)) settleForward(stream, socket, finish);
  else pipeline(stream, socket, finish);
  return {
    get bytesToTarget() {
      return socket.bytesWritten;
    },
    get bytesFromTarget() {
      return socket.bytesRead;
    },
  };
}
