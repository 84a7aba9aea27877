#!/usr/bin/env node
// The `spokelink` command. The project runs on the Node 24 LTS that npm installs as a
// devDependency (run it as `npx spokelink` or through npm scripts); its TypeScript sources run
// directly on Node's type stripping.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `spokelink needs Node 24 or newer, this is Node ${process.versions.node}; ` +
      'run `npm install` and then `npx spokelink …`, which uses the Node 24 from node_modules\n',
  );
  process.exit(1);
}
// The two tunnel processes are separate programs with their own flags (`--help` lists them);
// everything else is the hub CLI.
const processes = { 'proxy-server': '../proxy-server/main.ts', agent: '../proxy-agent/main.ts' };
const entry = processes[process.argv[2] ?? ''];
// On Linux, run on jemalloc when it is installed (bin/allocator.ts says why), and the tunnel
// processes and the hub with their Node flags (bin/v8-flags.ts): the process replaces itself with
// the same command, the library preloaded and the flags given to Node. Same pid, same arguments.
const { allocatorEnv, chooseAllocator } = await import('./allocator.ts');
const { execWithV8Flags, HUB_V8_FLAGS, TUNNEL_V8_FLAGS } = await import('./v8-flags.ts');
let allocator;
try {
  allocator = chooseAllocator(process.env);
} catch (err) {
  process.stderr.write(`spokelink: ${err.message}\n`);
  process.exit(1);
}
// The hub's flags for the commands that run one (`hub`; `sandbox serve`, the sandbox's
// supervisor); short commands start without a second exec.
const [command, subcommand] = process.argv.slice(2);
const runsHub = command === 'hub' || (command === 'sandbox' && subcommand === 'serve');
execWithV8Flags(
  entry !== undefined ? TUNNEL_V8_FLAGS : runsHub ? HUB_V8_FLAGS : [],
  allocatorEnv(process.env, allocator),
);
if (entry !== undefined) {
  process.argv.splice(2, 1);
  await import(entry);
} else {
  await import('../hub/cli/main.ts');
}
