/**
 * `spokelink get clusters`: the hub's ManagedClusters as a table, like `clusteradm get
 * clusters` — NAME, ACCEPTED, AVAILABLE, CLUSTERSET, KUBERNETES VERSION, AGE.
 *
 * The hub is `--kubeconfig`, else $KUBECONFIG, else the local sandbox's hub
 * (`spokelink sandbox up`).
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';

import { Labels, ManagedClusterConditionTypes, type ManagedCluster } from '../api/index.ts';
import { kubeManagedClusterStore } from '../kube/index.ts';
import { readState, sandboxDir } from '../local-sandbox/state.ts';

/** A user-facing failure: its message is printed as is, exit code 1. */
export class GetCommandError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GetCommandError';
  }
}

const HEADERS = ['NAME', 'ACCEPTED', 'AVAILABLE', 'CLUSTERSET', 'KUBERNETES VERSION', 'AGE'];

/** The hub kubeconfig: the flag, else $KUBECONFIG, else the sandbox hub's, else in-cluster. */
export function resolveHubKubeconfig(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KubeConfig {
  const kc = new KubeConfig();
  const fromEnv = env['KUBECONFIG'];
  const path =
    flag ??
    (fromEnv !== undefined && fromEnv !== ''
      ? undefined
      : readState(sandboxDir(env))?.hub?.kubeconfig);
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else if (fromEnv !== undefined && fromEnv !== '') kc.loadFromDefault();
    // In a pod (the hub Deployment): its ServiceAccount, whose rotating token is re-read.
    else if ((env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') kc.loadFromCluster();
    else
      throw new GetCommandError(
        'no hub is configured: pass --kubeconfig, set KUBECONFIG, or start one with `spokelink sandbox up`',
      );
  } catch (err: unknown) {
    if (err instanceof GetCommandError) throw err;
    throw new GetCommandError(
      `cannot read the hub kubeconfig: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return kc;
}

/** kubectl-style age: 42s, 5m, 3h, 2d. */
export function formatAge(since: string | null | undefined, now: Date): string {
  if (since === undefined || since === null) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000));
  if (Number.isNaN(seconds)) return '<unknown>';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 2 * 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 2 * 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** The table for `clusters`, sorted by name; columns three spaces apart, as kubectl does. */
export function renderClusterTable(clusters: readonly ManagedCluster[], now: Date): string {
  const rows = [...clusters]
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
    .map((c) => [
      c.metadata?.name ?? '',
      String(c.spec?.hubAcceptsClient === true),
      c.status?.conditions?.find((x) => x.type === ManagedClusterConditionTypes.Available)
        ?.status ?? 'Unknown',
      c.metadata?.labels?.[Labels.ClusterSet] ?? '',
      c.status?.version?.kubernetes ?? '',
      formatAge(c.metadata?.creationTimestamp, now),
    ]);
  const table = [HEADERS, ...rows];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return table
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('   ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** Registers `spokelink get clusters`. */
export function registerGetCommand(program: Command): void {
  const get = program.command('get').description('show objects on the hub');
  get
    .command('clusters')
    .description('list the managed clusters: accepted, available, cluster set, version, age')
    .option('--kubeconfig <file>', 'hub kubeconfig (default: $KUBECONFIG, else the sandbox hub)')
    .action(async (flags: { kubeconfig?: string }) => {
      try {
        const store = kubeManagedClusterStore(resolveHubKubeconfig(flags.kubeconfig));
        let clusters: ManagedCluster[];
        try {
          clusters = await store.list();
        } catch (err: unknown) {
          throw new GetCommandError(
            `cannot list ManagedClusters on the hub: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
            { cause: err },
          );
        }
        if (clusters.length === 0) process.stdout.write('No resources found\n');
        else process.stdout.write(renderClusterTable(clusters, new Date()));
      } catch (err: unknown) {
        if (!(err instanceof GetCommandError)) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
