/**
 * The tunnel session: the multiplexer over one PacketTransport (a gRPC bidi call or a
 * WebSocket), used by proxy-server, proxy-agent and proxy-server/client alike. See README.md
 * here for the state machine and the flow-control rules.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

import { INITIAL_STREAM_WINDOW_BYTES, SMALL_INITIAL_STREAM_WINDOW_BYTES } from '../constants.ts';
import { encodeDataPacket } from '../data-codec.ts';
import type { StreamResetCode } from '../error-codes.ts';
import { ProtocolError } from '../errors.ts';
import { canonicalExtensions, Extension, type ExtensionName } from '../extensions.ts';
import type { InboundPacket } from '../grpc-services.ts';
import type { Packet } from '../packet.ts';
import { PingTracker, pongFor } from '../ping-tracker.ts';
import { StreamIdAllocator } from '../stream-id-allocator.ts';
import { publishDialFailed, publishWindowStall } from './diagnostics.ts';
import { IncomingDials, sendDialFailure } from './incoming-dials.ts';
import { OutgoingDials } from './outgoing-dials.ts';
import { acquirePacketBuffer } from './packet-buffer-pool.ts';
import type { SessionCore } from './session-core.ts';
import { closeCodeFor, sessionClosedError, toError } from './session-errors.ts';
import type { StreamControl } from './stream-host.ts';
import { StreamRegistry } from './stream-registry.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import { noteDataBytes } from './young-collections.ts';
import type {
  DialOptions,
  PacketTransport,
  SessionRole,
  SessionStats,
  TunnelSessionApi,
  TunnelSessionOptions,
} from './types.ts';

export { DEFAULT_DIAL_TIMEOUT_MS } from './outgoing-dials.ts';

/** Default `maxStreams`: streams plus pending dials per session. */
export const DEFAULT_MAX_STREAMS = 1024;
/** Default interval between EXT_PINGs, and the deadline for an answer, ms. */
export const DEFAULT_PING_INTERVAL_MS = 15_000;
export const DEFAULT_PING_TIMEOUT_MS = 30_000;
/**
 * Default `closeTimeoutMs`: how long a dialer keeps an id it is done with while it waits for
 * the acceptor's terminal packet (CLOSE_RSP, or the answer to a DIAL_CLS). A peer that never
 * answers costs an id for this long, not forever. Equal to the konnectivity client's Close() wait.
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** A ping() call waiting for its pong. */
interface PingWaiter {
  readonly sentAt: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (rttMs: number) => void;
  readonly reject: (why: string) => void;
}

/**
 * The multiplexer over one transport (implements {@link TunnelSessionApi}; contract in types.ts).
 *
 * Lifecycle: live from construction. `close()` refuses new dials, waits for every stream and
 * pending dial to end, then ends the transport and resolves on 'close'. `destroy(err)` resets
 * every stream with 'tunnel-closed', fails pending dials with 'tunnel-closed' and destroys the
 * transport. Both are idempotent and both settle every waiter. 'close' (err?) is emitted once.
 *
 * Concurrency: one event loop; the demultiplexer ('packet') never awaits a stream's consumer.
 * Per-stream queues are bounded by the stream's window (or LEGACY_STREAM_BUFFER_BYTES), so a
 * slow reader stalls only its stream. The transport's brake (send() === false) holds DATA of all
 * streams until 'drain'; control packets still go.
 *
 * Timers (dial timeouts, close lingers, ping) are unref'd and always cleared: after 'close' none
 * is armed, and stats() shows no streams, dials or buffered bytes.
 */
export class TunnelSession extends EventEmitter implements TunnelSessionApi {
  readonly #transport: PacketTransport;
  readonly #role: SessionRole;
  readonly #extensions: ReadonlySet<ExtensionName>;
  readonly #isPing: boolean;
  readonly #label: string;
  readonly #core: SessionCore;
  readonly #outgoing: OutgoingDials;
  readonly #incoming: IncomingDials;
  readonly #streams: StreamRegistry;
  /** Made when a stream first waits for 'drain' (an idle tunnel never makes it). */
  #drainWaiters: Set<StreamControl> | undefined;
  readonly #closeWaiters: (() => void)[] = [];
  readonly #pingTracker = new PingTracker();
  readonly #pingTimeoutMs: number;
  #pingTimer: NodeJS.Timeout | undefined;
  #isBraked = false;
  #isClosing = false;
  #isEnding = false;
  #isClosed = false;
  #isPeerDraining = false;
  #hasSentDrain = false;
  #rttMs: number | undefined;
  /** ping() calls waiting for their pong, by nonce. */
  #pingWaiters: Map<number, PingWaiter> | undefined;
  #windowStalls = 0;
  #bytesIn = 0;
  #bytesOut = 0;

  constructor(options: TunnelSessionOptions) {
    super();
    this.#transport = options.transport;
    this.#role = options.role;
    this.#extensions = canonicalExtensions(options.extensions);
    this.#isPing = this.#extensions.has(Extension.PING);
    this.#label = options.label ?? `tunnel ${options.role}`;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.#core = {
      label: this.#label,
      isStreamId: this.#extensions.has(Extension.STREAM_ID),
      isErrorCodes: this.#extensions.has(Extension.ERROR_CODES),
      maxStreams: options.maxStreams ?? DEFAULT_MAX_STREAMS,
      ids: new StreamIdAllocator(),
      host: {
        label: this.#label,
        role: this.#role,
        isFlowControl: this.#extensions.has(Extension.FLOW_CONTROL),
        initialWindowBytes: this.#extensions.has(Extension.INITIAL_WINDOW_64K)
          ? SMALL_INITIAL_STREAM_WINDOW_BYTES
          : INITIAL_STREAM_WINDOW_BYTES,
        isHalfClose: this.#extensions.has(Extension.HALF_CLOSE),
        isErrorCodes: this.#extensions.has(Extension.ERROR_CODES),
        closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
        isBraked: () => this.#isBraked,
        sendControl: (packet) => this.#send(packet),
        sendData: (connectId, payload, byteLength) =>
          this.#sendData(connectId, payload, byteLength),
        waitForDrain: (control) => (this.#drainWaiters ??= new Set()).add(control),
        cancelDrainWait: (control) => this.#drainWaiters?.delete(control),
        windowStalled: (streamId) => {
          this.#windowStalls++;
          publishWindowStall(() => ({ label: this.#label, streamId }));
        },
        streamReset: (streamId, code, isLocal) => {
          this.emit('stream-reset', { streamId, code, isLocal });
        },
        streamFinished: (control) => this.#onStreamFinished(control),
      },
      send: (packet) => this.#send(packet),
      isClosing: () => this.#isClosing,
      isClosed: () => this.#isClosed,
      load: () => this.#load(),
      stream: (id) => this.#streams.get(id),
      openStream: (id, address, dialId, signal) => this.#streams.open(id, address, dialId, signal),
      checkIdle: () => this.#checkIdle(),
      publishDialFailed: (dialId, address, reason) =>
        publishDialFailed(() => ({
          label: this.#label,
          role: this.#role,
          dialId,
          address,
          reason,
        })),
    };
    this.#streams = new StreamRegistry(this.#core.host);
    this.#outgoing = new OutgoingDials(this.#core);
    this.#incoming = new IncomingDials(this.#core, options.onDial);
    this.#transport.on('packet', this.#onPacket);
    this.#transport.on('drain', this.#onDrain);
    this.#transport.on('close', this.#onTransportClose);
    const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    if (this.#isPing && pingIntervalMs > 0) {
      this.#pingTimer = setInterval(() => this.#onPingTick(), pingIntervalMs);
      this.#pingTimer.unref();
    }
  }

  /** The negotiated extension set (empty for a plain ANP peer). */
  get extensions(): ReadonlySet<ExtensionName> {
    return this.#extensions;
  }

  /** True once the peer sent DRAIN (event 'peer-drain'): prefer other tunnels for new dials. */
  get isPeerDraining(): boolean {
    return this.#isPeerDraining;
  }

  /** Last measured EXT_PING round trip, ms (undefined without `ping` or before the first pong). */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** True once 'close' was emitted. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Which side of the tunnel this session is. */
  get role(): SessionRole {
    return this.#role;
  }

  /** Counters for metrics and leak checks; cheap (one pass over the open streams). */
  stats(): SessionStats {
    return {
      openStreams: this.#streams.size,
      pendingDials: this.#outgoing.size + this.#incoming.size,
      bufferedBytes: this.#streams.bufferedBytes(),
      windowStalls: this.#windowStalls,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
    };
  }

  /**
   * Dialer only: opens a stream to `address` (`host:port`). Resolves once the acceptor's
   * successful DIAL_RSP arrives; rejects with ProtocolError `PROTO_ERR_DIAL_FAILED` and its
   * `reason`: the peer's reason, 'timeout' (options.timeoutMs), 'canceled' (options.signal),
   * 'tunnel-closed', 'overloaded' (maxStreams) or 'bad-request' (invalid address). Aborting the
   * signal after the stream opened resets it with 'canceled'. Safe to call concurrently.
   */
  dial(address: string, options: DialOptions = {}): Promise<TunnelStream> {
    if (this.#role !== 'dialer') {
      return Promise.reject(new TypeError(`${this.#label}: dial() on an acceptor session`));
    }
    return this.#outgoing.dial(address, options);
  }

  /**
   * Sends an EXT_PING now; resolves with the round trip (ms) once its EXT_PONG — or a later
   * ping's, the tunnel being ordered — is back. Rejects with ProtocolError
   * `PROTO_ERR_PING_FAILED` without the `ping` extension, when maxOutstanding pings are already
   * unanswered, after `timeoutMs`, or when the session closes first. An unanswered ping also
   * counts toward the session's ping deadline. Safe to call concurrently.
   */
  ping(timeoutMs: number): Promise<number> {
    const fail = (why: string) =>
      new ProtocolError('PROTO_ERR_PING_FAILED', `${this.#label}: ping failed: ${why}`);
    if (this.#isClosed) return Promise.reject(fail('the session is closed'));
    if (!this.#isPing) return Promise.reject(fail('the peer did not negotiate "ping"'));
    const sentAt = performance.now();
    const ping = this.#pingTracker.createPing(sentAt);
    if (ping === undefined) return Promise.reject(fail('too many pings are unanswered'));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pingWaiters?.delete(ping.nonce);
        reject(fail(`no EXT_PONG within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      (this.#pingWaiters ??= new Map()).set(ping.nonce, {
        sentAt,
        timer,
        resolve,
        reject: (why: string) => reject(fail(why)),
      });
      this.#send(ping);
    });
  }

  /** Sends DRAIN (ANP: "prefer other agents for new dials"). Sent once; later calls do nothing. */
  sendDrain(): void {
    if (this.#isClosed || this.#hasSentDrain) return;
    this.#hasSentDrain = true;
    this.#send({ type: 'DRAIN' });
  }

  /**
   * Graceful close: no new dials (incoming DIAL_REQs are refused 'tunnel-closed'), waits until
   * every stream and pending dial has ended, then ends the transport; resolves on 'close'.
   * In-flight streams are not touched: end them, or call destroy() to stop waiting.
   * Idempotent; resolves immediately once closed.
   */
  close(): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    this.#isClosing = true;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#checkIdle();
    return done;
  }

  /**
   * Abort: resets every stream with 'tunnel-closed' (their 'error' carries `err` as cause),
   * fails pending dials with 'tunnel-closed', aborts incoming dials' signals, clears every
   * timer and destroys the transport (WebSocket close code from `err`, see TUNNEL_CLOSE_CODES).
   * Emits 'close' with `err`. Idempotent.
   */
  destroy(err?: Error): void {
    if (this.#isClosed) return;
    this.#teardown(err);
    this.#transport.destroy(err, closeCodeFor(err));
  }

  // --- demultiplexer: never waits on a stream's consumer ------------------------------------

  readonly #onPacket = (packet: InboundPacket): void => {
    if (this.#isClosed) return;
    try {
      this.#dispatch(packet);
    } catch (err) {
      // A bug of ours must not escape into the transport's event loop turn.
      this.destroy(toError(err));
    }
  };

  #dispatch(p: InboundPacket): void {
    if (p instanceof ProtocolError) {
      this.#onInvalidPacket(p);
      return;
    }
    const isDialer = this.#role === 'dialer';
    switch (p.type) {
      case 'DATA':
        this.#bytesIn += p.data.length;
        noteDataBytes(p.data.length);
        this.#streams.get(p.connectId)?.receiveData(p.data);
        return;
      case 'EXT_WINDOW_UPDATE':
        this.#streams.get(p.connectId)?.receiveWindowUpdate(p.increment);
        return;
      case 'EXT_HALF_CLOSE':
        this.#streams.get(p.connectId)?.receiveHalfClose();
        return;
      case 'DIAL_REQ':
        if (!isDialer) this.#incoming.onDialRequest(p);
        else sendDialFailure(this.#core, p.random, p.address, 'not-allowed', 'dialer side');
        return;
      case 'DIAL_RSP':
        if (isDialer) this.#outgoing.onDialResponse(p);
        return;
      case 'CLOSE_REQ':
        if (!isDialer) this.#incoming.onCloseRequest(p);
        return;
      case 'CLOSE_RSP':
        if (isDialer) this.#onCloseResponse(p.connectId, p.errorCode);
        return;
      case 'DIAL_CLS':
        if (isDialer) this.#outgoing.onCloseDial(p);
        else this.#incoming.onCloseDial(p);
        return;
      case 'DRAIN':
        if (!this.#isPeerDraining) {
          this.#isPeerDraining = true;
          this.emit('peer-drain');
        }
        return;
      case 'EXT_PING':
        if (this.#isPing) this.#send(pongFor(p));
        return;
      case 'EXT_PONG':
        if (this.#isPing) {
          const now = performance.now();
          const rtt = this.#pingTracker.handlePong(p, now);
          if (rtt !== undefined) this.#rttMs = rtt;
          if (rtt !== undefined && this.#pingWaiters !== undefined) this.#settlePings(now);
        }
        return;
      case 'UNKNOWN':
        return; // a newer peer's packet type: ignored, as ANP does
    }
  }

  /** An undecodable or invalid packet: confined to one stream when it names one. */
  #onInvalidPacket(err: ProtocolError): void {
    const id = err.streamId;
    if (id === undefined) {
      this.destroy(err); // the tunnel itself is unreadable
      return;
    }
    const isBadDialRequest =
      err.code === 'PROTO_ERR_INVALID_ADDRESS' || err.code === 'PROTO_ERR_UNSUPPORTED_PROTOCOL';
    if (isBadDialRequest) {
      if (this.#role === 'acceptor') this.#incoming.refuseInvalid(id, err.message);
      return;
    }
    const control = this.#streams.get(id);
    if (control !== undefined) control.violate('protocol', err);
    else if (this.#role === 'dialer') this.#outgoing.failInvalid(id, err);
  }

  #onCloseResponse(id: bigint, code: StreamResetCode | undefined): void {
    const control = this.#streams.get(id);
    if (control !== undefined) control.receiveClose(this.#core.isErrorCodes ? code : undefined);
    else this.#outgoing.forgetCanceled(id);
  }

  // --- streams ------------------------------------------------------------------------------

  #onStreamFinished(control: StreamControl): void {
    const entry = this.#streams.remove(control);
    if (entry === undefined) return;
    this.#drainWaiters?.delete(control);
    if (this.#core.isStreamId) this.#core.ids.release(control.stream.streamId);
    this.#incoming.streamFinished(entry.dialId);
    this.#checkIdle();
  }

  // --- transport and lifecycle --------------------------------------------------------------

  /** Sends any packet now (control packets ignore the brake); a false return engages it. */
  #send(packet: Packet): void {
    if (!this.#isClosed && !this.#transport.send(packet)) this.#isBraked = true;
  }

  /**
   * DATA goes out encoded into a pooled buffer, which the transport returns to the pool once
   * written (packet-buffer-pool.ts): no allocation per packet on the data path.
   */
  #sendData(connectId: bigint, payload: readonly Uint8Array[], byteLength: number): void {
    let bytes: Buffer;
    try {
      bytes = encodeDataPacket(connectId, payload, acquirePacketBuffer);
    } catch (err) {
      this.destroy(toError(err)); // a bug of ours: stream ids are valid by construction
      return;
    }
    this.#bytesOut += byteLength;
    noteDataBytes(byteLength);
    if (!this.#transport.send(bytes)) this.#isBraked = true;
  }

  readonly #onDrain = (): void => {
    this.#isBraked = false;
    // Round-robin: each waiter sends until the brake engages again; the rest wait their turn
    // (a waiter that brakes again re-registers at the end of the set).
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    for (const control of waiters) {
      if (this.#isBraked) return;
      waiters.delete(control);
      control.resumeAfterDrain();
    }
  };

  readonly #onTransportClose = (err?: Error): void => {
    if (this.#isClosed) return;
    const lost = this.#load() > 0 ? 'transport closed with streams open' : undefined;
    this.#teardown(err ?? (lost === undefined ? undefined : sessionClosedError(this.#label, lost)));
  };

  #onPingTick(): void {
    const now = performance.now();
    const oldest = this.#pingTracker.oldestSentAtMs;
    if (oldest !== undefined && now - oldest >= this.#pingTimeoutMs) {
      this.destroy(sessionClosedError(this.#label, `no EXT_PONG within ${this.#pingTimeoutMs} ms`));
      return;
    }
    const ping = this.#pingTracker.createPing(now);
    if (ping !== undefined) this.#send(ping);
  }

  /** Resolves the ping() calls whose pings a pong has settled. */
  #settlePings(now: number): void {
    const waiters = this.#pingWaiters;
    if (waiters === undefined) return;
    for (const [nonce, waiter] of waiters) {
      if (this.#pingTracker.isOutstanding(nonce)) continue;
      waiters.delete(nonce);
      clearTimeout(waiter.timer);
      waiter.resolve(Math.max(0, now - waiter.sentAt));
    }
  }

  #load(): number {
    return this.#streams.size + this.#outgoing.size + this.#incoming.size;
  }

  /** close(): once nothing is in flight, end the transport. */
  #checkIdle(): void {
    if (!this.#isClosing || this.#isEnding || this.#isClosed || this.#load() > 0) return;
    this.#isEnding = true;
    this.#transport.end();
  }

  #teardown(err: Error | undefined): void {
    this.#isClosed = true;
    this.#isClosing = true;
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#pingTracker.clear();
    for (const waiter of this.#pingWaiters?.values() ?? []) {
      clearTimeout(waiter.timer);
      waiter.reject('the session closed');
    }
    this.#pingWaiters?.clear();
    this.#drainWaiters?.clear();
    this.#outgoing.failAll(err);
    this.#incoming.cancelAll(err);
    this.#streams.abandonAll(err);
    this.#transport.off('packet', this.#onPacket);
    this.#transport.off('drain', this.#onDrain);
    this.#transport.off('close', this.#onTransportClose);
    this.emit('close', err);
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
  }
}
