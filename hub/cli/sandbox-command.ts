import type { Command } from 'commander';

import {
  ensureBinaries,
  formatDuration,
  KUBERNETES_VERSION,
  SandboxError,
  startControlPlane,
} from '../../sandbox/index.ts';

/** `spokelink sandbox …`: local real control planes. */
export function registerSandboxCommands(program: Command): void {
  const sandbox = program.command('sandbox').description('local real Kubernetes control planes');

  sandbox
    .command('build')
    .description(
      `build (or find in the cache) kube-apiserver, kube-controller-manager, kubectl and etcd ${KUBERNETES_VERSION}`,
    )
    .action(async () => {
      await run(async () => {
        const paths = await ensureBinaries();
        for (const [name, path] of Object.entries(paths))
          process.stdout.write(`${name}\t${path}\n`);
      });
    });

  sandbox
    .command('up')
    .description('start a local control plane and keep it running until Ctrl-C')
    .option('--name <name>', 'cluster name', 'hub')
    .option('--port <port>', 'API server port (default: a free one)', (v) => Number.parseInt(v, 10))
    .action(async (opts: { name: string; port?: number }) => {
      await run(async () => {
        const binaries = await ensureBinaries();
        process.stderr.write(`starting control plane ${opts.name}…\n`);
        const plane = await startControlPlane({
          name: opts.name,
          binaries,
          ...(opts.port === undefined ? {} : { apiserverPort: opts.port }),
        });
        process.stdout.write(
          [
            `control plane ${plane.name} is up at ${plane.server} (started in ${formatDuration(plane.timings.totalMs)})`,
            '',
            'Use it with kubectl:',
            `  export KUBECONFIG=${plane.kubeconfigPath}`,
            '  kubectl get namespaces',
            `  ${binaries.kubectl} get namespaces   # the kubectl ${KUBERNETES_VERSION} built alongside`,
            '',
            'Press Ctrl-C to stop it; everything it made is removed.',
            '',
          ].join('\n'),
        );
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        process.stderr.write('stopping…\n');
        await plane.stop();
      });
    });
}

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof SandboxError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
