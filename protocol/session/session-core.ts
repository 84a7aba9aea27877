/**
 * What TunnelSession shares with its dialer-side and acceptor-side bookkeeping
 * (OutgoingDials, IncomingDials). Internal; not exported from protocol/.
 */
import type { DialFailureReason } from '../error-codes.ts';
import type { Packet } from '../packet.ts';
import type { StreamIdAllocator } from '../stream-id-allocator.ts';
import type { StreamControl, StreamHost } from './stream-host.ts';
import type { TunnelStream } from './tunnel-stream.ts';

export interface SessionCore {
  readonly label: string;
  readonly isStreamId: boolean;
  readonly isErrorCodes: boolean;
  readonly maxStreams: number;
  /** Live ids: dialer-chosen ones (both modes) and, with stream-id, peer-chosen ones. */
  readonly ids: StreamIdAllocator;
  readonly host: StreamHost;
  /** Sends a packet unless the session is closed. */
  send(packet: Packet): void;
  /** close() was called (or the session is closed). */
  isClosing(): boolean;
  isClosed(): boolean;
  /** Streams plus pending dials (both sides), for maxStreams. */
  load(): number;
  /** The registered stream `id`, if any. */
  stream(id: bigint): StreamControl | undefined;
  /** Creates and registers a stream (publishes stream:open). */
  openStream(
    id: bigint,
    address: string,
    dialId: bigint,
    signal: AbortSignal | undefined,
  ): TunnelStream;
  /** Something finished: if close() waits and nothing is in flight, end the transport. */
  checkIdle(): void;
  publishDialFailed(dialId: bigint, address: string, reason: DialFailureReason): void;
}
