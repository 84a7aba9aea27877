/**
 * Test helper: a loopback TCP port whose SYNs go unanswered, for dial-timeout tests.
 *
 * The textbook non-routable address (10.255.255.1) does not work on machines whose egress is
 * intercepted (this sandbox answers every outbound SYN), so instead: a listener with backlog 1
 * in a worker thread that blocks before it ever accepts. Once its accept queue is full, Linux
 * drops further SYNs and a connect hangs until the client gives up. Linux-specific.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createServer } = require('node:net');
const server = createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  // Blocks this thread's event loop, so nothing is ever accepted, until the parent notifies.
  Atomics.wait(new Int32Array(workerData), 0, 0, 120000);
  server.close();
});
`;

/** A port where connects hang; `close()` releases it. */
export interface BlackHole {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a black-hole listener and fills its accept queue. */
export async function startBlackHole(): Promise<BlackHole> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: flag.buffer });
  worker.on('error', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (value: number) => resolve(value));
    worker.once('exit', () => reject(new Error('black-hole worker exited early')));
  });
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    await new Promise<void>((resolve) => {
      if (worker.threadId === -1) resolve();
      else worker.once('exit', () => resolve());
    });
  };
  // Fill the accept queue (backlog + 1 on Linux) until a connect no longer completes.
  for (let i = 0; i < 8; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    fillers.push(socket);
    const isConnected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!isConnected) return { host: '127.0.0.1', port, close };
  }
  await close();
  throw new Error('could not fill the black-hole accept queue');
}
