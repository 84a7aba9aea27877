// Probes shared between add-on controllers: one request per cluster and path within the TTL,
// a probe in flight joined, other clusters and paths apart.
import { describe, expect, it } from 'vitest';

import { shareProbes } from './addon-controller.ts';
import type { AgentApiProbe } from './addon-decision.ts';

describe('shareProbes', () => {
  it('answers the same cluster and path from one request within the TTL, and asks again after', async () => {
    let clock = 0;
    const shared = shareProbes(15_000, () => clock);
    let runs = 0;
    const run = async (): Promise<AgentApiProbe> => {
      runs++;
      return { answered: true, status: 200 };
    };
    const [a, b] = await Promise.all([
      shared.probe('c1', '/readyz', run),
      shared.probe('c1', '/readyz', run),
    ]);
    expect(runs).toBe(1);
    expect(b).toBe(a);
    clock = 14_999;
    await shared.probe('c1', '/readyz', run);
    expect(runs).toBe(1);
    await shared.probe('c2', '/readyz', run);
    await shared.probe('c1', '/version', run);
    expect(runs).toBe(3);
    clock = 15_000;
    await shared.probe('c1', '/readyz', run);
    expect(runs).toBe(4);
  });
});
