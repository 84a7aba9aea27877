// The bounded TTL cache in front of the hub's reviews.
import { describe, expect, it } from 'vitest';

import { ReviewCache } from './review-cache.ts';

describe('ReviewCache', () => {
  it('reuses an answer for its TTL, then asks again', async () => {
    let now = 0;
    let lookups = 0;
    const cache = new ReviewCache<string>({ ttlMs: 10_000, now: () => now });
    const lookup = async (): Promise<string> => `answer ${++lookups}`;
    expect(await cache.get('k', lookup)).toBe('answer 1');
    now = 9_999;
    expect(await cache.get('k', lookup)).toBe('answer 1');
    now = 10_000;
    expect(await cache.get('k', lookup)).toBe('answer 2');
  });

  it('shares one lookup between overlapping callers', async () => {
    let lookups = 0;
    let release: (value: string) => void = () => undefined;
    const cache = new ReviewCache<string>();
    const lookup = (): Promise<string> => {
      lookups += 1;
      return new Promise((resolve) => (release = resolve));
    };
    const both = Promise.all([cache.get('k', lookup), cache.get('k', lookup)]);
    release('shared');
    expect(await both).toEqual(['shared', 'shared']);
    expect(lookups).toBe(1);
  });

  it('never keeps a failure', async () => {
    const cache = new ReviewCache<string>();
    await expect(cache.get('k', () => Promise.reject(new Error('hub down')))).rejects.toThrow(
      'hub down',
    );
    expect(await cache.get('k', async () => 'fine')).toBe('fine');
  });

  it('holds at most maxEntries answers, dropping the oldest', async () => {
    const cache = new ReviewCache<string>({ maxEntries: 2 });
    let lookups = 0;
    const lookup = async (): Promise<string> => String(++lookups);
    await cache.get('a', lookup);
    await cache.get('b', lookup);
    await cache.get('c', lookup);
    expect(cache.size).toBe(2);
    expect(await cache.get('b', lookup)).toBe('2');
    expect(await cache.get('a', lookup)).toBe('4');
  });
});
