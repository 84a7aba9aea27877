/**
 * Opens the TCP connection to a dial target with a deadline and a cancel signal, and names
 * the failure with a DialFailureReason (the value that goes into DIAL_RSP and the metric label,
 * as ANP's GetDialFailureReason does).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

import { formatDialAddress } from '../../protocol/index.ts';
import type { DialAddress, DialFailureReason } from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';

/** TCP keepalive on target sockets, so a vanished target is noticed on idle streams. */
const TARGET_KEEPALIVE_DELAY_MS = 30_000;

/**
 * What every target socket reads into (`onread`): one buffer for the process, reused by each
 * read. A read's bytes are sent at once or copied (TunnelStream.sendFrom), so nothing keeps a
 * view of it, and no Buffer is allocated per read.
 */
const TARGET_READ_BUFFER = Buffer.alloc(64 * 1024);

/** Takes one read's bytes (valid only during the call); false pauses the socket. */
export type TargetReader = (data: Uint8Array) => boolean;

const readers = new WeakMap<Socket, TargetReader>();

/**
 * Starts reading a socket from {@link connectTarget}: each read's bytes go to `reader`, whose
 * false pauses the socket until `socket.resume()`. End and errors come as socket events.
 */
export function readTarget(socket: Socket, reader: TargetReader): void {
  readers.set(socket, reader);
  socket.resume();
}

/** Options of {@link connectTarget}. */
export interface ConnectTargetOptions {
  /** Fail with reason `timeout` if the connection is not established in time (DNS included). */
  readonly timeoutMs: number;
  /** Abort → the socket is destroyed and the promise rejects with reason `canceled`. */
  readonly signal?: AbortSignal;
}

/** Maps a Node socket error to a dial failure reason; unknown errors are `internal`. */
export function classifySocketError(err: unknown): DialFailureReason {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
      return 'dns';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'internal';
  }
}

/**
 * Connects to `target` with `allowHalfOpen: true` (half-close is bridged, not collapsed),
 * Nagle off and TCP keepalive on. The socket reads into a shared buffer and only once given a
 * reader ({@link readTarget}): it emits no 'data' and is not to be piped from. Resolves with
 * the connected socket, which keeps an 'error'
 * listener that ignores errors after settling: the caller attaches its own before any I/O.
 * Rejects with AgentError `AGENT_ERR_DIAL_FAILED` and `reason` (`timeout`, `refused`, `dns`,
 * `unreachable`, `canceled`, `internal`); the socket is destroyed then. Never leaves a timer
 * or listener behind.
 */
export function connectTarget(target: DialAddress, options: ConnectTargetOptions): Promise<Socket> {
  const text = formatDialAddress(target.host, target.port);
  const { signal, timeoutMs } = options;
  return new Promise<Socket>((resolve, reject) => {
    const failure = (reason: DialFailureReason, message: string, cause?: unknown): AgentError =>
      new AgentError(
        'AGENT_ERR_DIAL_FAILED',
        message,
        cause === undefined ? { reason } : { reason, cause },
      );
    if (signal?.aborted === true) {
      reject(failure('canceled', `connect to ${text} canceled`));
      return;
    }
    let isSettled = false;
    const socket: Socket = connect({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: TARGET_KEEPALIVE_DELAY_MS,
      onread: {
        buffer: TARGET_READ_BUFFER,
        callback: (bytes: number, buffer: Uint8Array): boolean =>
          readers.get(socket)?.(buffer.subarray(0, bytes)) ?? false,
      },
    });
    socket.pause(); // no read before readTarget()
    const settle = (err?: AgentError): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      if (err === undefined) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(err);
      }
    };
    const onConnect = (): void => settle();
    const onAbort = (): void => settle(failure('canceled', `connect to ${text} canceled`));
    socket.on('error', (err: Error) => {
      settle(failure(classifySocketError(err), `connect to ${text} failed: ${err.message}`, err));
    });
    socket.once('connect', onConnect);
    const timer = setTimeout(() => {
      settle(failure('timeout', `connect to ${text} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
