/**
 * PacketTransport over a grpc-js bidi call of AgentService.Connect or ProxyService.Proxy, made
 * with `loadTunnelServices()` (its deserializer already yields InboundPacket).
 */
import { EventEmitter } from 'node:events';

import type { ClientDuplexStream, ServerDuplexStream, StatusObject } from '@grpc/grpc-js';

import { encodePacket } from '../codec.ts';
import type { InboundPacket, OutboundPacket } from '../grpc-services.ts';
import { releasePacketBuffer } from './packet-buffer-pool.ts';
import { sessionClosedError, toError } from './session-errors.ts';
import { TUNNEL_CLOSE_CODES } from './tunnel-close-codes.ts';
import type { PacketTransport } from './types.ts';

/** A client call (agent on Connect, frontend on Proxy) or a server call (their handlers). */
export type TunnelCall =
  | ClientDuplexStream<OutboundPacket, InboundPacket>
  | ServerDuplexStream<InboundPacket, OutboundPacket>;

// gRPC status codes (grpc-js `status`), as numbers so protocol/ needs grpc-js types only.
const STATUS_OK = 0;
const STATUS_INTERNAL = 13;
const STATUS_UNAVAILABLE = 14;
const STATUS_UNAUTHENTICATED = 16;
const STATUS_PERMISSION_DENIED = 7;
const STATUS_RESOURCE_EXHAUSTED = 8;

/** The status a server call ends with when destroyed with a tunnel close code. */
const STATUS_BY_CLOSE_CODE = new Map<number, number>([
  [TUNNEL_CLOSE_CODES.PROTOCOL_ERROR, STATUS_INTERNAL],
  [TUNNEL_CLOSE_CODES.UNAUTHORIZED, STATUS_UNAUTHENTICATED],
  [TUNNEL_CLOSE_CODES.CLUSTER_MISMATCH, STATUS_PERMISSION_DENIED],
  [TUNNEL_CLOSE_CODES.DRAINING, STATUS_UNAVAILABLE],
  [TUNNEL_CLOSE_CODES.OVERLOADED, STATUS_RESOURCE_EXHAUSTED],
]);

function isClientCall(call: TunnelCall): call is ClientDuplexStream<OutboundPacket, InboundPacket> {
  return typeof (call as { cancel?: unknown }).cancel === 'function';
}

/**
 * Adapts a grpc-js bidi call to {@link PacketTransport}:
 * - 'data' (InboundPacket) → 'packet'; the call stays in flowing mode (the session never blocks);
 * - send() encodes once (to count `bufferedBytes`), writes with a callback and returns the
 *   call's write() result (its objectMode highWaterMark is the brake); the call's 'drain' →
 *   'drain'; the write callback (or a refused send) returns pooled DATA buffers to their pool;
 * - the first of 'error', 'end', 'status' (client), 'cancelled' (server), 'close' → one
 *   'close'; an OK end carries no error, anything else a ProtocolError
 *   `PROTO_ERR_SESSION_CLOSED` with the gRPC error as cause;
 * - end(): half-close (client) or OK status (server); after the peer's end, the call is
 *   ended from our side too, so the RPC completes;
 * - destroy(): cancel (client) or a non-OK status (server; close code → status).
 *
 * Call it right after the call is created, before any I/O: it attaches the 'error' listener.
 * Owns the call from then on.
 */
export function grpcCallTransport(call: TunnelCall): PacketTransport {
  return new GrpcCallTransport(call);
}

class GrpcCallTransport extends EventEmitter implements PacketTransport {
  readonly #call: TunnelCall;
  readonly #isClient: boolean;
  #bufferedBytes = 0;
  #isBraked = false;
  #isEnded = false;
  #isClosed = false;
  #error: Error | undefined;

  constructor(call: TunnelCall) {
    super();
    this.#call = call;
    this.#isClient = isClientCall(call);
    // Listeners stay attached for the call's life: a late 'error' must never go unhandled.
    call.on('error', (err: Error) => {
      this.#error ??= err;
      this.#closeOnce();
    });
    call.on('data', (packet: InboundPacket) => {
      if (!this.#isClosed) this.emit('packet', packet);
    });
    call.on('drain', () => {
      if (this.#isBraked && !this.#isClosed) {
        this.#isBraked = false;
        this.emit('drain');
      }
    });
    call.on('end', () => {
      // The peer sent its last message. End ours too so the RPC completes; a client waits
      // for the status, which follows at once.
      this.#endCall();
      if (!this.#isClient) this.#closeOnce();
    });
    call.on('close', () => this.#closeOnce());
    if (this.#isClient) {
      call.on('status', (status: StatusObject) => {
        if (status.code !== STATUS_OK) {
          this.#error ??= new Error(`gRPC status ${status.code}: ${status.details}`);
        }
        this.#closeOnce();
      });
    } else {
      call.on('cancelled', () => {
        this.#error ??= new Error('gRPC call cancelled by the peer');
        this.#closeOnce();
      });
      call.on('finish', () => {
        if (this.#isEnded) this.#closeOnce(); // our status went out: the RPC is over
      });
    }
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  send(packet: OutboundPacket): boolean {
    if (this.#isClosed || this.#isEnded) {
      if (packet instanceof Uint8Array) releasePacketBuffer(packet);
      return false;
    }
    let bytes: Uint8Array;
    try {
      bytes = packet instanceof Uint8Array ? packet : encodePacket(packet);
    } catch (err) {
      this.destroy(toError(err), TUNNEL_CLOSE_CODES.PROTOCOL_ERROR);
      return false;
    }
    const size = bytes.length;
    this.#bufferedBytes += size;
    const isBelowMark = this.#call.write(bytes, () => {
      // grpc-js copied the message into its own framed buffer before this runs.
      releasePacketBuffer(bytes);
      this.#bufferedBytes -= size;
    });
    if (!isBelowMark) this.#isBraked = true;
    return isBelowMark;
  }

  end(): void {
    if (this.#isClosed) return;
    this.#endCall();
  }

  destroy(err?: Error, closeCode?: number): void {
    if (this.#isClosed) return;
    this.#error ??= err;
    if (isClientCall(this.#call)) {
      this.#call.cancel();
    } else {
      const code =
        (closeCode === undefined ? undefined : STATUS_BY_CLOSE_CODE.get(closeCode)) ??
        STATUS_UNAVAILABLE;
      // grpc-js ends a server call with the status of an emitted error object.
      this.#call.emit('error', { code, details: err?.message ?? 'tunnel closed' });
    }
    this.#closeOnce();
  }

  #endCall(): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    this.#call.end();
  }

  #closeOnce(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#isBraked = false;
    const err = this.#error;
    this.emit(
      'close',
      err === undefined
        ? undefined
        : sessionClosedError('grpc transport', err.message, { cause: err }),
    );
  }
}
