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
await import('../hub/cli/main.ts');
