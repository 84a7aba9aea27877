/**
 * Joins two byte streams both ways with `stream.pipeline` (STYLE §5.1): each direction keeps
 * its own backpressure end to end (a TunnelStream write waits for credit, a socket write for
 * 'drain'), an end in one direction is passed on as an end (half-close), and an abort on one
 * side aborts the other with the same reset code. A direction out of a TunnelStream (into the
 * agent stream or the frontend stream, or into a CONNECT client's socket) forwards instead
 * (`TunnelStream.forwardTo`), with the same ends, aborts and completion as the pipeline.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';

import { settleForward, type StreamResetCode, type TunnelStreamApi } from '../../protocol/index.ts';

/** One side of a bridge: the stream, how to abort it, and what an error on it means. */
export interface BridgeEnd {
  readonly stream: Duplex;
  /** Relays this side's received bytes into `to` without a pipe; false when it cannot. */
  forwardTo?(to: Duplex): boolean;
  /** Aborts this side, telling its peer `code` where the transport can carry it. */
  abort(code: StreamResetCode): void;
  /** The reset code that an error emitted by this side stands for. */
  codeOf(err: Error): StreamResetCode;
}

/** A TunnelStream side: abort = `reset(code)`; a peer reset keeps its own code. */
export function tunnelEnd(stream: TunnelStreamApi): BridgeEnd {
  return {
    stream,
    forwardTo: (to) => stream.forwardTo(to),
    abort: (code) => stream.reset(code),
    codeOf: (err) => {
      const fromError = (err as { resetCode?: unknown }).resetCode;
      return (
        stream.resetCode ??
        (typeof fromError === 'string' ? (fromError as StreamResetCode) : 'internal')
      );
    },
  };
}

/** A TCP socket side: abort = TCP RST; a socket error is 'connection-reset' (or 'timeout'). */
export function socketEnd(socket: Socket): BridgeEnd {
  return {
    stream: socket,
    abort: () => {
      if (socket.destroyed) return;
      try {
        socket.resetAndDestroy();
      } catch {
        // A TLS socket (CONNECT over TLS) has no TCP handle to reset: a plain destroy then.
        socket.destroy();
      }
    },
    codeOf: (err) =>
      (err as { code?: unknown }).code === 'ETIMEDOUT' ? 'timeout' : 'connection-reset',
  };
}

/**
 * Pipes `a` into `b` and `b` into `a`. Resolves (never rejects) when both directions are done,
 * with the first error seen or undefined after a clean close. Both streams are finished or
 * destroyed by then. Attach nothing that throws to the streams' 'error' events; the bridge
 * registers its own listeners first, so a side's abort code is chosen before pipeline destroys
 * the other side with a generic error.
 */
export function bridgeStreams(a: BridgeEnd, b: BridgeEnd): Promise<Error | undefined> {
  let isAborted = false;
  const onError = (from: BridgeEnd, to: BridgeEnd) => (err: Error) => {
    if (isAborted) return;
    isAborted = true;
    to.abort(from.codeOf(err));
  };
  a.stream.on('error', onError(a, b));
  b.stream.on('error', onError(b, a));
  return new Promise((resolve) => {
    let remaining = 2;
    let firstError: Error | undefined;
    const done = (err: Error | null | undefined): void => {
      firstError ??= err ?? undefined;
      remaining -= 1;
      if (remaining === 0) resolve(firstError);
    };
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      if (from.forwardTo?.(to.stream) === true) {
        settleForward(from.stream, to.stream, done);
        continue;
      }
      try {
        pipeline(from.stream, to.stream, done);
      } catch (err) {
        // pipeline() throws at once when a side is already destroyed (ERR_STREAM_UNABLE_TO_PIPE).
        onError(from.stream.destroyed ? from : to, from.stream.destroyed ? to : from)(err as Error);
        from.stream.destroy();
        to.stream.destroy();
        done(err as Error);
      }
    }
  });
}
