import type { Command } from 'commander';

import { sandboxDown, sandboxStatus, sandboxUp } from '../local-sandbox/commands.ts';
import { sandboxDir } from '../local-sandbox/state.ts';
import { serveSandbox } from '../local-sandbox/supervisor.ts';
import { ensureBinaries, KUBERNETES_VERSION, SandboxError } from '../../sandbox/index.ts';

/** `spokelink sandbox …`: a hub and spokes as real local control planes, joined by the tunnel. */
export function registerSandboxCommands(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('a local hub and spokes as real Kubernetes control planes');

  sandbox
    .command('up')
    .description(
      'start a hub, N spokes, the proxy-server and an agent per spoke in the background (idempotent)',
    )
    .option(
      '--spokes <n>',
      'number of spokes (cluster1, cluster2, …)',
      (v) => Number.parseInt(v, 10),
      2,
    )
    .action(async (opts: { spokes: number }) => {
      if (!Number.isInteger(opts.spokes) || opts.spokes < 0 || opts.spokes > 20) {
        process.stderr.write('error: --spokes must be an integer from 0 to 20\n');
        process.exitCode = 2;
        return;
      }
      process.exitCode = await sandboxUp(opts.spokes);
    });

  sandbox
    .command('status')
    .description('show the running sandbox')
    .action(async () => {
      process.exitCode = await sandboxStatus();
    });

  sandbox
    .command('down')
    .description('stop the sandbox and remove everything it made')
    .action(async () => {
      process.exitCode = await sandboxDown();
    });

  sandbox
    .command('serve', { hidden: true })
    .description('the sandbox process itself (started by `sandbox up`)')
    .option('--spokes <n>', 'number of spokes', (v) => Number.parseInt(v, 10), 2)
    .action(async (opts: { spokes: number }) => {
      await serveSandbox(sandboxDir(), opts.spokes);
    });

  sandbox
    .command('build')
    .description(
      `build (or find in the cache) kube-apiserver, kube-controller-manager, kubectl and etcd ${KUBERNETES_VERSION}`,
    )
    .action(async () => {
      try {
        const paths = await ensureBinaries();
        for (const [name, path] of Object.entries(paths))
          process.stdout.write(`${name}\t${path}\n`);
      } catch (err) {
        if (!(err instanceof SandboxError)) throw err;
        process.stderr.write(`error ${err.code}: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
