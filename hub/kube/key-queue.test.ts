// The keyed work queue: no overlap per key, coalescing, retry with backoff, requeue, workers, stop.
import { describe, expect, it } from 'vitest';

import { createKeyQueue, type KeyResult } from './key-queue.ts';

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('key queue', () => {
  it('runs a key once more after the run in flight, however often it was added', async () => {
    const runs: string[] = [];
    const first = gate();
    const queue = createKeyQueue({
      process: async (key) => {
        runs.push(key);
        if (runs.length === 1) await first.opened;
      },
    });
    queue.add('a');
    await expect.poll(() => runs).toEqual(['a']);
    queue.add('a');
    queue.add('a');
    first.open();
    await expect.poll(() => runs).toEqual(['a', 'a']);
    await queue.stop();
    expect(runs).toEqual(['a', 'a']);
  });

  it('retries a failing key with backoff and reports each failure', async () => {
    const errors: string[] = [];
    let calls = 0;
    const queue = createKeyQueue({
      process: async () => {
        calls++;
        if (calls < 3) throw new Error(`fail ${calls}`);
      },
      onError: (key, err) => errors.push(`${key}: ${(err as Error).message}`),
      retryBaseMs: 5,
      retryMaxMs: 10,
    });
    queue.add('k');
    await expect.poll(() => calls).toBe(3);
    expect(errors).toEqual(['k: fail 1', 'k: fail 2']);
    await queue.stop();
  });

  it.each<{ name: string; result: KeyResult; runs: number }>([
    { name: 'again runs at once', result: { again: true }, runs: 2 },
    { name: 'requeueAfterMs runs later', result: { requeueAfterMs: 5 }, runs: 2 },
    { name: 'nothing ends the key', result: {}, runs: 1 },
  ])('$name', async ({ result, runs }) => {
    let calls = 0;
    const queue = createKeyQueue({
      process: async () => {
        calls++;
        return calls === 1 ? result : {};
      },
    });
    queue.add('k');
    await expect.poll(() => calls).toBe(runs);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(runs);
    await queue.stop();
  });

  it('runs at most `workers` keys at once', async () => {
    let active = 0;
    let peak = 0;
    const done: string[] = [];
    const queue = createKeyQueue({
      workers: 2,
      process: async (key) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        done.push(key);
      },
    });
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
    await expect.poll(() => done.length).toBe(5);
    expect(peak).toBe(2);
    await queue.stop();
  });

  it('stop() waits for the run in flight and drops pending keys and timers', async () => {
    const runs: string[] = [];
    const first = gate();
    const queue = createKeyQueue({
      workers: 1,
      process: async (key) => {
        runs.push(key);
        if (key === 'a') await first.opened;
      },
    });
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 1);
    await expect.poll(() => runs).toEqual(['a']);
    const stopped = queue.stop();
    first.open();
    await stopped;
    await new Promise((resolve) => setTimeout(resolve, 10));
    queue.add('d');
    expect(runs).toEqual(['a']);
    expect(queue.size()).toBe(0);
  });
});
