// Node flags of the spokelink processes: the two tunnel processes (`spokelink proxy-server`,
// `spokelink agent`) and the hub (`spokelink hub`, and `spokelink sandbox serve`, which runs one;
// the CLI's short commands get none). Both kinds move tunnel data through
// Buffers that die within microseconds, which V8 counts as external memory; left to itself it
// frees them with a full collection of the whole heap for about every 64 MiB of them, because a
// relay allocates too few JavaScript objects per byte for its young-generation collections to
// come first.
//
// Tunnel processes: `--expose-gc`. Their tunnel sessions ask V8 for a young-generation
// collection after every 8 MiB of DATA, which frees those Buffers while they are young
// (protocol/session/young-collections.ts). In `npm run bench:tunnel -- --quick`, alternating
// runs with and without: full collections 68–98 → 18–34 in the proxy-server and 76 → 12 in the
// agent, CPU per GB relayed 3.9–4.3 → 2.3–3.0 s and 4.2–4.7 → 1.6–2.3 s (README, "Benchmarks").
//
// The hub: `--external-memory-accounted-in-global-limit`. The scavenges did not help on the
// hub's side of the tunnel (in the benchmark's client process they cost 0.3 s and left 73–76 of
// its 85 full collections: what that side allocates per byte outlives them). With this V8 flag,
// external memory counts towards the heap's own growth limit instead of its fixed 64 MiB trigger,
// so a larger heap collects less often: the client process's full collections 81–86 → 34–35,
// its CPU per GB 4.7 / 6.2 → 3.4 / 3.2 s, its peak RSS 275 → 340 MiB.
//
// A flag given on Node's command line or in NODE_OPTIONS wins, in either form: the CLI adds none
// that names the same V8 flag (`NODE_OPTIONS=--no-expose-gc` turns the collections off; V8's own
// flags go on Node's command line: `node --no-external-memory-accounted-in-global-limit …`).

/** The flags the tunnel processes run with (see the file comment). */
export const TUNNEL_V8_FLAGS: readonly string[] = ['--expose-gc'];
/** The flags the hub and the rest of the CLI run with (see the file comment). */
export const HUB_V8_FLAGS: readonly string[] = ['--external-memory-accounted-in-global-limit'];

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

/**
 * Replaces the process with the same command run with `flags` given to Node, those it does not
 * have yet (see {@link missingV8Flags}) and `env` (default: its own). Returns (doing nothing) when
 * nothing is missing, no env is given, or the platform cannot replace a process
 * (`process.execve` is POSIX only).
 */
export function execWithV8Flags(flags: readonly string[], env?: NodeJS.ProcessEnv): void {
  if (typeof process.execve !== 'function') return;
  const missing = missingV8Flags(flags, process.execArgv, process.env['NODE_OPTIONS']);
  if (missing.length === 0 && env === undefined) return;
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
    env ?? process.env,
  );
}
