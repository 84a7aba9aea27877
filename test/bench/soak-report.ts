// The soak benchmark's verdict (test/bench/soak.ts): from the final readings of every process
// against its baseline, what leaked; the summary JSON and the table on stderr.
import type { Tally } from './soak-churn.ts';
import type { Reading } from './soak-kit.ts';

/** RSS may grow this much over its baseline (issue 9). */
export const RSS_GROWTH_LIMIT_PCT = 5;
/**
 * TCP sockets and timers may exceed their baseline by this much: keep-alive connections to the
 * API servers and controller timers come and go by one or two; a leak grows with the churn
 * (thousands of streams, dozens of restarts) far past it.
 */
export const SOCKET_SLACK = 3;
export const TIMER_SLACK = 3;

export interface ProcessResult {
  readonly name: string;
  /** How many times the process was started (1 = never restarted). */
  readonly generation: number;
  readonly baseline: Reading | undefined;
  readonly final: Reading;
}

export interface SoakInput {
  readonly minutes: number;
  /** The malloc the hub and agents ran on (bench-kit's describeAllocator). */
  readonly allocator: string;
  /**
   * Open streams are measured against each process's baseline (the hub controllers hold watches
   * through the tunnel) rather than against 0.
   */
  readonly streamsAtBaseline: boolean;
  readonly tally: Tally;
  readonly processes: readonly ProcessResult[];
  readonly clientStats: { openStreams: number; pendingDials: number };
  readonly targetOpen: number;
  readonly targetBadUp: number;
}

export interface Verdict {
  readonly clean: boolean;
  readonly leaks: string[];
  readonly summary: Record<string, unknown>;
  readonly rows: string[][];
}

/**
 * Where a reading's resident memory is, MiB: the V8 heap committed (`heap`, of which `used` is
 * in use), Buffers and other memory outside the heap (`external`), V8's own mallocs
 * (`v8_malloc`), the rest of the anonymous memory (`native`: OpenSSL, libuv, node's own
 * objects, thread stacks and what the allocator keeps of freed memory) and file-backed pages
 * (`file`: the node binary and libraries); apart from the RSS, what the checkpoint's
 * last-resort collection gave back before (`v8_pooled`: heap pages V8 kept mapped). Approximate: `native` is what remains of the
 * anonymous RSS after the others, which are committed sizes, not all of it resident.
 */
export function memoryParts(r: Reading): Record<string, number> {
  const m = r.memory;
  const mib = (kib: number) => Number((kib / 1024).toFixed(1));
  return {
    rss: mib(r.rssKiB),
    heap: mib(m.heapTotalKiB),
    used: mib(m.heapUsedKiB),
    external: mib(m.externalKiB),
    v8_malloc: mib(m.v8MallocKiB),
    native: mib(r.anonKiB - m.heapTotalKiB - m.externalKiB - m.v8MallocKiB),
    file: mib(r.rssKiB - r.anonKiB),
    v8_pooled: mib(r.v8PooledKiB),
  };
}

/** {@link memoryParts} on one line. */
export function formatMemory(r: Reading): string {
  return Object.entries(memoryParts(r))
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(' ');
}

const timers = (r: Reading | undefined) =>
  r === undefined ? Number.NaN : (r.resources['Timeout'] ?? 0) + (r.resources['Immediate'] ?? 0);

export function judge(input: SoakInput): Verdict {
  const { tally } = input;
  const leaks: string[] = [];
  let leakedStreams =
    input.clientStats.openStreams + input.clientStats.pendingDials + input.targetOpen;
  if (input.clientStats.openStreams + input.clientStats.pendingDials > 0)
    leaks.push(`client: ${JSON.stringify(input.clientStats)}`);
  if (input.targetOpen > 0) leaks.push(`target: ${input.targetOpen} connections still open`);
  if (input.targetBadUp > 0) leaks.push(`target: ${input.targetBadUp} streams with wrong bytes`);
  const growth: Record<string, number | null> = {};
  const memory: Record<string, Record<string, [number | null, number]>> = {};
  const sockets: Record<string, [number, number]> = {};
  const timerCounts: Record<string, [number, number]> = {};
  const rows: string[][] = [];
  for (const p of input.processes) {
    const { stats } = p.final;
    const idle = input.streamsAtBaseline ? (p.baseline?.stats['openStreams'] ?? 0) : 0;
    const open = Math.max(0, (stats['openStreams'] ?? 0) - idle) + (stats['pendingDials'] ?? 0);
    leakedStreams += open;
    if (open > 0)
      leaks.push(
        `${p.name}: ${stats['openStreams']} open streams, ${stats['pendingDials']} pending dials`,
      );
    const b = p.baseline;
    const pct = b === undefined ? null : ((p.final.rssKiB - b.rssKiB) / b.rssKiB) * 100;
    growth[p.name] = pct === null ? null : Number(pct.toFixed(2));
    const before = b === undefined ? undefined : memoryParts(b);
    memory[p.name] = Object.fromEntries(
      Object.entries(memoryParts(p.final)).map(([k, v]) => [k, [before?.[k] ?? null, v]]),
    );
    const heapExt = (parts: Record<string, number> | undefined) =>
      parts === undefined ? '-' : ((parts['used'] ?? 0) + (parts['external'] ?? 0)).toFixed(1);
    if (pct !== null && pct > RSS_GROWTH_LIMIT_PCT)
      leaks.push(`${p.name}: RSS grew ${pct.toFixed(1)} % over its baseline`);
    if (b !== undefined) {
      sockets[p.name] = [b.tcpSockets, p.final.tcpSockets];
      timerCounts[p.name] = [timers(b), timers(p.final)];
      if (p.final.tcpSockets > b.tcpSockets + SOCKET_SLACK)
        leaks.push(`${p.name}: ${p.final.tcpSockets} TCP sockets, ${b.tcpSockets} at baseline`);
      if (timers(p.final) > timers(b) + TIMER_SLACK)
        leaks.push(`${p.name}: ${timers(p.final)} timers, ${timers(b)} at baseline`);
      for (const [type, count] of Object.entries(p.final.resources)) {
        const before = b.resources[type] ?? 0;
        if (type !== 'Timeout' && type !== 'Immediate' && count > before + SOCKET_SLACK)
          leaks.push(`${p.name}: ${count} active ${type}, ${before} at baseline`);
      }
    }
    rows.push([
      p.name,
      String(p.generation - 1),
      b === undefined ? '-' : (b.rssKiB / 1024).toFixed(1),
      (p.final.rssKiB / 1024).toFixed(1),
      pct === null ? 'n/a' : pct.toFixed(1),
      `${heapExt(before)} → ${heapExt(memoryParts(p.final))}`,
      `${b?.tcpSockets ?? '-'} → ${p.final.tcpSockets}`,
      `${b === undefined ? '-' : timers(b)} → ${timers(p.final)}`,
      `${stats['openStreams'] ?? '?'}/${stats['pendingDials'] ?? '?'}`,
    ]);
  }
  const measured = Object.values(growth).filter((g): g is number => g !== null);
  const summary = {
    bench: 'soak',
    minutes: input.minutes,
    allocator: input.allocator,
    streams_total: tally.streams_total,
    leaked_streams: leakedStreams,
    rss_growth_pct: measured.length === 0 ? null : Math.max(...measured),
    rss_growth_pct_by_process: growth,
    /** Where the RSS is after a GC, MiB, each part [baseline, end] (see memoryParts). */
    memory_mib_by_process: memory,
    failures: tally.failures,
    disrupted: tally.disrupted,
    restarts: tally.restarts,
    streams_completed: tally.streams_completed,
    streams_cut: tally.streams_cut,
    dials_canceled: tally.dials_canceled,
    stream_gib: Number((tally.stream_bytes / 2 ** 30).toFixed(2)),
    kube_requests: tally.kube_requests,
    kubectl_runs: tally.kubectl_runs,
    watch_starts: tally.watch_starts,
    watch_events: tally.watch_events,
    tcp_sockets_by_process: sockets,
    timers_by_process: timerCounts,
    resources_by_process: Object.fromEntries(
      input.processes.map((p) => [
        p.name,
        { baseline: p.baseline?.resources, final: p.final.resources },
      ]),
    ),
    leaks,
    failure_samples: tally.failureSamples,
  };
  if (tally.watch_events === 0) leaks.push('the watches saw no event');
  return { clean: leaks.length === 0 && tally.failures === 0, leaks, summary, rows };
}

export function printReport(verdict: Verdict, log: (line: string) => void): void {
  const s = verdict.summary;
  log('');
  log(
    `${s['minutes']} min: ${s['streams_total']} streams (${s['streams_completed']} completed, ` +
      `${s['streams_cut']} cut, ${s['dials_canceled']} dials canceled, ${s['stream_gib']} GiB), ` +
      `${s['kube_requests']} gateway requests (${s['kubectl_runs']} kubectl), ` +
      `${s['watch_starts']} watches (${s['watch_events']} events), ${s['restarts']} restarts`,
  );
  log(`failures ${s['failures']}, disrupted by restarts ${s['disrupted']}`);
  const header = [
    'process',
    'restarts',
    'base MiB',
    'end MiB',
    'RSS %',
    'heap+ext MiB',
    'tcp sockets',
    'timers',
    'streams/dials',
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...verdict.rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  log(line(header));
  for (const row of verdict.rows) log(line(row));
  for (const sample of (s['failure_samples'] as string[]) ?? []) log(`failure: ${sample}`);
  for (const leak of verdict.leaks) log(`LEAK: ${leak}`);
  log(verdict.clean ? 'clean: nothing leaked, nothing failed' : 'NOT clean');
}
