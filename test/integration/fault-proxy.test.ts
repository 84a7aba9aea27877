// The fault-injecting TCP proxy of test/framework against a real echo server on loopback: each
// mode does what the fault tests rely on.
import { connect, type Socket } from 'node:net';

import { describe, expect, it, onTestFinished } from 'vitest';

import { startFaultProxy } from '../framework/fault-proxy.ts';
import { eventually } from '../framework/kubectl.ts';
import { startEchoTarget } from '../framework/targets.ts';

/** A client of `port` that collects what it receives and how it ended. */
async function client(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  let error: NodeJS.ErrnoException | undefined;
  let isClosed = false;
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', (err) => (error = err));
  socket.on('close', () => (isClosed = true));
  onTestFinished(() => void socket.destroy());
  // A reset can beat the 'connect' event: either ends the wait.
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  return {
    socket,
    received: () => received,
    error: () => error,
    isClosed: () => isClosed,
  };
}

async function proxyToEcho() {
  const echo = await startEchoTarget();
  const proxy = await startFaultProxy({ target: echo.address, delayMs: 50 });
  onTestFinished(() => proxy.close());
  return { echo, proxy };
}

describe('fault proxy', () => {
  it('passes bytes both ways, in order, and half-closes', async () => {
    const { proxy } = await proxyToEcho();
    const c = await client(proxy.port);
    const sent = Array.from({ length: 200 }, (_, i) => `chunk-${i};`);
    for (const s of sent) c.socket.write(s);
    c.socket.end();
    await eventually('the echo', async () => (c.isClosed() ? true : undefined), 10_000, 20);
    expect(c.received()).toBe(sent.join(''));
    expect(c.error()).toBeUndefined();
    expect(proxy.accepted()).toBe(1);
  });

  it('delay keeps every byte and their order, also across a switch back to pass', async () => {
    const { proxy } = await proxyToEcho();
    proxy.setMode('delay');
    const c = await client(proxy.port);
    const sent = Array.from({ length: 100 }, (_, i) => `d${i};`);
    for (const s of sent.slice(0, 50)) c.socket.write(s);
    proxy.setMode('pass');
    for (const s of sent.slice(50)) c.socket.write(s);
    await eventually('the echo', async () =>
      c.received().length === sent.join('').length ? true : undefined,
    );
    expect(c.received()).toBe(sent.join(''));
  });

  it('blackhole holds bytes and new connections without closing them; healing delivers them', async () => {
    const { echo, proxy } = await proxyToEcho();
    const c = await client(proxy.port);
    c.socket.write('before;');
    await eventually('the first echo', async () => (c.received() === 'before;' ? true : undefined));
    proxy.setMode('blackhole');
    c.socket.write('during;');
    const held = await client(proxy.port);
    held.socket.write('held;');
    await eventually('the held connection to be accepted', async () =>
      proxy.accepted() === 2 ? true : undefined,
    );
    // Nothing crosses while the partition lasts, and nothing is closed.
    await new Promise((r) => setTimeout(r, 300));
    expect(c.received()).toBe('before;');
    expect(held.received()).toBe('');
    expect(echo.sockets.size).toBe(1);
    expect([c.isClosed(), held.isClosed()]).toEqual([false, false]);

    proxy.setMode('pass');
    await eventually('the held bytes', async () =>
      c.received() === 'before;during;' && held.received() === 'held;' ? true : undefined,
    );
    expect(echo.sockets.size).toBe(2);
  });

  it('reset destroys both sides with ECONNRESET and resets new connections until it ends', async () => {
    const { echo, proxy } = await proxyToEcho();
    const c = await client(proxy.port);
    c.socket.write('x');
    await eventually('the echo', async () => (c.received() === 'x' ? true : undefined));
    proxy.setMode('reset');
    await eventually('the client to be reset', async () => (c.isClosed() ? true : undefined));
    expect(c.error()?.code).toBe('ECONNRESET');
    await eventually('the upstream to be closed', async () =>
      echo.sockets.size === 0 ? true : undefined,
    );
    const refused = await client(proxy.port);
    await eventually('the new client to be reset', async () =>
      refused.isClosed() ? true : undefined,
    );
    expect(refused.error()?.code).toBe('ECONNRESET');

    proxy.setMode('pass');
    const after = await client(proxy.port);
    after.socket.write('back');
    await eventually('the echo after the reset', async () =>
      after.received() === 'back' ? true : undefined,
    );
    expect(proxy.connections()).toBe(1);
  });
});
