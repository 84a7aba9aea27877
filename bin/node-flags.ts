// The Node (V8) flags a spokelink program runs with. The CLI re-executes itself with them (as it
// does for the allocator, bin/allocator.ts); the benchmarks start the product's code with them.
//
// The agent: a byte the tunnel carries arrives in Buffers that V8 counts as external memory and
// frees only when a collection finds their (young, small) JS objects dead. An agent allocates
// little else, so with V8's default young generation (semi-spaces that grow to 32 MiB here) its
// scavenges are rare, and what collects those Buffers is a full mark-compact that V8 starts for
// every 64 MiB of external memory — several a second at tunnel speed, each marking the whole
// heap. With 2 MiB semi-spaces scavenges come often enough to free the Buffers first: the
// tunnel benchmark measured the agent's CPU per GB carried falling from 5.3–6.7 s to
// 2.2–3.0 s (full collections 68 → 8–13 in a run). 1 MiB did the same; 4 MiB and more did not.
// The hub and the proxy-server keep V8's defaults: they allocate so little JS per packet that
// even 2 MiB semi-spaces fill too slowly (the benchmark saw no steady gain there).

/** The agent's flags (also what the benchmarks start agent code with). */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * Flags per spokelink program (the CLI's first argument); others get none. `join` runs the
 * agent in its own process with `--run-local`.
 */
export const NODE_FLAGS_BY_PROGRAM: Readonly<Record<string, readonly string[]>> = {
  agent: AGENT_NODE_FLAGS,
  join: AGENT_NODE_FLAGS,
};

/** The flags of `program` (e.g. `agent`); none for a program without its own. */
export function nodeFlagsFor(program: string | undefined): readonly string[] {
  return (
    (program !== undefined && Object.hasOwn(NODE_FLAGS_BY_PROGRAM, program)
      ? NODE_FLAGS_BY_PROGRAM[program]
      : undefined) ?? []
  );
}

/**
 * The flags of `wanted` that `execArgv` does not set yet: a flag the user gave (any value) wins,
 * and one already there is not added twice (the re-executed process sees its own flags).
 */
export function missingNodeFlags(wanted: readonly string[], execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(flagName));
  return wanted.filter((flag) => !given.has(flagName(flag)));
}

/** `--max-semi-space-size=2` → `--max-semi-space-size` (V8 takes `_` and `-` alike). */
function flagName(arg: string): string {
  return (arg.split('=')[0] ?? arg).replaceAll('_', '-');
}
