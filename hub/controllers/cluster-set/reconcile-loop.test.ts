import { afterEach, describe, expect, it } from 'vitest';

import { createReconcileLoop, type ReconcileLoop } from './reconcile-loop.ts';

const loops: ReconcileLoop[] = [];
afterEach(async () => {
  await Promise.all(loops.splice(0).map((loop) => loop.stop()));
});

function fixture(reconcileOnce: (key: string) => Promise<boolean> = async () => false) {
  const runs: string[] = [];
  const errors: string[] = [];
  const loop = createReconcileLoop({
    reconcileOnce: async (key) => {
      runs.push(key);
      return reconcileOnce(key);
    },
    listKeys: async () => [],
    intervalMs: 60_000,
    onError: (key, err) => errors.push(`${key}: ${(err as Error).message}`),
  });
  loops.push(loop);
  return { loop, runs, errors };
}

describe('createReconcileLoop', () => {
  it('drops enqueues before start, and runs them after', async () => {
    const f = fixture();
    f.loop.enqueue('a');
    f.loop.enqueueAfter('b', 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(f.runs).toEqual([]);
    f.loop.start();
    f.loop.enqueue('a');
    await expect.poll(() => f.runs).toEqual(['a']);
  });

  it('keeps the earliest pending delay of a key', async () => {
    const f = fixture();
    f.loop.start();
    f.loop.enqueueAfter('k', 60_000);
    f.loop.enqueueAfter('k', 10);
    f.loop.enqueueAfter('k', 30_000);
    await expect.poll(() => f.runs).toEqual(['k']);
  });

  it('coalesces enqueues during a pass into one more pass', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const f = fixture(async () => {
      await gate;
      return false;
    });
    f.loop.start();
    f.loop.enqueue('k');
    f.loop.enqueue('k');
    f.loop.enqueue('k');
    release();
    await expect.poll(() => f.runs).toEqual(['k', 'k']);
  });

  it('reports a failed pass once and retries it', async () => {
    let failures = 1;
    const f = fixture(async () => {
      if (failures-- > 0) throw new Error('HTTP 500');
      return false;
    });
    f.loop.start();
    f.loop.enqueue('k');
    f.loop.enqueue('k'); // joins the failing pass: still one report
    await expect.poll(() => f.runs, { timeout: 5_000 }).toEqual(['k', 'k']);
    expect(f.errors).toEqual(['k: HTTP 500']);
  });
});
