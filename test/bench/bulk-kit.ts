// Bulk-transfer pieces of the tunnel benchmark: loopback listeners, a counting sink, and the
// timed push that checks the sink's count.
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

/** Listens on 127.0.0.1, an ephemeral port; resolves `127.0.0.1:<port>`. */
export function listenLoopback(server: {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): unknown;
}): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`127.0.0.1:${(server.address() as { port: number }).port}`),
    ),
  );
}

/** Counts what it receives; answers the count (8 bytes) when the sender ends. */
export function countingSink(socket: Duplex): void {
  let n = 0;
  socket.on('error', () => {});
  socket.on('data', (d: Buffer) => (n += d.length));
  socket.on('end', () => {
    const reply = Buffer.alloc(8);
    reply.writeBigUInt64BE(BigInt(n));
    socket.end(reply);
  });
}

/**
 * Writes `chunk` until at least `bytes` went out (with backpressure), ends, and waits for a
 * {@link countingSink}'s count; throws if it differs. Destroys the socket. MB/s (10^6 B/s).
 * The writer is a plain 'drain' callback (no promise per drain), so that the measuring client
 * costs every path as little as it can.
 */
export async function pushBulk(socket: Duplex, bytes: number, chunk: Buffer): Promise<number> {
  const started = process.hrtime.bigint();
  const reply: Buffer[] = [];
  socket.on('data', (d: Buffer) => reply.push(d));
  const ended = once(socket, 'end');
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes) {
      sent += chunk.length;
      if (!socket.write(chunk)) return; // 'drain' calls pump again
    }
    socket.off('drain', pump);
    socket.end();
  };
  socket.on('drain', pump);
  pump();
  await ended;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const count = Buffer.concat(reply).readBigUInt64BE(0);
  if (count !== BigInt(Math.ceil(bytes / chunk.length) * chunk.length))
    throw new Error(`sink counted ${count}`);
  socket.destroy();
  return bytes / 1e6 / seconds;
}

/** Writes `chunk` as fast as the socket takes it, until the socket closes. */
export function endlessSource(socket: Duplex, chunk: Buffer): void {
  socket.on('error', () => {});
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk));
  };
  socket.on('drain', pump);
  pump();
}

/**
 * Reads from an {@link endlessSource} until at least `bytes` arrived, then destroys the socket.
 * MB/s (10^6 B/s).
 */
export async function pullBulk(socket: Duplex, bytes: number): Promise<number> {
  const started = process.hrtime.bigint();
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= bytes) resolve();
    });
    socket.once('error', reject);
    socket.once('end', () => reject(new Error(`source ended after ${received} bytes`)));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  socket.destroy();
  return received / 1e6 / seconds;
}
