import { describe, expect, it } from 'vitest';

import { createLabelOverlay } from './label-overlay.ts';

const cluster = (labels: Record<string, string> = {}) => ({
  metadata: { name: 'c1', resourceVersion: '7', labels },
  spec: { hubAcceptsClient: true },
});

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('createLabelOverlay', () => {
  it('shows written labels over reads that do not have them yet, leaving the reads unchanged', () => {
    const time = clock();
    const overlay = createLabelOverlay({ holdMs: 10_000, now: time.now });
    const read = cluster({ keep: 'yes', gone: 'soon' });
    overlay.record('c1', { feature: 'available', gone: null });
    const seen = overlay.apply('c1', read);
    expect(seen?.metadata.labels).toEqual({ keep: 'yes', feature: 'available' });
    expect(seen?.spec).toEqual({ hubAcceptsClient: true });
    expect(read.metadata.labels).toEqual({ keep: 'yes', gone: 'soon' });
    time.advance(9_000);
    expect(overlay.apply('c1', cluster())?.metadata.labels).toEqual({ feature: 'available' });
    expect(overlay.apply('other', cluster({ x: 'y' }))?.metadata.labels).toEqual({ x: 'y' });
    expect(overlay.size).toBe(1);
  });

  it('forgets the written labels once a read shows them all', () => {
    const overlay = createLabelOverlay();
    overlay.record('c1', { a: '1', b: null });
    expect(overlay.apply('c1', cluster({ a: '1', b: 'x' }))?.metadata.labels).toEqual({ a: '1' });
    expect(overlay.size).toBe(1);
    expect(overlay.apply('c1', cluster({ a: '1', c: '3' }))?.metadata.labels).toEqual({
      a: '1',
      c: '3',
    });
    expect(overlay.size).toBe(0);
    // Forgotten: a later change by someone else shows as it is.
    expect(overlay.apply('c1', cluster({ a: '2' }))?.metadata.labels).toEqual({ a: '2' });
  });

  it('merges writes and holds them for the hold time after the last one', () => {
    const time = clock();
    const overlay = createLabelOverlay({ holdMs: 10_000, now: time.now });
    overlay.record('c1', { a: '1' });
    time.advance(8_000);
    overlay.record('c1', { b: '2', a: '3' });
    time.advance(8_000);
    expect(overlay.apply('c1', cluster())?.metadata.labels).toEqual({ a: '3', b: '2' });
    time.advance(2_001);
    // Someone else's value, not seen for the hold time, is seen after it.
    expect(overlay.apply('c1', cluster({ a: '9' }))?.metadata.labels).toEqual({ a: '9' });
    expect(overlay.size).toBe(0);
  });

  it('forgets the labels of an object that is gone', () => {
    const overlay = createLabelOverlay();
    overlay.record('c1', { feature: 'available' });
    expect(overlay.apply('c1', undefined)).toBeUndefined();
    expect(overlay.size).toBe(0);
    expect(overlay.apply('c1', cluster())?.metadata.labels).toEqual({});
  });
});
