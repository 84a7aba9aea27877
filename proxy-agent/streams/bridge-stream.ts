/**
 * Joins a target socket and a tunnel stream (STYLE §5.1): two `stream.pipeline`s, one per
 * direction, so backpressure holds end to end (a slow target stops the tunnel stream's reads,
 * which stops credit grants; a slow tunnel stream pauses the socket) and cleanup runs once.
 *
 * - Half-close: target FIN → `stream.end()` (EXT_HALF_CLOSE with `half-close`, else the whole
 *   stream closes, as ANP does); stream end → `socket.end()` (FIN to the target). The socket is
 *   opened with `allowHalfOpen: true` so one direction ending does not end the other.
 * - Resets: a socket error resets the stream with `connection-reset`; a stream reset (by the
 *   peer, or the tunnel going away) resets the target connection (TCP RST).
 */
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';

import type { TunnelStreamApi } from '../../protocol/index.ts';

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
 * Starts moving bytes both ways. `onDone` is called exactly once, after both directions have
 * finished or failed; by then the socket is destroyed. The stream is left to its own
 * lifecycle (it closes itself once both directions ended, or was destroyed by the error).
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
  pipeline(socket, stream, finish);
  pipeline(stream, socket, finish);
  return {
    get bytesToTarget() {
      return socket.bytesWritten;
    },
    get bytesFromTarget() {
      return socket.bytesRead;
    },
  };
}
