/**
 * Reusable buffers for encoded DATA packets (internal to session/). Each DATA packet used to be
 * encoded into a fresh buffer of up to 64 KiB, dropped as soon as the socket took it: at tunnel
 * speeds that is hundreds of MB/s of short-lived external memory, and V8 answers external-memory
 * growth with full garbage collections (about a fifth of the proxy-server's CPU in the tunnel
 * benchmark). Here a packet's buffer goes back to a free list once the transport reports the
 * bytes written (the send callback) and the next packet reuses it.
 *
 * Ownership: {@link acquirePacketBuffer} lends a buffer; the transport that sends it calls
 * {@link releasePacketBuffer} with that same object once nothing will read it again (ws: the
 * `send` callback; grpc-js: the `write` callback, by which time grpc-js has copied the message
 * into its own framed buffer). Releasing bytes that were never lent, or a second time, does
 * nothing, so a transport may release everything it sent. A buffer that is never released is
 * simply collected.
 *
 * One pool per process, shared by every session; single-threaded like the rest of Node.
 */
import { Buffer } from 'node:buffer';

import { MAX_DATA_CHUNK_BYTES } from '../constants.ts';
import { MAX_DATA_OVERHEAD_BYTES } from '../data-codec.ts';

/** Size of every pooled buffer: the largest DATA packet our senders produce. */
export const PACKET_BUFFER_BYTES = MAX_DATA_CHUNK_BYTES + MAX_DATA_OVERHEAD_BYTES;
/**
 * Free buffers kept for reuse (2 MiB at most). More can be lent at once (each transport holds
 * up to its high-water mark in flight); beyond this many, released buffers are dropped.
 */
export const MAX_FREE_PACKET_BUFFERS = 16;

const free: Buffer[] = [];
/**
 * Lent views → their pooled buffer. Keyed by the very view lent out, so that only that view
 * returns the buffer: a stale view from an earlier lending cannot free it while it is lent again.
 */
const lent = new WeakMap<Uint8Array, Buffer>();
let lentCount = 0;

/**
 * A buffer of exactly `size` bytes (contents undefined): a view of a pooled buffer when `size`
 * ≤ {@link PACKET_BUFFER_BYTES}, else a fresh one that is not pooled.
 */
export function acquirePacketBuffer(size: number): Buffer {
  if (size > PACKET_BUFFER_BYTES) return Buffer.allocUnsafe(size);
  const slot = free.pop() ?? Buffer.allocUnsafeSlow(PACKET_BUFFER_BYTES);
  const view = slot.subarray(0, size);
  lent.set(view, slot);
  lentCount++;
  return view;
}

/**
 * Returns a lent buffer to the pool: `bytes` must be the very object {@link acquirePacketBuffer}
 * returned. A no-op for anything else, and for a second release.
 */
export function releasePacketBuffer(bytes: Uint8Array): void {
  const slot = lent.get(bytes);
  if (slot === undefined) return;
  lent.delete(bytes);
  lentCount--;
  if (free.length < MAX_FREE_PACKET_BUFFERS) free.push(slot);
}

/** For tests: buffers on the free list, and buffers lent and not yet released. */
export function packetBufferPoolStats(): { free: number; lent: number } {
  return { free: free.length, lent: lentCount };
}
