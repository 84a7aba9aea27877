// The contract of the tunnel session: the transport-agnostic multiplexer that proxy-server,
// proxy-agent and proxy-server/client all use. This file is the API; tunnel-session.ts,
// tunnel-stream.ts and the two transport adapters implement it. See README.md here.
import type { EventEmitter } from 'node:events';
import type { Duplex, Writable } from 'node:stream';

import type { DialFailureReason, StreamResetCode } from '../error-codes.ts';
import type { ExtensionName } from '../extensions.ts';
import type { InboundPacket, OutboundPacket } from '../grpc-services.ts';
import type { TunnelStream } from './tunnel-stream.ts';

/**
 * One tunnel's packet pipe: a gRPC bidi call (AgentService.Connect or ProxyService.Proxy) or a
 * WebSocket carrying one encoded packet per binary message. Adapters: `grpcCallTransport`,
 * `webSocketTransport`.
 *
 * Events: 'packet' (InboundPacket — a decode failure arrives as a ProtocolError, never thrown),
 * 'drain' (send() may be called freely again), 'close' (err?: Error; emitted exactly once).
 */
export interface PacketTransport extends EventEmitter {
  /**
   * Queues one packet. Returns false when the transport's queue is above its high-water mark;
   * the session then stops sending DATA until 'drain' (the connection-level brake, STYLE §5.3).
   * Control packets (WINDOW_UPDATE, CLOSE_*, DIAL_*) are still sent while above the mark.
   * Never throws; after close it returns false and drops the packet.
   */
  send(packet: OutboundPacket): boolean;
  /** Graceful end (gRPC `end()`, WebSocket close 1000). Idempotent. */
  end(): void;
  /** Abort now (gRPC cancel, WebSocket terminate / close with `closeCode`). Idempotent. */
  destroy(err?: Error, closeCode?: number): void;
  /** Bytes queued but not yet handed to the socket. */
  readonly bufferedBytes: number;
}

/** Listener of a transport's 'packet' event. */
export type PacketListener = (packet: InboundPacket) => void;

/** Which side sends DIAL_REQ on this tunnel. */
export type SessionRole = 'dialer' | 'acceptor';

export interface TunnelSessionOptions {
  transport: PacketTransport;
  /** 'dialer': the proxy-server on an agent tunnel, a frontend on ProxyService. 'acceptor': the other side. */
  role: SessionRole;
  /** The negotiated set (`negotiateExtensions`); empty = plain ANP peer. Fixed for the session's life. */
  extensions: ReadonlySet<ExtensionName>;
  /**
   * Acceptor only: called once per valid DIAL_REQ. The callee must call `accept()` or `reject()`
   * exactly once, now or later. If the dialer cancels first, `dial.signal` aborts and the
   * session answers the DIAL_CLS itself; a later accept() then returns a stream already
   * destroyed and reject() is a no-op. reject() after accept() or reject() is a no-op as well
   * (safe in error paths); a second accept() throws.
   */
  onDial?: (dial: IncomingDial) => void;
  /** Streams plus pending dials allowed at once; beyond it dials fail 'overloaded'. Default 1024. */
  maxStreams?: number;
  /** With `ping` negotiated: send EXT_PING every interval; destroy the session when a ping is unanswered for `pingTimeoutMs`. Default 15 000 / 30 000; 0 disables. */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** For diagnostics_channel events and errors, e.g. "cluster c1 agent a1". */
  label?: string;
  /**
   * Dialer: how long a finished or reset stream, or a canceled dial (with `stream-id`), keeps
   * its id while waiting for the acceptor's terminal packet (CLOSE_RSP / the DIAL_CLS answer)
   * before forgetting it. Default 10 000 ms.
   */
  closeTimeoutMs?: number;
}

/** A DIAL_REQ received by an acceptor. */
export interface IncomingDial {
  /** `host:port` as the dialer sent it. */
  readonly address: string;
  /** The dialer's id (DIAL_REQ `random`). */
  readonly dialId: bigint;
  /** Aborted when the dialer cancels (DIAL_CLS), or the session closes, before accept/reject. */
  readonly signal: AbortSignal;
  /** Sends a successful DIAL_RSP and returns the open stream. */
  accept(): TunnelStream;
  /** Sends a failed DIAL_RSP with this reason (typed with `error-codes`, text always). */
  reject(reason: DialFailureReason, message: string): void;
}

export interface DialOptions {
  /** Aborting cancels the dial (DIAL_CLS) or, once open, resets the stream with 'canceled'. */
  signal?: AbortSignal;
  /** Fail with reason 'timeout' if no DIAL_RSP arrives in time. Default 30 000. */
  timeoutMs?: number;
}

/** Counters for metrics and for leak checks in tests (all return to 0 after use). */
export interface SessionStats {
  openStreams: number;
  pendingDials: number;
  /** Bytes received and not yet read by local consumers, all streams. */
  bufferedBytes: number;
  /** Times a stream's sender found zero credit (flow-control). */
  windowStalls: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * The multiplexer over one transport. Implemented by `TunnelSession` (tunnel-session.ts):
 *
 *   new TunnelSession(options)
 *   dial(address, options?): Promise<TunnelStream>   — dialer only; rejects with ProtocolError
 *       code PROTO_ERR_DIAL_FAILED and `reason` (DialFailureReason)
 *   sendDrain(): void                                — tell the peer not to pick us for new dials
 *   readonly isPeerDraining: boolean                 — peer sent DRAIN (event 'peer-drain')
 *   readonly extensions: ReadonlySet<ExtensionName>
 *   readonly rttMs: number | undefined               — last ping round trip
 *   readonly isClosed: boolean
 *   stats(): SessionStats
 *   close(): Promise<void>   — no new dials; resolves when every stream has ended, then ends
 *                              the transport. Idempotent.
 *   destroy(err?: Error): void — resets every stream with 'tunnel-closed', fails pending dials
 *                              with 'tunnel-closed', destroys the transport. Idempotent.
 *   events: 'close' (err?: Error) once; 'peer-drain'; 'stream-reset' ({ streamId, code, isLocal })
 *
 * Invalid packets: a ProtocolError with `streamId` resets only that stream (code 'protocol' or
 * 'flow-control'); one without (the tunnel is unreadable) destroys the session.
 */
export interface TunnelSessionApi extends EventEmitter {
  dial(address: string, options?: DialOptions): Promise<TunnelStreamApi>;
  sendDrain(): void;
  readonly isPeerDraining: boolean;
  readonly extensions: ReadonlySet<ExtensionName>;
  readonly rttMs: number | undefined;
  readonly isClosed: boolean;
  /**
   * Sends an EXT_PING now and resolves with its round trip in ms once the peer's EXT_PONG is
   * back. Rejects with ProtocolError `PROTO_ERR_PING_FAILED` when the peer did not negotiate
   * `ping`, too many pings are unanswered, no pong came within `timeoutMs`, or the session closed.
   */
  ping(timeoutMs: number): Promise<number>;
  stats(): SessionStats;
  close(): Promise<void>;
  destroy(err?: Error): void;
}

/**
 * One multiplexed byte stream, a Node Duplex (implemented by `TunnelStream`):
 * - writes are cut into DATA packets of at most MAX_DATA_CHUNK_BYTES; with `flow-control` a
 *   write callback waits for credit, so a slow remote reader stalls only this stream;
 * - reads are pull-based: credit is granted (EXT_WINDOW_UPDATE) only as the consumer reads;
 *   without `flow-control` (plain ANP peer) buffering beyond LEGACY_STREAM_BUFFER_BYTES resets
 *   this stream alone with 'flow-control';
 * - `end()` sends EXT_HALF_CLOSE with `half-close` (the other direction keeps flowing), else
 *   closes the whole stream (CLOSE_REQ/CLOSE_RSP), as ANP does;
 * - `destroy()` / `reset(code)` abort: CLOSE_* with the code, buffers discarded;
 * - a peer reset destroys the stream with ProtocolError code PROTO_ERR_STREAM_RESET and
 *   `resetCode`; a session loss with `resetCode` 'tunnel-closed'.
 */
export interface TunnelStreamApi extends Duplex {
  readonly streamId: bigint;
  /** The dial address (`host:port`). */
  readonly remoteAddress: string;
  /** Set once the stream was reset, locally or by the peer. */
  readonly resetCode: StreamResetCode | undefined;
  reset(code: StreamResetCode): void;
  /**
   * Relays this stream's received bytes straight into `target` (another TunnelStream as its
   * DATA, or a socket), in place of a pipe (see TunnelStream.forwardTo); false, with nothing
   * changed, when it cannot.
   */
  forwardTo(target: Writable): boolean;
  /**
   * Sends `data` now as far as credit allows, copies the rest and calls `onSent` once it went
   * out; true when all went at once (see TunnelStream.sendFrom).
   */
  sendFrom(data: Uint8Array, onSent: () => void): boolean;
}
