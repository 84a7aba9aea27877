// The handshake guard on a real TLS server over loopback: connections beyond the cap of
// handshakes in progress are closed before TLS; a finished handshake frees its place.
import { type Socket, connect as connectTcp } from 'node:net';
import { type TLSSocket, connect as connectTls, createServer } from 'node:tls';

import { afterAll, describe, expect, it } from 'vitest';

import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';
import { guardPendingHandshakes } from './handshake-guard.ts';

const pki = createServerTestPki();
const server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem });
server.on('tlsClientError', () => undefined);
let shed = 0;
let secured = 0;
server.on('secureConnection', () => {
  secured += 1;
});
guardPendingHandshakes(server, 2, () => {
  shed += 1;
});
const port = await new Promise<number>((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
});
const open: Array<Socket | TLSSocket> = [];
afterAll(() => {
  for (const s of open) s.destroy();
  server.close();
});

function connections(): Promise<number> {
  return new Promise((resolve) => server.getConnections((_err, n) => resolve(n)));
}

/** A TCP connection that never starts TLS: a handshake in progress for the server. */
function stalled(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    open.push(socket);
  });
}

/** Whether a TLS client completes its handshake (false: the server closed it unanswered). */
function handshake(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTls({
      port,
      host: '127.0.0.1',
      ca: pki.ca.certPem,
      servername: 'localhost',
    });
    open.push(socket);
    socket.on('secureConnect', () => resolve(true));
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

describe('guardPendingHandshakes', () => {
  it('closes connections beyond the cap before TLS, and admits again once one finishes', async () => {
    const first = await stalled();
    await stalled();
    await waitFor('two handshakes in progress', async () =>
      (await new Promise<number>((r) => server.getConnections((_e, n) => r(n)))) === 2
        ? true
        : undefined,
    );
    expect(await handshake()).toBe(false);
    expect(shed).toBe(1);

    first.destroy();
    await waitFor('the stalled connection to close', async () =>
      (await new Promise<number>((r) => server.getConnections((_e, n) => r(n)))) === 1
        ? true
        : undefined,
    );
    // One place free: a real handshake completes and then frees its place again.
    // (The client may finish TLS before the server does: wait for the server's side each time.)
    expect(await handshake()).toBe(true);
    await waitFor('the server side of the handshake', () => (secured === 1 ? true : undefined));
    expect(await handshake()).toBe(true);
    await waitFor('the server side of the handshake', () => (secured === 2 ? true : undefined));
    expect(shed).toBe(1);

    // Still guarding after a shed and after handshakes: fill the cap again, the next is shed.
    await stalled();
    await waitFor('two handshakes in progress again', async () =>
      (await connections()) === 4 ? true : undefined,
    );
    expect(await handshake()).toBe(false);
    expect(shed).toBe(2);
  });
});
