import { subscribe, unsubscribe } from 'node:diagnostics_channel';

import { describe, expect, it } from 'vitest';

import { ProtocolError } from '../errors.ts';
import { TUNNEL_DIAGNOSTICS_CHANNELS } from './diagnostics.ts';
import {
  FULL_EXTENSIONS,
  NO_EXTENSIONS,
  TRANSPORT_KINDS,
  delay,
  echoAcceptor,
  readBytes,
  disposedAfterEach,
  waitFor,
  waitIdle,
} from './session-test-kit.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import type { IncomingDial } from './types.ts';

const pair = disposedAfterEach();

/** Timer handles alive in this process (ref'd or not), from Node's own bookkeeping. */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** Deterministic pseudo-random sequence (xorshift32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const CANCEL_ITERATIONS = 300;
const CANCEL_BATCH = 30;

describe.each(
  TRANSPORT_KINDS.flatMap((kind) => [
    { kind, mode: 'extensions', extensions: FULL_EXTENSIONS },
    { kind, mode: 'plain ANP', extensions: NO_EXTENSIONS },
  ]),
)('session lifecycle over $kind, $mode', ({ kind, extensions }) => {
  it(`cancel during dial, ${CANCEL_ITERATIONS}× with random timing, leaves nothing behind`, async () => {
    const next = random(0x5eed + kind.length + extensions.size);
    const acceptorStreams: TunnelStream[] = [];
    const onDial = (dial: IncomingDial): void => {
      const roll = next();
      const answer = (): void => {
        if (roll < 0.15) {
          dial.reject('refused', 'connection refused');
        } else {
          const stream = dial.accept();
          stream.on('error', () => {});
          stream.resume();
          acceptorStreams.push(stream);
        }
      };
      if (roll < 0.3) answer();
      else setTimeout(answer, Math.floor(next() * 4));
    };
    const p = await pair(kind, { extensions, onDial, dialer: { closeTimeoutMs: 2_000 } });
    const timersBefore = activeTimers();
    const outcomes = { opened: 0, canceled: 0, refused: 0 };
    for (let i = 0; i < CANCEL_ITERATIONS; i += CANCEL_BATCH) {
      await Promise.all(
        Array.from({ length: CANCEL_BATCH }, async () => {
          const controller = new AbortController();
          setTimeout(() => controller.abort(), Math.floor(next() * 4));
          try {
            const stream = await p.dialer.dial('svc:80', { signal: controller.signal });
            outcomes.opened++;
            stream.on('error', () => {});
            stream.resume();
            if (next() < 0.5) stream.end(); // else the abort resets it
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
            const reason = (err as ProtocolError).reason;
            expect(['canceled', 'refused']).toContain(reason);
            outcomes[reason === 'canceled' ? 'canceled' : 'refused']++;
          }
        }),
      );
    }
    // Ended streams finish once the acceptor ends its side too.
    for (const s of acceptorStreams) s.end();
    await waitIdle(p, 10_000);
    expect(outcomes.opened + outcomes.canceled + outcomes.refused).toBe(CANCEL_ITERATIONS);
    expect(outcomes.canceled).toBeGreaterThan(0);
    // Timers may still be pending for a moment: this test's own abort timers (up to 4 ms) and,
    // with a plain ANP acceptor that never answers DIAL_CLS, the dialer's bounded wait for an
    // answer (closeTimeoutMs). A leak is a timer that never goes away.
    await waitFor(
      () => activeTimers() <= timersBefore,
      () => `timers back to ${timersBefore} (now ${activeTimers()})`,
      5_000,
    );
  });

  it('aborting the signal after the stream opened resets it with canceled', async () => {
    const accepted: TunnelStream[] = [];
    const p = await pair(kind, {
      extensions,
      onDial: (dial) => {
        const s = dial.accept();
        s.on('error', () => {});
        s.resume();
        accepted.push(s);
      },
    });
    const controller = new AbortController();
    const stream = await p.dialer.dial('svc:80', { signal: controller.signal });
    const closed = new Promise((resolve) => stream.once('close', resolve));
    controller.abort();
    await closed;
    expect(stream.resetCode).toBe('canceled');
    if (extensions.size > 0) {
      await waitFor(() => accepted[0]?.destroyed === true, 'acceptor stream reset');
      expect(accepted[0]?.resetCode).toBe('canceled');
    } else {
      // Plain ANP has no reset: the acceptor sees a close (EOF) and ends its side.
      await waitFor(() => accepted[0]?.readableEnded === true, 'acceptor stream EOF');
      accepted[0]?.end();
    }
    await waitIdle(p);
  });

  it('a pending incoming dial is aborted when the session is destroyed', async () => {
    const pending: IncomingDial[] = [];
    const p = await pair(kind, { extensions, onDial: (dial) => pending.push(dial) });
    const dialing = p.dialer.dial('svc:80');
    await waitFor(() => pending.length === 1, 'DIAL_REQ');
    p.acceptor.destroy();
    await expect(dialing).rejects.toMatchObject({ reason: 'tunnel-closed' });
    const dial = pending[0]!;
    expect(dial.signal.aborted).toBe(true);
    expect(dial.signal.reason).toMatchObject({
      code: 'PROTO_ERR_DIAL_FAILED',
      reason: 'tunnel-closed',
    });
    const late = dial.accept();
    expect([late.destroyed, late.resetCode]).toEqual([true, 'tunnel-closed']);
    expect(p.acceptor.stats()).toMatchObject({ openStreams: 0, pendingDials: 0 });
    await waitFor(() => p.dialer.isClosed, 'dialer closed');
    expect(p.dialer.stats()).toMatchObject({ openStreams: 0, pendingDials: 0 });
  });

  it('maxStreams refuses further dials with overloaded, on either side', async () => {
    const p = await pair(kind, {
      extensions,
      onDial: echoAcceptor,
      acceptor: { maxStreams: 2 },
      dialer: { maxStreams: 3 },
    });
    const open = [await p.dialer.dial('svc:1'), await p.dialer.dial('svc:2')];
    await expect(p.dialer.dial('svc:3')).rejects.toMatchObject({ reason: 'overloaded' }); // peer
    const third = p.dialer.dial('svc:3', { timeoutMs: 5_000 });
    third.catch(() => {});
    await expect(p.dialer.dial('svc:4')).rejects.toMatchObject({ reason: 'overloaded' }); // local
    await expect(third).rejects.toMatchObject({ reason: 'overloaded' });
    for (const s of open) s.destroy();
    await waitIdle(p);
  });

  it('publishes diagnostics_channel events', async () => {
    const events: { name: string; message: Record<string, unknown> }[] = [];
    const listeners = Object.values(TUNNEL_DIAGNOSTICS_CHANNELS).map((name) => {
      const fn = (message: unknown): void => {
        events.push({ name, message: message as Record<string, unknown> });
      };
      subscribe(name, fn);
      return () => unsubscribe(name, fn);
    });
    try {
      const p = await pair(kind, {
        extensions,
        onDial: (dial) =>
          dial.address === 'deny:1' ? dial.reject('not-allowed', 'no') : echoAcceptor(dial),
      });
      await expect(p.dialer.dial('deny:1')).rejects.toThrow();
      const stream = await p.dialer.dial('svc:80');
      const reply = readBytes(stream, 5);
      stream.write('hello');
      await reply;
      stream.reset('internal');
      await waitIdle(p);
      const mine = events.filter((e) => String(e.message['label']).startsWith(kind));
      const names = mine.map((e) => `${e.name} ${String(e.message['role'] ?? '')}`);
      expect(names).toEqual(
        expect.arrayContaining([
          'spokelink:tunnel:dial:failed acceptor',
          'spokelink:tunnel:dial:failed dialer',
          'spokelink:tunnel:stream:open acceptor',
          'spokelink:tunnel:stream:open dialer',
          'spokelink:tunnel:stream:close acceptor',
          'spokelink:tunnel:stream:close dialer',
        ]),
      );
      const failed = mine.find((e) => e.name === TUNNEL_DIAGNOSTICS_CHANNELS.dialFailed);
      expect(failed?.message).toMatchObject({ reason: 'not-allowed', address: 'deny:1' });
      const closeDialer = mine.find(
        (e) => e.name === TUNNEL_DIAGNOSTICS_CHANNELS.streamClose && e.message['role'] === 'dialer',
      );
      expect(closeDialer?.message).toMatchObject({
        resetCode: 'internal',
        bytesOut: 5,
        bytesIn: 5,
      });
    } finally {
      for (const off of listeners) off();
    }
  });
});

describe.each(TRANSPORT_KINDS)('window stalls over %s', (kind) => {
  it('count and publish a stall when the receiver does not read', async () => {
    const stalls: unknown[] = [];
    const fn = (message: unknown): void => void stalls.push(message);
    subscribe(TUNNEL_DIAGNOSTICS_CHANNELS.windowStall, fn);
    try {
      const accepted: TunnelStream[] = [];
      const p = await pair(kind, {
        onDial: (dial) => {
          const s = dial.accept();
          s.on('error', () => {});
          s.pause();
          accepted.push(s);
        },
      });
      const stream = await p.dialer.dial('svc:80');
      stream.write(Buffer.alloc(1024 * 1024));
      await waitFor(() => p.dialer.stats().windowStalls === 1, 'one stall');
      await delay(20);
      expect(p.dialer.stats().windowStalls).toBe(1);
      expect(stalls).toEqual([{ label: `${kind} dialer`, streamId: stream.streamId }]);
      stream.destroy();
      await waitIdle(p);
    } finally {
      unsubscribe(TUNNEL_DIAGNOSTICS_CHANNELS.windowStall, fn);
    }
  });
});
