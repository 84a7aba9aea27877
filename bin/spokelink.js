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
// processes and the hub with their V8 settings (bin/v8-flags.ts): the process replaces itself
// with the same command, the library preloaded and the flags given to Node. Same pid, same
// arguments.
const { allocatorEnv, chooseAllocator } = await import('./allocator.ts');
const { missingV8Flags, v8FlagsFor } = await import('./v8-flags.ts');
let allocator;
try {
  allocator = chooseAllocator(process.env);
} catch (err) {
  process.stderr.write(`spokelink: ${err.message}\n`);
  process.exit(1);
}
const env = allocatorEnv(process.env, allocator);
const v8Flags =
  typeof process.execve !== 'function'
    ? []
    : missingV8Flags(v8FlagsFor(process.argv[2]), process.execArgv, process.env.NODE_OPTIONS);
if (env !== undefined || v8Flags.length > 0) {
  process.execve(
    process.execPath,
    [process.execPath, ...v8Flags, ...process.execArgv, ...process.argv.slice(1)],
    env ?? process.env,
  );
}
if (entry !== undefined) {
  process.argv.splice(2, 1);
  await import(entry);
} else {
  await import('../hub/cli/main.ts');
}
