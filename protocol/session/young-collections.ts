/**
 * Young-generation collections paced by the tunnel's data (internal to session/).
 *
 * Each byte a tunnel moves passes through Buffers that die within microseconds (the TLS
 * record's plaintext Node reads, the WebSocket or HTTP/2 message reassembled from those
 * records, the TLS output of a socket layered on a stream). Their memory is outside V8's heap but
 * counted by it, and V8 frees dead ones at its next collection of either kind. It runs a young
 * collection (a scavenge: cost in proportion to what is still alive, well under a millisecond
 * here) only when its young generation has filled with JavaScript objects, and a relay allocates
 * few of those per byte; so the external memory piled up to V8's other trigger first, about 64
 * MiB since the last full collection, and a process relaying 200 MB/s ran several full
 * mark-compacts of its whole heap a second (a third of the proxy-server's CPU in `npm run
 * bench:tunnel`).
 *
 * So every {@link YOUNG_COLLECTION_EVERY_BYTES} of DATA the process's sessions sent and received
 * together, the session asks V8 for a scavenge, which frees those Buffers while they are young.
 * That needs V8's `gc` function, which Node exposes only with `--expose-gc`: the `spokelink`
 * command starts its processes with it (bin/v8-flags.ts). Without it this does nothing.
 *
 * One counter per process (collections are per process), shared by every session.
 */

/**
 * DATA bytes (sent plus received, all sessions) between two requested young collections. A
 * relaying proxy-server counts each byte twice and allocates about twice its size in Buffers,
 * so this keeps the Buffers between two scavenges well below V8's 64 MiB trigger.
 */
export const YOUNG_COLLECTION_EVERY_BYTES = 8 * 1024 * 1024;

type Collect = (options: { type: 'minor' }) => void;

let collect: Collect | null | undefined;
let sinceLast = 0;

/** Counts `byteLength` bytes of DATA moved; asks for a young collection every so often. */
export function noteDataBytes(byteLength: number): void {
  sinceLast += byteLength;
  if (sinceLast < YOUNG_COLLECTION_EVERY_BYTES) return;
  // Keep the overshoot: one request per YOUNG_COLLECTION_EVERY_BYTES, whatever the packet sizes.
  sinceLast %= YOUNG_COLLECTION_EVERY_BYTES;
  if (collect === undefined) {
    const gc = (globalThis as { gc?: unknown }).gc;
    collect = typeof gc === 'function' ? (gc as Collect) : null;
  }
  collect?.({ type: 'minor' });
}
