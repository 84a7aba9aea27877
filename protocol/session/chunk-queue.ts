/**
 * FIFO of byte chunks with O(1) push/shift and a running byte total: a stream's receive queue
 * (bytes the peer sent that the consumer has not pulled yet). Internal; not exported.
 */
export class ChunkQueue {
  #items: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;

  /** Chunks queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }

  push(chunk: Uint8Array): void {
    this.#items.push(chunk);
    this.#bytes += chunk.length;
  }

  /** Removes and returns the oldest chunk, undefined when empty. */
  shift(): Uint8Array | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const chunk = this.#items[this.#head]!;
    this.#items[this.#head] = EMPTY;
    this.#head++;
    this.#bytes -= chunk.length;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return chunk;
  }

  /** Removes and returns every chunk, oldest first. */
  takeAll(): Uint8Array[] {
    const chunks = this.#head === 0 ? this.#items : this.#items.slice(this.#head);
    this.clear();
    return chunks;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

const EMPTY = new Uint8Array(0);
const COMPACT_AT = 1024;
