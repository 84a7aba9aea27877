/**
 * Holds a dialed stream's 'error' until its owner listens (internal). dial() hands the stream
 * over through a promise, so the caller attaches its listeners one promise continuation later;
 * a reset that arrives in the same I/O callback as the DIAL_RSP (an acceptor that accepts and
 * resets at once: both packets in one socket read) destroys the stream with an 'error' emitted
 * on process.nextTick, which runs before that continuation. Unheld, that 'error' has no
 * listener and takes the whole process (every tunnel of a proxy-server) down. Found by the
 * session fuzzer (protocol/fuzz/); regression test: early-reset.test.ts.
 */
import type { Duplex } from 'node:stream';

/**
 * Until the first 'error' listener other than its own is added to `stream`, keeps the stream's
 * error instead of letting it go unhandled, and hands it to that listener on the next tick.
 * From then on 'error' behaves as usual. The stream is destroyed either way; `stream.errored`
 * shows the error at once. Call it before the stream is handed to its owner.
 */
export function holdEarlyErrors(stream: Duplex): void {
  let held: { readonly err: unknown } | undefined;
  const hold = (err: unknown): void => {
    held ??= { err };
  };
  const onNewListener = (event: string | symbol): void => {
    if (event !== 'error') return;
    stream.off('error', hold);
    stream.off('newListener', onNewListener);
    if (held !== undefined) {
      const { err } = held;
      process.nextTick(() => stream.emit('error', err));
    }
  };
  stream.on('error', hold);
  stream.on('newListener', onNewListener);
}
