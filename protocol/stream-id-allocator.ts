import { getRandomValues } from 'node:crypto';

import { ProtocolError } from './errors.ts';

/** Largest stream id: ids are positive int64 values, 1 … 2^63 − 1. */
export const MAX_STREAM_ID = 0x7fff_ffff_ffff_ffffn;

/** Options for {@link StreamIdAllocator}. */
export interface StreamIdAllocatorOptions {
  /** Source of 64 random bits (tests inject a deterministic one). Default: node:crypto. */
  readonly random?: () => bigint;
}

/** Draws before giving up: with ids drawn from 2^63 values this only fails with a broken source. */
const MAX_DRAWS = 64;
const POOL_SIZE = 64;

function cryptoRandom(): () => bigint {
  const pool = new BigUint64Array(POOL_SIZE);
  let next = POOL_SIZE;
  return () => {
    if (next === POOL_SIZE) {
      getRandomValues(pool);
      next = 0;
    }
    return pool[next++]!;
  };
}

/**
 * One pool of random ids for every allocator in the process, made on first use: a pool per
 * tunnel cost each idle agent's session ≈ 0.8 KiB (the 512-byte array, its ArrayBuffer and the
 * closure), and which tunnel draws which random value does not matter.
 */
let sharedRandom: (() => bigint) | undefined;

/**
 * The live stream ids of one tunnel (one gRPC stream or WebSocket): allocates dialer-chosen ids
 * and registers peer-chosen ones, and guarantees no id is used twice while it is live.
 *
 * Ids are random 63-bit positive integers, not a counter: DIAL_REQ `random` doubles as the id,
 * and a stock ANP server keys pending dials by `random` across all its frontends, so ids must
 * not collide between independent dialers (ANP's own client uses rand.Int63 for the same
 * reason). Release an id when the stream is finished on both sides; a released id is not
 * handed out again in practice (2^63 values).
 *
 * Pure in-memory state, not shared across tunnels; no timers, nothing to close.
 */
export class StreamIdAllocator {
  /** Made on the first id: an idle tunnel (most of a hub's) never needs one. */
  #live: Set<bigint> | undefined;
  readonly #random: () => bigint;

  constructor(options: StreamIdAllocatorOptions = {}) {
    this.#random = options.random ?? (sharedRandom ??= cryptoRandom());
  }

  /** Number of live ids. */
  get size(): number {
    return this.#live?.size ?? 0;
  }

  /** Whether `id` is live. */
  has(id: bigint): boolean {
    return this.#live?.has(id) ?? false;
  }

  /**
   * A fresh id in 1 … 2^63 − 1, not currently live, now marked live. Throws ProtocolError
   * `PROTO_ERR_STREAM_ID_IN_USE` only if the random source keeps returning live ids or 0.
   */
  allocate(): bigint {
    const live = (this.#live ??= new Set());
    for (let i = 0; i < MAX_DRAWS; i++) {
      const id = this.#random() & MAX_STREAM_ID;
      if (id !== 0n && !live.has(id)) {
        live.add(id);
        return id;
      }
    }
    throw new ProtocolError(
      'PROTO_ERR_STREAM_ID_IN_USE',
      `no free stream id after ${MAX_DRAWS} random draws (${live.size} live): broken random source`,
    );
  }

  /**
   * Marks a peer-chosen id (DIAL_REQ `random` under `stream-id`) live. Throws ProtocolError
   * `PROTO_ERR_INVALID_ID` for an id outside 1 … 2^63 − 1, and `PROTO_ERR_STREAM_ID_IN_USE` if it
   * is already live (the peer reused a live id: refuse that dial, keep the existing stream).
   */
  reserve(id: bigint): void {
    if (typeof id !== 'bigint' || id < 1n || id > MAX_STREAM_ID) {
      throw new ProtocolError(
        'PROTO_ERR_INVALID_ID',
        `stream id ${String(id)} is outside [1, 2^63 - 1]`,
      );
    }
    const live = (this.#live ??= new Set());
    if (live.has(id)) {
      throw new ProtocolError('PROTO_ERR_STREAM_ID_IN_USE', `stream id ${id} is already live`, {
        streamId: id,
      });
    }
    live.add(id);
  }

  /** Marks `id` finished. Returns false if it was not live. Idempotent. */
  release(id: bigint): boolean {
    return this.#live?.delete(id) ?? false;
  }
}
