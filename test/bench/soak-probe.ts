// The child side of the soak benchmark's probes (test/bench/soak.ts): a child answers
// `{ probe: id }` over IPC with `{ probe: id, stats, resources }`, where `stats` is what the
// child's tunnel part counts (proxy-server or proxy-agent `stats()`) and `resources` counts
// `process.getActiveResourcesInfo()` by type (timers, sockets, handles: what a leak leaves) and
// `memory` the V8 heap in use and the memory outside it (Buffers), to tell a leak of objects
// from RSS the allocator keeps.

/** What a child answers a probe with. */
export interface ProbeAnswer {
  readonly probe: number;
  readonly stats: Record<string, number>;
  readonly resources: Record<string, number>;
  readonly memory: { readonly heapUsedKiB: number; readonly externalKiB: number };
}

/** Counts of `process.getActiveResourcesInfo()` by resource type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/**
 * Answers probes from the parent for as long as the IPC channel is open. `stats` is read at
 * each probe; until it can answer (the child is still starting) it returns undefined and the
 * probe gets empty stats.
 */
export function answerProbes(stats: () => Record<string, number> | undefined): void {
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || !('probe' in m)) return;
    const answer: ProbeAnswer = {
      probe: Number((m as { probe: unknown }).probe),
      stats: stats() ?? {},
      resources: activeResources(),
      memory: {
        heapUsedKiB: Math.round(process.memoryUsage().heapUsed / 1024),
        externalKiB: Math.round(process.memoryUsage().external / 1024),
      },
    };
    process.send?.(answer);
  });
}
