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
 */
export async function pushBulk(socket: Duplex, bytes: number, chunk: Buffer): Promise<number> {
  const started = process.hrtime.bigint();
  const reply: Buffer[] = [];
  socket.on('data', (d: Buffer) => reply.push(d));
  const ended = once(socket, 'end');
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  socket.end();
  await ended;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const count = Buffer.concat(reply).readBigUInt64BE(0);
  if (count !== BigInt(Math.ceil(bytes / chunk.length) * chunk.length))
    throw new Error(`sink counted ${count}`);
  socket.destroy();
  return bytes / 1e6 / seconds;
}
