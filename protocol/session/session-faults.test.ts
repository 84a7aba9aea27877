import { describe, expect, it } from 'vitest';

import { encodePacket } from '../codec.ts';
import { Extension } from '../extensions.ts';
import {
  FULL_EXTENSIONS,
  TRANSPORT_KINDS,
  readBytes,
  disposedAfterEach,
  waitFor,
  waitIdle,
} from './session-test-kit.ts';
import { TUNNEL_CLOSE_CODES } from './tunnel-close-codes.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import type { IncomingDial } from './types.ts';

const pair = disposedAfterEach();

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** EXT_WINDOW_UPDATE for `streamId` with increment 0: decodes to a ProtocolError naming the stream. */
function zeroWindowUpdate(streamId: bigint): Uint8Array {
  const body = [0x08, ...varint(streamId)];
  return Uint8Array.from([0x08, 100, ...varint(802n), body.length, ...body]);
}

function acceptInto(list: TunnelStream[]): (dial: IncomingDial) => void {
  return (dial) => {
    const stream = dial.accept();
    stream.on('error', () => {});
    list.push(stream);
  };
}

function errorOf(stream: TunnelStream): Promise<unknown> {
  return new Promise((resolve) => stream.once('error', resolve));
}

describe.each(TRANSPORT_KINDS)('session faults over %s', (kind) => {
  it('a garbage packet naming a stream resets only that stream', async () => {
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, { onDial: acceptInto(accepted) });
    const victim = await p.dialer.dial('svc:1');
    const bystander = await p.dialer.dial('svc:2');
    await waitFor(() => accepted.length === 2, 'both accepted');
    const [remoteVictim, remoteBystander] = accepted as [TunnelStream, TunnelStream];
    const victimError = errorOf(victim);
    const remoteError = errorOf(remoteVictim);
    const resets: unknown[] = [];
    p.acceptor.on('stream-reset', (event) => resets.push(event));
    p.transports.server.send(zeroWindowUpdate(victim.streamId));
    expect(await remoteError).toMatchObject({
      code: 'PROTO_ERR_STREAM_RESET',
      resetCode: 'protocol',
      cause: { code: 'PROTO_ERR_INVALID_FIELD' },
    });
    expect(await victimError).toMatchObject({
      code: 'PROTO_ERR_STREAM_RESET',
      resetCode: 'protocol',
    });
    expect(resets).toEqual([{ streamId: victim.streamId, code: 'protocol', isLocal: true }]);
    // The other stream and the session carry on.
    const echoed = readBytes(bystander, 4);
    remoteBystander.write('pong');
    expect((await echoed).toString()).toBe('pong');
    expect(p.acceptor.isClosed || p.dialer.isClosed).toBe(false);
    bystander.destroy();
    await waitIdle(p);
  });

  it('an undecodable packet destroys the session; every stream ends with tunnel-closed', async () => {
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, { onDial: acceptInto(accepted) });
    const streams = [await p.dialer.dial('svc:1'), await p.dialer.dial('svc:2')];
    await waitFor(() => accepted.length === 2, 'both accepted');
    const errors = [...streams, ...accepted].map(errorOf);
    const dialerClose = new Promise<unknown>((resolve) => p.dialer.once('close', resolve));
    const acceptorClose = new Promise<unknown>((resolve) => p.acceptor.once('close', resolve));
    p.transports.server.send(Uint8Array.from([0x0f, 0x01])); // field 1, wire type 7
    expect(await acceptorClose).toMatchObject({ code: 'PROTO_ERR_MALFORMED' });
    const seen = await dialerClose;
    expect(seen).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED' });
    if (kind === 'ws') expect(seen).toMatchObject({ closeCode: TUNNEL_CLOSE_CODES.PROTOCOL_ERROR });
    for (const err of await Promise.all(errors)) {
      expect(err).toMatchObject({ code: 'PROTO_ERR_STREAM_RESET', resetCode: 'tunnel-closed' });
    }
    for (const s of [...streams, ...accepted]) expect(s.resetCode).toBe('tunnel-closed');
    expect(p.dialer.stats()).toMatchObject({ openStreams: 0, pendingDials: 0 });
    expect(p.acceptor.stats()).toMatchObject({ openStreams: 0, pendingDials: 0 });
  });

  it('an invalid DIAL_REQ is refused with bad-request without reaching onDial', async () => {
    let calls = 0;
    const p = await pair(kind, { onDial: () => calls++ });
    const answer = new Promise<unknown>((resolve) => p.transports.server.once('packet', resolve));
    // protocol "udp": decodes to PROTO_ERR_UNSUPPORTED_PROTOCOL with streamId = random.
    const bytes = encodePacket({
      type: 'DIAL_REQ',
      protocol: 'tcp',
      address: 'svc:80',
      random: 7n,
    });
    const patched = Buffer.from(bytes.toString('latin1').replace('tcp', 'udp'), 'latin1');
    p.transports.server.send(patched);
    expect(await answer).toMatchObject({ type: 'DIAL_RSP', random: 7n, errorCode: 'bad-request' });
    expect(calls).toBe(0);
  });

  it.each([
    ['extensions', FULL_EXTENSIONS],
    ['plain ANP', new Set<never>()],
  ] as const)(
    '%s: a DIAL_CLS from the acceptor fails the pending dial',
    async (_mode, extensions) => {
      const pending: IncomingDial[] = [];
      const p = await pair(kind, { extensions, onDial: (dial) => pending.push(dial) });
      const dialing = p.dialer.dial('svc:80');
      await waitFor(() => pending.length === 1, 'DIAL_REQ');
      // What a stock ANP server does when it drops a pending dial.
      p.transports.client.send({ type: 'DIAL_CLS', random: pending[0]!.dialId });
      await expect(dialing).rejects.toMatchObject({
        code: 'PROTO_ERR_DIAL_FAILED',
        reason: 'tunnel-closed',
      });
      pending[0]!.reject('refused', 'connection refused'); // late answer: ignored by the dialer
      await waitIdle(p);
    },
  );

  it('resets travel with their code in both directions', async () => {
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, { onDial: acceptInto(accepted) });
    const a = await p.dialer.dial('svc:1');
    await waitFor(() => accepted.length === 1, 'accepted');
    const remoteError = errorOf(accepted[0]!);
    a.reset('timeout');
    expect(await remoteError).toMatchObject({
      code: 'PROTO_ERR_STREAM_RESET',
      resetCode: 'timeout',
    });

    const b = await p.dialer.dial('svc:2');
    await waitFor(() => accepted.length === 2, 'accepted');
    const bError = errorOf(b);
    accepted[1]!.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(await bError).toMatchObject({ resetCode: 'connection-reset' });
    await waitIdle(p);
  });

  it('measures ping RTT, and destroys a session whose pings go unanswered', async () => {
    const p = await pair(kind, {
      dialer: { pingIntervalMs: 10 },
      acceptor: { pingIntervalMs: 10 },
    });
    await waitFor(() => p.dialer.rttMs !== undefined && p.acceptor.rttMs !== undefined, 'RTT');
    expect(p.dialer.rttMs).toBeGreaterThanOrEqual(0);
    expect(p.dialer.rttMs).toBeLessThan(1_000);

    // A peer that ignores EXT_PING (it was built without the extension).
    const deaf = await pair(kind, {
      dialer: { pingIntervalMs: 10, pingTimeoutMs: 50 },
      acceptor: { extensions: new Set([...FULL_EXTENSIONS].filter((e) => e !== Extension.PING)) },
    });
    const closed = await new Promise<unknown>((resolve) => deaf.dialer.once('close', resolve));
    expect(closed).toMatchObject({ code: 'PROTO_ERR_SESSION_CLOSED' });
    expect(String((closed as Error).message)).toMatch(/no EXT_PONG within 50 ms/);
  });

  it('ping() answers with the round trip, and fails with its code when no pong can come', async () => {
    const p = await pair(kind, { dialer: { pingIntervalMs: 0 }, acceptor: { pingIntervalMs: 0 } });
    const [a, b] = await Promise.all([p.dialer.ping(1_000), p.acceptor.ping(1_000)]);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1_000);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(p.dialer.rttMs).toBeDefined();

    const deaf = await pair(kind, {
      dialer: { pingIntervalMs: 0 },
      acceptor: {
        pingIntervalMs: 0,
        extensions: new Set([...FULL_EXTENSIONS].filter((e) => e !== Extension.PING)),
      },
    });
    await expect(deaf.dialer.ping(50)).rejects.toMatchObject({
      code: 'PROTO_ERR_PING_FAILED',
      message: expect.stringMatching(/no EXT_PONG within 50 ms/),
    });
    await expect(deaf.acceptor.ping(50)).rejects.toMatchObject({
      code: 'PROTO_ERR_PING_FAILED',
      message: expect.stringMatching(/did not negotiate "ping"/),
    });
    const pending = deaf.dialer.ping(60_000);
    deaf.dialer.destroy();
    await expect(pending).rejects.toMatchObject({
      code: 'PROTO_ERR_PING_FAILED',
      message: expect.stringMatching(/the session closed/),
    });
    await expect(deaf.dialer.ping(50)).rejects.toMatchObject({ code: 'PROTO_ERR_PING_FAILED' });
  });
});
