import { describe, expect, it } from 'vitest';

import { PingTracker, pongFor } from './ping-tracker.ts';

describe('PingTracker', () => {
  it('measures the round trip of a matched pong', () => {
    const tracker = new PingTracker();
    const ping = tracker.createPing(1000.25)!;
    expect(ping).toMatchObject({ type: 'EXT_PING', timestampUs: 1_000_250 });
    expect(tracker.oldestSentAtMs).toBe(1000.25);
    expect(tracker.handlePong(pongFor(ping), 1003.75)).toBe(3.5);
    expect([tracker.outstanding, tracker.oldestSentAtMs]).toEqual([0, undefined]);
  });

  it('ignores unknown and duplicate pongs', () => {
    const tracker = new PingTracker();
    const ping = tracker.createPing(0)!;
    expect(
      tracker.handlePong(
        { type: 'EXT_PONG', nonce: (ping.nonce + 1) % 2 ** 32, timestampUs: 0 },
        1,
      ),
    ).toBeUndefined();
    expect(tracker.handlePong(pongFor(ping), 2)).toBe(2);
    expect(tracker.handlePong(pongFor(ping), 3)).toBeUndefined();
  });

  it('settles older pings when a newer one is answered (ordered transport)', () => {
    const tracker = new PingTracker();
    tracker.createPing(0);
    const second = tracker.createPing(10)!;
    const third = tracker.createPing(20)!;
    expect(tracker.handlePong(pongFor(second), 25)).toBe(15);
    expect([tracker.outstanding, tracker.oldestSentAtMs]).toEqual([1, 20]);
    expect(tracker.handlePong(pongFor(third), 30)).toBe(10);
  });

  it('caps outstanding pings and keeps the oldest for the deadline check', () => {
    const tracker = new PingTracker({ maxOutstanding: 2 });
    const first = tracker.createPing(1)!;
    const second = tracker.createPing(2)!;
    expect(tracker.createPing(3)).toBeUndefined();
    expect(tracker.oldestSentAtMs).toBe(1);
    expect(second.nonce).toBe((first.nonce + 1) % 2 ** 32);
    tracker.clear();
    expect(tracker.outstanding).toBe(0);
  });

  it('pongFor echoes nonce and timestamp', () => {
    expect(pongFor({ type: 'EXT_PING', nonce: 5, timestampUs: 77 })).toEqual({
      type: 'EXT_PONG',
      nonce: 5,
      timestampUs: 77,
    });
  });
});
