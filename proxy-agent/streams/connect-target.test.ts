import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AgentError } from '../errors.ts';
import { startBlackHole } from '../testing/black-hole.ts';
import type { BlackHole } from '../testing/black-hole.ts';
import { classifySocketError, connectTarget, readTarget } from './connect-target.ts';

let blackHole: BlackHole;
beforeAll(async () => {
  blackHole = await startBlackHole();
});
afterAll(async () => {
  await blackHole.close();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connectTarget', () => {
  it('resolves with a connected half-open-capable socket', async () => {
    const server = createServer({ allowHalfOpen: true }, (s) => s.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = await connectTarget({ host: '127.0.0.1', port }, { timeoutMs: 1000 });
    expect(socket.allowHalfOpen).toBe(true);
    // It reads only once given a reader, into a buffer it reuses: the reader copies.
    const chunks: Buffer[] = [];
    const ended = new Promise((resolve) => socket.once('end', resolve));
    readTarget(socket, (data) => chunks.push(Buffer.from(data)) > 0);
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe('hi');
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    {
      name: 'refused',
      target: async () => ({ host: '127.0.0.1', port: await freePort() }),
      timeoutMs: 2000,
      reason: 'refused',
      message: /^connect to 127\.0\.0\.1:\d+ failed: connect ECONNREFUSED/,
    },
    {
      name: 'dns',
      target: async () => ({ host: 'no-such-host.invalid', port: 80 }),
      timeoutMs: 5000,
      reason: 'dns',
      message: /^connect to no-such-host\.invalid:80 failed: getaddrinfo ENOTFOUND/,
    },
    {
      name: 'timeout',
      target: async () => ({ host: blackHole.host, port: blackHole.port }),
      timeoutMs: 150,
      reason: 'timeout',
      message: /^connect to 127\.0\.0\.1:\d+ timed out after 150 ms$/,
    },
  ])('rejects with reason $reason', async ({ target, timeoutMs, reason, message }) => {
    const error = await connectTarget(await target(), { timeoutMs }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'AGENT_ERR_DIAL_FAILED', reason });
    expect((error as Error).message).toMatch(message);
  });

  it('rejects with canceled when the signal aborts mid-connect', async () => {
    const controller = new AbortController();
    const pending = connectTarget(
      { host: blackHole.host, port: blackHole.port },
      { timeoutMs: 5000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({
      code: 'AGENT_ERR_DIAL_FAILED',
      reason: 'canceled',
    });
  });

  it('rejects at once when the signal is already aborted', async () => {
    await expect(
      connectTarget(
        { host: '127.0.0.1', port: 1 },
        { timeoutMs: 1000, signal: AbortSignal.abort() },
      ),
    ).rejects.toMatchObject({ code: 'AGENT_ERR_DIAL_FAILED', reason: 'canceled' });
  });
});

describe('classifySocketError', () => {
  it.each([
    ['ECONNREFUSED', 'refused'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['EHOSTUNREACH', 'unreachable'],
    ['ENETUNREACH', 'unreachable'],
    ['ETIMEDOUT', 'timeout'],
    ['ECONNRESET', 'internal'],
    [undefined, 'internal'],
  ])('%s → %s', (code, reason) => {
    expect(classifySocketError(Object.assign(new Error('x'), { code }))).toBe(reason);
  });
});
