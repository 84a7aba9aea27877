import { createServer, type Server, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

/** A TCP server on 127.0.0.1:0 for dial targets; closed (with its sockets) after the test. */
export interface TestTarget {
  readonly address: string;
  readonly port: number;
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

async function listen(handler: (socket: Socket) => void): Promise<TestTarget> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    handler(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const target: TestTarget = {
    address: `127.0.0.1:${port}`,
    port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  onTestFinished(() => target.close());
  return target;
}

/** Echoes every byte back; ends its side when the peer ends (half-close respected). */
export function startEchoTarget(): Promise<TestTarget> {
  return listen((socket) => socket.pipe(socket));
}

/** Runs `handler` for each connection. */
export function startTarget(handler: (socket: Socket) => void): Promise<TestTarget> {
  return listen(handler);
}
