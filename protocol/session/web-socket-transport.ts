/**
 * PacketTransport over a `ws` WebSocket: one encoded packet per binary message (DESIGN §3.1).
 */
import { EventEmitter } from 'node:events';

import type { RawData, WebSocket } from 'ws';

import { encodePacket, tryDecodePacket } from '../codec.ts';
import { ProtocolError } from '../errors.ts';
import type { OutboundPacket } from '../grpc-services.ts';
import { releasePacketBuffer } from './packet-buffer-pool.ts';
import { sessionClosedError, toError } from './session-errors.ts';
import { TUNNEL_CLOSE_CODES, tunnelCloseCodeName } from './tunnel-close-codes.ts';
import type { PacketTransport } from './types.ts';

/** Options for {@link webSocketTransport}. */
export interface WebSocketTransportOptions {
  /** send() returns false once this many bytes are queued and not yet written. Default 1 MiB. */
  highWaterMarkBytes?: number;
  /** 'drain' is emitted when the queue falls to this many bytes. Default 256 KiB. */
  lowWaterMarkBytes?: number;
  /** After destroy() with a close code, terminate if the close handshake takes longer, ms. Default 1 000. */
  closeTimeoutMs?: number;
}

export const WS_HIGH_WATER_MARK_BYTES = 1024 * 1024;
export const WS_LOW_WATER_MARK_BYTES = 256 * 1024;
export const WS_DESTROY_CLOSE_TIMEOUT_MS = 1_000;
/** Close codes that mean a normal end (RFC 6455): normal, going away, no status. */
const NORMAL_CLOSE_CODES = new Set([1000, 1001, 1005]);
/**
 * `generateMask` for the client end of a tunnel WebSocket (`new WebSocket(url, { generateMask:
 * zeroWebSocketMask })`): every frame's masking key is zero, which `ws` treats as nothing to
 * mask. The frames stay valid (the mask bit and a key are sent), but the sender skips the XOR
 * over every payload byte and the copy of each message into a fresh masked buffer, and the
 * receiver skips the unmasking: on a DATA-heavy tunnel that copy is a large allocation per
 * packet, and what it costs most is the garbage collections it triggers. A deliberate
 * departure from RFC 6455 §5.3, which wants an unpredictable key: the key protects cleartext
 * intermediaries from frames a browser script crafted (§10.3), and on these mTLS connections
 * nothing between the two ends reads the frames, nor does any script write them. `ws` added
 * `generateMask` for exactly this (websockets/ws#1990).
 */
export function zeroWebSocketMask(mask: Buffer): void {
  mask.fill(0);
}

/** `ws.send` options of every packet (ws copies them, never writes to them). */
const BINARY = { binary: true } as const;
/** Close reasons are limited to 123 bytes; ours are short ASCII. */
const MAX_REASON_LENGTH = 100;

/**
 * Adapts an open `ws` WebSocket to {@link PacketTransport}:
 * - each binary message is decoded with `tryDecodePacket` → 'packet' (a text message arrives as
 *   a ProtocolError `PROTO_ERR_MALFORMED`, which makes the session close with 4000);
 * - send() encodes, calls `ws.send(bytes, cb)` (always with a callback, STYLE §5.1) and counts
 *   the bytes until the callback; it returns false at `highWaterMarkBytes` and emits 'drain' when
 *   the queue falls to `lowWaterMarkBytes`; the callback (or a refused send) returns pooled
 *   DATA buffers to their pool;
 * - 'close' once, after the WebSocket closed: no error for 1000/1001/1005 without a socket
 *   error, else ProtocolError `PROTO_ERR_SESSION_CLOSED` with `closeCode` (4000–4999 see
 *   TUNNEL_CLOSE_CODES; 1006 when the connection dropped);
 * - end(): close 1000; destroy(err, closeCode): close with that code (terminate if the peer
 *   does not answer within closeTimeoutMs), or terminate at once without a code.
 *
 * Call it right after the WebSocket opened, before any other listener could miss an 'error'.
 * Sets `binaryType` to 'nodebuffer'. Owns the WebSocket from then on.
 */
export function webSocketTransport(
  ws: WebSocket,
  options: WebSocketTransportOptions = {},
): PacketTransport {
  return new WebSocketTransport(ws, options);
}

class WebSocketTransport extends EventEmitter implements PacketTransport {
  readonly #ws: WebSocket;
  readonly #high: number;
  readonly #low: number;
  readonly #closeTimeoutMs: number;
  #bufferedBytes = 0;
  #isBraked = false;
  #isEnding = false;
  #isClosed = false;
  #error: Error | undefined;
  #closeCode: number | undefined;
  #terminateTimer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, options: WebSocketTransportOptions) {
    super();
    this.#ws = ws;
    this.#high = options.highWaterMarkBytes ?? WS_HIGH_WATER_MARK_BYTES;
    this.#low = Math.min(options.lowWaterMarkBytes ?? WS_LOW_WATER_MARK_BYTES, this.#high);
    this.#closeTimeoutMs = options.closeTimeoutMs ?? WS_DESTROY_CLOSE_TIMEOUT_MS;
    ws.binaryType = 'nodebuffer';
    ws.on('error', (err: Error) => {
      this.#error ??= err;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason));
    if (ws.readyState === ws.CLOSED) queueMicrotask(() => this.#onClose(1006, Buffer.alloc(0)));
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  send(packet: OutboundPacket): boolean {
    if (this.#isClosed || this.#isEnding || this.#ws.readyState !== this.#ws.OPEN) {
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
    this.#ws.send(bytes, BINARY, (err?: Error) => {
      releasePacketBuffer(bytes); // ws has written it (or failed): nothing reads it again
      this.#bufferedBytes -= size;
      if (err !== undefined && err !== null) {
        this.#error ??= err; // ws closes the socket itself; 'close' follows
        return;
      }
      if (this.#isBraked && this.#bufferedBytes <= this.#low && !this.#isClosed) {
        this.#isBraked = false;
        this.emit('drain');
      }
    });
    if (this.#bufferedBytes >= this.#high) this.#isBraked = true;
    return !this.#isBraked;
  }

  end(): void {
    if (this.#isClosed || this.#isEnding) return;
    this.#isEnding = true;
    this.#ws.close(1000);
  }

  destroy(err?: Error, closeCode?: number): void {
    if (this.#isClosed) return;
    this.#error ??= err;
    this.#isEnding = true;
    if (closeCode !== undefined && this.#ws.readyState === this.#ws.OPEN) {
      this.#closeCode = closeCode;
      const name = tunnelCloseCodeName(closeCode) ?? 'error';
      const reason = (err === undefined ? name : `${name}: ${err.message}`).slice(
        0,
        MAX_REASON_LENGTH,
      );
      this.#ws.close(
        closeCode,
        Buffer.from(reason, 'utf8').subarray(0, MAX_REASON_LENGTH).toString('utf8'),
      );
      this.#terminateTimer = setTimeout(() => this.#ws.terminate(), this.#closeTimeoutMs);
      this.#terminateTimer.unref();
    } else {
      this.#ws.terminate();
    }
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#isClosed) return;
    if (!isBinary) {
      this.emit(
        'packet',
        new ProtocolError('PROTO_ERR_MALFORMED', 'text message on a tunnel WebSocket'),
      );
      return;
    }
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    this.emit('packet', tryDecodePacket(bytes));
  }

  #onClose(code: number, reason: Buffer): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#isBraked = false;
    if (this.#terminateTimer !== undefined) clearTimeout(this.#terminateTimer);
    this.#terminateTimer = undefined;
    const isNormal = NORMAL_CLOSE_CODES.has(code) && this.#error === undefined;
    if (isNormal) {
      this.emit('close');
      return;
    }
    const closeCode = this.#closeCode ?? code;
    const name = tunnelCloseCodeName(closeCode);
    const text = reason.length > 0 ? `: ${reason.toString('utf8')}` : '';
    const message = `WebSocket closed with ${closeCode}${name === undefined ? '' : ` (${name})`}${text}`;
    this.emit(
      'close',
      sessionClosedError('websocket transport', message, {
        closeCode,
        ...(this.#error === undefined ? {} : { cause: this.#error }),
      }),
    );
  }
}
