import { describe, expect, it } from 'vitest';

import { AdmissionRateLimiter, MAX_ADMISSION_PUSHBACK_MS } from './admission-rate-limiter.ts';

/** A limiter on a clock the test moves by hand. */
function limiter(perSecond: number, burst: number) {
  let nowMs = 1_000;
  const bucket = new AdmissionRateLimiter({ perSecond, burst }, () => nowMs);
  return {
    bucket,
    advance(ms: number) {
      nowMs += ms;
    },
    take(n: number): boolean[] {
      return Array.from({ length: n }, () => bucket.tryTake());
    },
  };
}

describe('AdmissionRateLimiter', () => {
  it('starts full: admits a burst, then refuses', () => {
    const { take } = limiter(10, 3);
    expect(take(5)).toEqual([true, true, true, false, false]);
  });

  it.each([
    { name: '100 ms at 10/s is one token', perSecond: 10, burst: 3, elapsedMs: 100, admitted: 1 },
    { name: '250 ms at 10/s is two tokens', perSecond: 10, burst: 3, elapsedMs: 250, admitted: 2 },
    { name: 'refill stops at the burst', perSecond: 10, burst: 3, elapsedMs: 60_000, admitted: 3 },
    { name: 'a fractional rate', perSecond: 0.5, burst: 1, elapsedMs: 1_999, admitted: 0 },
    { name: 'a fractional rate, later', perSecond: 0.5, burst: 1, elapsedMs: 2_000, admitted: 1 },
  ])('refills: $name', ({ perSecond, burst, elapsedMs, admitted }) => {
    const { take, advance } = limiter(perSecond, burst);
    take(burst);
    advance(elapsedMs);
    expect(take(burst + 1).filter(Boolean)).toHaveLength(admitted);
  });

  it('a refused attempt takes no token', () => {
    const { take, advance } = limiter(10, 1);
    take(1);
    advance(50);
    expect(take(3)).toEqual([false, false, false]);
    advance(50);
    expect(take(1)).toEqual([true]);
  });

  it('admits perSecond a second under a steady overload', () => {
    const { take, advance } = limiter(100, 100);
    take(100);
    let admitted = 0;
    for (let ms = 0; ms < 10_000; ms += 10) {
      advance(10);
      admitted += take(20).filter(Boolean).length;
    }
    expect(admitted).toBe(1000);
  });

  it('reserves one slot per 1/perSecond for refused agents, from the next token on', () => {
    const { take, bucket, advance } = limiter(10, 2);
    take(2);
    expect([bucket.reserveRetryMs(), bucket.reserveRetryMs(), bucket.reserveRetryMs()]).toEqual([
      100, 200, 300,
    ]);
    advance(50);
    expect(bucket.reserveRetryMs()).toBe(350);
  });

  it('starts reserving from the next token after a quiet spell', () => {
    const { take, bucket, advance } = limiter(10, 2);
    take(2);
    bucket.reserveRetryMs();
    advance(10_000);
    take(2);
    expect(bucket.reserveRetryMs()).toBe(100);
  });

  it('reserves no further out than MAX_ADMISSION_PUSHBACK_MS', () => {
    const { take, bucket } = limiter(1, 1);
    take(1);
    const last = Array.from({ length: 500 }, () => bucket.reserveRetryMs()).at(-1);
    expect(last).toBe(MAX_ADMISSION_PUSHBACK_MS);
  });
});
