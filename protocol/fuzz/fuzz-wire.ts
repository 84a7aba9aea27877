/**
 * An in-memory packet channel between two real TunnelSessions whose delivery the fuzzer
 * schedules: the session takes an abstract PacketTransport, and this drives that interface with
 * the real codec on both ends (every packet is encoded to bytes and decoded by `tryDecodePacket`
 * on arrival), so the fuzzer controls the interleaving of the two directions and can put any
 * bytes on the wire. The session tests over real gRPC and WebSocket loopback
 * (session/*.test.ts) cover the adapters themselves. Test code only.
 *
 * Semantics follow the real adapters: ordered delivery per direction; send() returns false
 * above `highWaterMarkBytes` and 'drain' follows once the queue falls to a quarter of it;
 * end() closes gracefully once both directions are delivered; destroy(err, closeCode) drops
 * what is queued and the peer sees 'close' with PROTO_ERR_SESSION_CLOSED and that closeCode
 * (like a WebSocket close frame) when the fuzzer delivers that direction next.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';

import { decodePacket, encodePacket, tryDecodePacket } from '../codec.ts';
import { ProtocolError } from '../errors.ts';
import type { OutboundPacket } from '../grpc-services.ts';
import type { DecodedPacket } from '../packet.ts';
import { releasePacketBuffer } from '../session/packet-buffer-pool.ts';
import { TUNNEL_CLOSE_CODES } from '../session/tunnel-close-codes.ts';
import type { PacketTransport } from '../session/types.ts';

/** The two ends: the dialer session's and the acceptor session's. */
export type Side = 'dialer' | 'acceptor';

export function otherSide(side: Side): Side {
  return side === 'dialer' ? 'acceptor' : 'dialer';
}

type Item = { readonly bytes: Buffer } | { readonly close: Error | undefined };

/** Observes packets: what a session sent (decoded from its bytes) and what was delivered. */
export interface WireObserver {
  sent(from: Side, packet: DecodedPacket): void;
  delivered(to: Side, packet: DecodedPacket | ProtocolError, isInjected: boolean): void;
}

class WireEnd extends EventEmitter implements PacketTransport {
  readonly #wire: FuzzWire;
  readonly #side: Side;

  constructor(wire: FuzzWire, side: Side) {
    super();
    this.#wire = wire;
    this.#side = side;
  }

  get bufferedBytes(): number {
    return this.#wire.queuedBytes(this.#side);
  }

  send(packet: OutboundPacket): boolean {
    return this.#wire.enqueue(this.#side, packet);
  }

  end(): void {
    this.#wire.endFrom(this.#side);
  }

  destroy(err?: Error, closeCode?: number): void {
    this.#wire.destroyFrom(this.#side, err, closeCode);
  }
}

/** See the file comment. Not thread-safe in any sense that matters: one event loop. */
export class FuzzWire {
  readonly #ends: Record<Side, WireEnd>;
  readonly #queues: Record<Side, Item[]> = { dialer: [], acceptor: [] };
  readonly #queued: Record<Side, number> = { dialer: 0, acceptor: 0 };
  readonly #isBraked: Record<Side, boolean> = { dialer: false, acceptor: false };
  readonly #isEnded: Record<Side, boolean> = { dialer: false, acceptor: false };
  readonly #isClosed: Record<Side, boolean> = { dialer: false, acceptor: false };
  readonly #high: number;
  readonly #observer: WireObserver;

  constructor(highWaterMarkBytes: number, observer: WireObserver) {
    this.#high = highWaterMarkBytes;
    this.#observer = observer;
    this.#ends = { dialer: new WireEnd(this, 'dialer'), acceptor: new WireEnd(this, 'acceptor') };
  }

  /** The transport a session on `side` uses. */
  end(side: Side): PacketTransport {
    return this.#ends[side];
  }

  queuedBytes(from: Side): number {
    return this.#queued[from];
  }

  /** Items (packets or a close) waiting to go from `from` to the other side. */
  pending(from: Side): number {
    return this.#queues[from].length;
  }

  isClosed(side: Side): boolean {
    return this.#isClosed[side];
  }

  enqueue(from: Side, packet: OutboundPacket): boolean {
    if (this.#isClosed[from] || this.#isEnded[from]) {
      if (packet instanceof Uint8Array) releasePacketBuffer(packet);
      return false;
    }
    let bytes: Buffer;
    if (packet instanceof Uint8Array) {
      bytes = Buffer.from(packet); // a copy: the pooled buffer goes back at once
      releasePacketBuffer(packet);
    } else {
      bytes = encodePacket(packet); // throws for an invalid packet: a session bug, let it surface
    }
    // Every packet an honest session sends must decode, and to a valid packet.
    this.#observer.sent(from, decodePacket(bytes));
    this.#queues[from].push({ bytes });
    this.#queued[from] += bytes.length;
    if (this.#queued[from] >= this.#high) this.#isBraked[from] = true;
    return !this.#isBraked[from];
  }

  /**
   * Delivers up to `count` items from `from` to the other side, synchronously (as a transport
   * delivers every message of one socket read in one event-loop turn). Returns how many.
   */
  deliver(from: Side, count: number): number {
    const to = otherSide(from);
    let n = 0;
    while (n < count && this.#queues[from].length > 0) {
      const item = this.#queues[from].shift()!;
      n++;
      if ('close' in item) {
        this.#closeEnd(to, item.close);
        continue;
      }
      this.#queued[from] -= item.bytes.length;
      if (!this.#isClosed[to]) {
        const packet = tryDecodePacket(item.bytes);
        this.#observer.delivered(to, packet, false);
        this.#ends[to].emit('packet', packet);
      }
      if (this.#isBraked[from] && this.#queued[from] <= this.#high / 4 && !this.#isClosed[from]) {
        this.#isBraked[from] = false;
        this.#ends[from].emit('drain');
      }
    }
    this.#maybeFinishEnd();
    return n;
  }

  /** Puts `bytes` on the wire to `to` now, ahead of anything queued (a hostile peer). */
  inject(to: Side, bytes: Uint8Array): DecodedPacket | ProtocolError {
    const packet = tryDecodePacket(bytes);
    if (this.#isClosed[to]) return packet;
    this.#observer.delivered(to, packet, true);
    this.#ends[to].emit('packet', packet);
    return packet;
  }

  endFrom(side: Side): void {
    if (this.#isEnded[side] || this.#isClosed[side]) return;
    this.#isEnded[side] = true;
    this.#maybeFinishEnd();
  }

  destroyFrom(side: Side, err: Error | undefined, closeCode: number | undefined): void {
    if (this.#isClosed[side]) return;
    const peer = otherSide(side);
    this.#queues[side] = [];
    this.#queued[side] = 0;
    this.#isEnded[side] = true;
    const code = closeCode ?? 1006;
    const seen = new ProtocolError(
      'PROTO_ERR_SESSION_CLOSED',
      `fuzz wire: peer closed with ${code}${err === undefined ? '' : `: ${err.message}`}`,
      { closeCode: code },
    );
    if (!this.#isClosed[peer]) this.#queues[side].push({ close: seen });
    this.#closeEnd(side, err ?? seen);
  }

  /** Graceful end: once both directions have nothing queued, both ends close without error. */
  #maybeFinishEnd(): void {
    const isEnding = this.#isEnded.dialer || this.#isEnded.acceptor;
    if (!isEnding || this.#queues.dialer.length > 0 || this.#queues.acceptor.length > 0) return;
    for (const side of ['dialer', 'acceptor'] as const) {
      if (this.#isEnded[side] && !this.#isClosed[side]) {
        const peer = otherSide(side);
        this.#closeEnd(side, undefined);
        this.#closeEnd(peer, undefined);
      }
    }
  }

  #closeEnd(side: Side, err: Error | undefined): void {
    if (this.#isClosed[side]) return;
    this.#isClosed[side] = true;
    this.#isEnded[side] = true;
    this.#isBraked[side] = false;
    const end = this.#ends[side];
    queueMicrotask(() => end.emit('close', err));
  }
}

/** The close code a session that read garbage sends (WebSocket semantics). */
export const GARBAGE_CLOSE_CODE = TUNNEL_CLOSE_CODES.PROTOCOL_ERROR;
