import { spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fetchJemalloc } from '../../bin/fetch-jemalloc.ts';
import { formatDuration, sweepStale } from '../../sandbox/index.ts';
import { isRunning, readState, type SandboxState, sandboxDir } from './state.ts';

const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));
const UP_TIMEOUT_MS = 45 * 60_000; // a cold build of the Kubernetes binaries is part of the first run
const DOWN_TIMEOUT_MS = 60_000;
const POLL_MS = 300;

const out = (line = '') => process.stdout.write(`${line}\n`);

/**
 * `sandbox up`: starts the sandbox process in the background (or finds it running: idempotent)
 * and follows its progress until it is ready. Resolves the exit code.
 */
export async function sandboxUp(
  spokes: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const dir = sandboxDir(env);
  const current = readState(dir);
  if (current && isRunning(current.pid)) {
    out(`a sandbox is already running (pid ${current.pid}, ${current.phase})`);
    if (current.phase === 'ready') printReady(current);
    return current.phase === 'failed' ? 1 : 0;
  }
  if (current) cleanUp(dir, current); // left by a sandbox process that died
  // The sandbox's processes run on jemalloc, as the container image's do: on a machine without
  // it, this fetches Debian's library into the cache first (a second or two, once).
  await fetchJemalloc({ env, progress: (line) => out(`  ${line}`) });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = join(dir, 'sandbox.log');
  const fd = openSync(log, 'a');
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, 'sandbox', 'serve', '--spokes', String(spokes)], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env,
  });
  child.unref();
  let shown = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const state = readState(dir);
    for (const line of state?.progress.slice(shown) ?? []) out(`  ${line.replace(/^\S+ /, '')}`);
    shown = state?.progress.length ?? 0;
    if (state?.phase === 'ready') {
      out(`sandbox ready in ${formatDuration(Date.now() - started)}`);
      printReady(state);
      return 0;
    }
    if (state?.phase === 'failed' || !isRunning(child.pid)) {
      out(`sandbox failed: ${state?.error ?? 'the sandbox process exited'}; log: ${log}`);
      return 1;
    }
    if (Date.now() - started > UP_TIMEOUT_MS) {
      out(`sandbox not ready after ${formatDuration(UP_TIMEOUT_MS)}; log: ${log}`);
      return 1;
    }
  }
}

/** `sandbox status`. Resolves the exit code: 0 when a sandbox is ready. */
export async function sandboxStatus(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const dir = sandboxDir(env);
  const state = readState(dir);
  if (!state || !isRunning(state.pid)) {
    out('no sandbox is running');
    return 1;
  }
  out(`sandbox ${state.phase} (pid ${state.pid}, since ${state.startedAt})`);
  if (state.proxyServer?.health) {
    const ready = await fetch(`${state.proxyServer.health}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    out(`proxy-server: ${ready ? 'ready' : 'not ready'} (${state.proxyServer.health})`);
  }
  for (const c of state.clusters)
    out(
      `  ${c.name}\tagent ${isRunning(c.agentPid) ? 'running' : 'stopped'}\t${c.tunnelKubeconfig}`,
    );
  return state.phase === 'ready' ? 0 : 1;
}

/** `sandbox down`: stops the sandbox process and everything it started, and removes its state. */
export async function sandboxDown(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const dir = sandboxDir(env);
  const state = readState(dir);
  if (!state) {
    out('no sandbox to stop');
    return 0;
  }
  if (isRunning(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + DOWN_TIMEOUT_MS;
    while (isRunning(state.pid) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, POLL_MS));
  }
  cleanUp(dir, state);
  out('sandbox stopped; its processes and state are gone');
  return 0;
}

/** Kills whatever a (dead or stuck) sandbox left and removes its folder. */
function cleanUp(dir: string, state: SandboxState): void {
  for (const pid of [state.pid, ...state.clusters.map((c) => c.agentPid)]) {
    if (pid !== undefined && isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
  sweepStale(join(dir, 'planes'));
  rmSync(dir, { recursive: true, force: true });
}

function printReady(state: SandboxState): void {
  out();
  out('The hub (its API server holds the platform state):');
  out(`  export KUBECONFIG=${state.hub?.kubeconfig ?? ''}`);
  out();
  out('Spokes, reached only through the tunnel (proxy-server CONNECT frontend → agent):');
  for (const c of state.clusters)
    out(`  kubectl --kubeconfig ${c.tunnelKubeconfig} get namespaces`);
  if (state.gateway !== undefined && state.clusters.length > 0) {
    out();
    out(
      'Spokes through the cluster gateway, as the hub admin (spokelink:hub:sandbox-admin there):',
    );
    for (const c of state.clusters)
      out(`  kubectl --kubeconfig <(spokelink kubeconfig ${c.name}) get ns`);
  }
  out();
  out('The clusters, as the hub sees them:');
  out('  spokelink get clusters');
  out();
  out('spokelink sandbox status | spokelink sandbox down');
}
