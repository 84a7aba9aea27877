/** The open streams of one session, by stream id (internal). */
import { publishStreamClose, publishStreamOpen } from './diagnostics.ts';
import type { StreamControl, StreamHost } from './stream-host.ts';
import { TunnelStream } from './tunnel-stream.ts';

/** One registered stream. */
export interface StreamEntry {
  readonly control: StreamControl;
  /** DIAL_REQ `random` that opened it (equal to the id with stream-id). */
  readonly dialId: bigint;
  readonly address: string;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/**
 * Creates streams, finds them by id for the demultiplexer, and forgets them when they finish
 * (publishing stream:open and stream:close). A dial's AbortSignal stays wired to its stream
 * (abort → reset 'canceled') until the stream finishes.
 */
export class StreamRegistry {
  readonly #host: StreamHost;
  /** Made with the first stream: most tunnels of a hub are idle, and never need it. */
  #streams: Map<bigint, StreamEntry> | undefined;

  constructor(host: StreamHost) {
    this.#host = host;
  }

  get size(): number {
    return this.#streams?.size ?? 0;
  }

  get(id: bigint): StreamControl | undefined {
    return this.#streams?.get(id)?.control;
  }

  /** Bytes received and not yet read, all streams. */
  bufferedBytes(): number {
    let total = 0;
    for (const entry of this.#streams?.values() ?? []) total += entry.control.bufferedBytes();
    return total;
  }

  open(id: bigint, address: string, dialId: bigint, signal: AbortSignal | undefined): TunnelStream {
    let control: StreamControl | undefined;
    const stream = new TunnelStream({
      host: this.#host,
      streamId: id,
      address,
      bindControl: (c) => (control = c),
    });
    const onAbort = signal === undefined ? undefined : () => stream.reset('canceled');
    (this.#streams ??= new Map()).set(id, { control: control!, dialId, address, signal, onAbort });
    const { label, role } = this.#host;
    publishStreamOpen(() => ({ label, role, streamId: id, address }));
    if (signal !== undefined && onAbort !== undefined) {
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    return stream;
  }

  /** Forgets a finished stream; returns its entry, or undefined if `control` is not registered. */
  remove(control: StreamControl): StreamEntry | undefined {
    const { stream } = control;
    const entry = this.#streams?.get(stream.streamId);
    if (entry === undefined || entry.control !== control) return undefined;
    this.#streams?.delete(stream.streamId);
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    const { label, role } = this.#host;
    publishStreamClose(() => ({
      label,
      role,
      streamId: stream.streamId,
      address: entry.address,
      resetCode: stream.resetCode,
      bytesIn: stream.bytesIn,
      bytesOut: stream.bytesOut,
    }));
    return entry;
  }

  /** The session is gone: every stream is destroyed with 'tunnel-closed' and removed. */
  abandonAll(cause: Error | undefined): void {
    for (const entry of [...(this.#streams?.values() ?? [])]) entry.control.abandon(cause);
    this.#streams?.clear();
  }
}
