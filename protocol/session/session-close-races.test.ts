import { afterEach, describe, expect, it } from 'vitest';

import {
  TRANSPORT_KINDS,
  readAll,
  sessionPair,
  waitFor,
  waitIdle,
  type SessionPair,
} from './session-test-kit.ts';
import type { TunnelStream } from './tunnel-stream.ts';

// Regressions found by the session fuzzer (protocol/fuzz/), each its minimal counterexample
// replayed over real loopback transports.

let pairs: SessionPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.map((p) => p.dispose()));
  pairs = [];
});

describe.each(TRANSPORT_KINDS)('session close races over %s', (kind) => {
  // An acceptor that accepts and resets at once sends DIAL_RSP and CLOSE_RSP back to back. In
  // one I/O callback, the reset destroyed the dialer's stream with an 'error' emitted on
  // process.nextTick, before the `await dial()` continuation attached a listener: uncaught,
  // it took the process down.
  it('a stream reset as it opens: the error reaches the listener attached after `await dial()`', async () => {
    const p = await sessionPair(kind, {
      onDial: (dial) => {
        const stream = dial.accept();
        stream.on('error', () => {});
        stream.reset('connection-reset'); // e.g. the target socket failed at once
      },
    });
    pairs.push(p);
    for (let i = 0; i < 20; i++) {
      const stream = await p.dialer.dial(`svc:${i + 1}`);
      const error = await new Promise<unknown>((resolve) => stream.once('error', resolve));
      expect(error).toMatchObject({
        code: 'PROTO_ERR_STREAM_RESET',
        resetCode: 'connection-reset',
      });
      expect(stream.destroyed).toBe(true);
    }
    await waitIdle(p);
  });

  // A dialer that ended its direction waits for CLOSE_RSP ('closing'). DATA after the peer's
  // HALF_CLOSE was dropped there without a word, so a peer still writing waited for credit
  // forever (and the dialer gave up only after closeTimeoutMs). It is now reset 'protocol'.
  it('DATA after HALF_CLOSE reaching a dialer that waits for CLOSE_RSP resets the stream', async () => {
    const accepted: TunnelStream[] = [];
    const p = await sessionPair(kind, {
      onDial: (dial) => {
        const stream = dial.accept();
        stream.on('error', () => {});
        accepted.push(stream);
      },
    });
    pairs.push(p);
    const stream = await p.dialer.dial('svc:80');
    stream.on('error', () => {}); // its Duplex may already have closed cleanly: either is fine
    const dialerReset = new Promise<unknown>((resolve) => p.dialer.once('stream-reset', resolve));
    stream.resume();
    stream.end();
    await waitFor(() => accepted.length === 1, 'accepted');
    const remoteError = new Promise<unknown>((resolve) => accepted[0]!.once('error', resolve));
    // A peer that breaks the rule: HALF_CLOSE, then DATA on the same stream.
    const connectId = stream.streamId;
    p.transports.client.send({ type: 'EXT_HALF_CLOSE', connectId });
    p.transports.client.send({ type: 'DATA', connectId, data: Buffer.from('late') });
    expect(await dialerReset).toEqual({ streamId: connectId, code: 'protocol', isLocal: true });
    expect(await remoteError).toMatchObject({
      code: 'PROTO_ERR_STREAM_RESET',
      resetCode: 'protocol',
    });
    await waitIdle(p);
  });

  // Both directions half-closed: the acceptor sent CLOSE_RSP, so the dialer is done and may end
  // the tunnel at once. The acceptor's consumer had not read the bytes yet: the transport's
  // close destroyed the stream with 'tunnel-closed' and the bytes were lost.
  it('a tunnel closed right after a graceful stream close: the unread bytes still arrive', async () => {
    const accepted: TunnelStream[] = [];
    const p = await sessionPair(kind, {
      onDial: (dial) => {
        const stream = dial.accept();
        stream.on('error', () => {});
        stream.pause(); // a consumer that has not read yet
        stream.end(); // nothing to send back
        accepted.push(stream);
      },
    });
    pairs.push(p);
    const stream = await p.dialer.dial('svc:80');
    stream.on('error', () => {});
    stream.resume();
    stream.end('tail of an upload');
    await new Promise((resolve) => stream.once('close', resolve));
    await p.dialer.close();
    await waitFor(() => p.acceptor.isClosed, 'the acceptor saw the tunnel close');
    const unread = readAll(accepted[0]!);
    accepted[0]!.resume();
    expect((await unread).toString()).toBe('tail of an upload');
    expect(accepted[0]!.resetCode).toBeUndefined();
  });
});
