// The child side of the soak benchmark's probes (test/bench/soak.ts): a child answers
// `{ probe: id }` over IPC with `{ probe: id, stats, resources }`, where `stats` is what the
// child's tunnel part counts (proxy-server or proxy-agent `stats()`) and `resources` counts
// `process.getActiveResourcesInfo()` by type (timers, sockets, handles: what a leak leaves) and
// `memory` the V8 heap (in use and committed), the memory outside it (Buffers) and what V8
// itself mallocs, to tell a leak of objects from RSS the heap or the allocator keeps.
import { getHeapStatistics } from 'node:v8';

/** What a child answers a probe with. */
export interface ProbeAnswer {
  readonly probe: number;
  readonly stats: Record<string, number>;
  readonly resources: Record<string, number>;
  readonly memory: ProbeMemory;
}

/** A child's own view of its memory, KiB. */
export interface ProbeMemory {
  /** V8 heap in use. */
  readonly heapUsedKiB: number;
  /** V8 heap committed (in use or kept for the next allocations). */
  readonly heapTotalKiB: number;
  /** Memory of Buffers and other objects outside the V8 heap. */
  readonly externalKiB: number;
  /** V8's own malloc'ed memory (compiler zones, tables). */
  readonly v8MallocKiB: number;
}

const kib = (bytes: number): number => Math.round(bytes / 1024);

/** The child's memory as {@link ProbeMemory}. */
export function probeMemory(): ProbeMemory {
  const usage = process.memoryUsage();
  return {
    heapUsedKiB: kib(usage.heapUsed),
    heapTotalKiB: kib(usage.heapTotal),
    externalKiB: kib(usage.external),
    v8MallocKiB: kib(getHeapStatistics().malloced_memory),
  };
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
      memory: probeMemory(),
    };
    process.send?.(answer);
  });
}
