// Node flags of the two tunnel processes (`spokelink proxy-server`, `spokelink agent`) and the
// hub (`spokelink hub`).
//
// `--expose-gc`: their tunnel sessions ask V8 for a young-generation collection after every
// 8 MiB of DATA, which frees the short-lived Buffers each relayed byte passes through before
// they pile up into a full collection of the whole heap (protocol/session/young-collections.ts
// says why and how). In `npm run bench:tunnel -- --quick`, alternating runs with and without:
// full collections 68–98 → 18–34 in the proxy-server and 76 → 12 in the agent, CPU per GB
// relayed 3.9–4.3 → 2.3–3.0 s and 4.2–4.7 → 1.6–2.3 s (README, "Benchmarks").
//
// The hub runs with it too, together with the floor below. Before the floor, in the benchmark's
// client process (the hub's side of the tunnel), forced scavenges had cost 0.3 s and left 73–76 of
// its 85 full collections: V8's headroom heuristic (below) started those, whatever was allocated.
// With the floor, the full collections left were started by external memory (27 of 35 per `--quick`
// run: the Buffers of what it sent, freed only by full collections, since its young generation
// rarely filled); the paced scavenges free them first: full collections 35 → 10, scavenges 14 →
// 158, and in three alternating pairs of `--quick` runs that process's CPU per GB sent 4.32 / 4.06
// / 3.87 → 3.13 / 3.32 / 3.20 s. V8's `--external-memory-accounted-in-global-limit` (external
// memory counted towards the heap's own growth limit instead of a fixed 64 MiB trigger) had helped
// that process as well (full collections 81–86 → 34–35), but the hub delivering work to 1,000
// clusters (`npm run bench:work`) then ran at 1,570 MiB of RSS against 1,201 (1,102–1,310 in the
// ten runs before), so the hub keeps V8's default there.
//
// `--initial-old-space-size=64`, the standalone proxy-server: V8 then runs no full collection while
// the old generation is under 64 MiB. Without it, a proxy-server whose live heap is small (≈ 20 MiB
// while relaying) gets an allocation limit only 8 MiB above it (V8's smallest growth step), and V8
// starts a full collection whenever that headroom is smaller than its young generation
// (`Heap::IncrementalMarkingLimitReached`), so once a burst had grown the young generation (the
// gRPC agents' section of `npm run bench:tunnel`), the proxy-server collected its whole heap about
// three times a second while relaying for the WebSocket agents: ≈ 47 full collections against 1
// with the floor, in the same `--quick` section, and 3.6 / 4.8 against 2.4 / 2.8 s of CPU per GB
// relayed in two alternating pairs of runs. The cost is at most 64 MiB of heap before the first
// full collection, in one process per hub. The agents keep V8's default: one runs on every spoke,
// where memory is the scarcer thing, and they collect rarely since the paced scavenges (above).
//
// `--initial-old-space-size=128`, `spokelink hub` (the proxy-server and the controllers in one
// process; with `--expose-gc`, above): the same heuristic made the benchmark's client process,
// which plays the hub's side of the tunnel, collect its whole heap about twelve times a second
// while it sent (live heap ≈ 35 MiB, limit 74 MiB, young generation 32 MiB; 78–84 full collections
// per `--quick` run, started by V8's marking task, each freeing next to nothing). With a 128 MiB
// floor, in three alternating pairs of `npm run bench:tunnel -- --quick` runs: that process's CPU
// per GB sent 7.71 / 6.11 / 6.63 → 4.66 / 4.21 / 4.92 s, tunnel MB/s 157 / 184 / 169 → 188 / 212 /
// 168. A hub holding many clusters has a live heap far above the floor, where it changes nothing;
// with 100 clusters (`npm run bench:work -- --quick`) its RSS was 474–475 MiB with the floor
// against 479–504 without, and the work was applied as fast.
//
// A flag given on Node's command line or in NODE_OPTIONS wins, in either form: the CLI adds none
// that names the same V8 flag (`NODE_OPTIONS=--no-expose-gc` turns the collections off).

/** The flags both tunnel processes run with (see the file comment). */
export const TUNNEL_V8_FLAGS: readonly string[] = ['--expose-gc'];

/** The proxy-server's: the tunnel flags and a 64 MiB floor under its old generation. */
export const PROXY_SERVER_V8_FLAGS: readonly string[] = [
  ...TUNNEL_V8_FLAGS,
  '--initial-old-space-size=64',
];

/** `spokelink hub`'s: the tunnel flags and a 128 MiB floor under its old generation. */
export const HUB_V8_FLAGS: readonly string[] = [...TUNNEL_V8_FLAGS, '--initial-old-space-size=128'];

/** The flags `spokelink <command>` runs with; none for the CLI's other commands. */
export function v8FlagsFor(command: string | undefined): readonly string[] {
  if (command === 'proxy-server') return PROXY_SERVER_V8_FLAGS;
  if (command === 'agent') return TUNNEL_V8_FLAGS;
  if (command === 'hub') return HUB_V8_FLAGS;
  return [];
}

/** `--max_semi_space_size=4` → `max-semi-space-size`; `--no-expose-gc` → `expose-gc`. */
function flagName(arg: string): string {
  return arg
    .replace(/^--(no-)?/, '')
    .split('=')[0]!
    .replaceAll('_', '-');
}

/**
 * The flags of `wanted` that the process does not have yet: those whose name (with or without
 * `no-`) appears neither in `execArgv` (Node's own command-line flags) nor in `nodeOptions`
 * (NODE_OPTIONS).
 */
export function missingV8Flags(
  wanted: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = new Set(
    [...execArgv, ...(nodeOptions ?? '').split(/\s+/)]
      .filter((a) => a.startsWith('--'))
      .map(flagName),
  );
  return wanted.filter((flag) => !given.has(flagName(flag)));
}
