// The main job as a user runs it: `spokelink sandbox up`, kubectl to a spoke through the
// tunnel, `sandbox status`, `sandbox down` — and nothing left behind.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, inject, it, onTestFinished } from 'vitest';

import { eventually, kubectl } from '../framework/kubectl.ts';

const hub = inject('hub');
const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('spokelink sandbox', () => {
  it('comes up with a hub and a spoke reachable through the tunnel, and goes down leaving nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'spokelink-home-'));
    const env = {
      ...process.env,
      SPOKELINK_HOME: home,
      SPOKELINK_K8S_BIN_DIR: dirname(hub.binaries.etcd),
    };
    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          [BIN, 'sandbox', ...args],
          { env, timeout: 180_000 },
          (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
        );
      });
    onTestFinished(async () => {
      await run('down');
      rmSync(home, { recursive: true, force: true });
    });

    const up = await run('up', '--spokes', '1');
    expect(up.code, up.stdout).toBe(0);
    expect(up.stdout).toMatch(/^sandbox ready in \d+s$/m);
    const tunnelKubeconfig = join(home, 'sandbox', 'kubeconfigs', 'cluster1.kubeconfig');
    expect(up.stdout).toContain(`kubectl --kubeconfig ${tunnelKubeconfig} get namespaces`);
    expect(up.stdout).toContain(
      `export KUBECONFIG=${join(home, 'sandbox', 'kubeconfigs', 'hub.kubeconfig')}`,
    );

    // The spoke answers through the proxy-server and the agent.
    const ns = await kubectl(hub.binaries.kubectl, ['get', 'namespaces', '-o', 'name'], {
      kubeconfig: tunnelKubeconfig,
    });
    expect(ns.stdout.split('\n')).toContain('namespace/kube-system');

    // And through the cluster gateway, as the sandbox's hub admin, with no flags at all.
    expect(up.stdout).toContain('kubectl --kubeconfig <(spokelink kubeconfig cluster1) get ns');
    const printed = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [BIN, 'kubeconfig', 'cluster1'],
        { env, timeout: 30_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(stderr, { cause: err })) : resolve(stdout),
      );
    });
    expect(printed).not.toContain('insecure-skip-tls-verify');
    const gatewayKubeconfig = join(home, 'cluster1-gateway.kubeconfig');
    writeFileSync(gatewayKubeconfig, printed, { mode: 0o600 });
    const viaGateway = await eventually(
      'kubectl get ns through the gateway',
      async () => {
        const run = await kubectl(hub.binaries.kubectl, ['get', 'ns', '-o', 'name'], {
          kubeconfig: gatewayKubeconfig,
        });
        return run.code === 0 ? run : undefined;
      },
      30_000,
      500,
    );
    expect(viaGateway.stdout.split('\n')).toContain('namespace/open-cluster-management-agent');

    // The hub sees the spoke accepted and Available, through the tunnel, with no flags.
    const clusters = await new Promise<string>((resolve, reject) => {
      const noKubeconfig: NodeJS.ProcessEnv = { ...env };
      delete noKubeconfig['KUBECONFIG'];
      execFile(
        process.execPath,
        [BIN, 'get', 'clusters'],
        { env: noKubeconfig, timeout: 30_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(stderr, { cause: err })) : resolve(stdout),
      );
    });
    const lines = clusters.trim().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual([
      'NAME',
      'ACCEPTED',
      'AVAILABLE',
      'CLUSTERSET',
      'KUBERNETES VERSION',
      'AGE',
    ]);
    // The hub puts a cluster that names no set into OCM's `default` set.
    expect(lines[1]).toMatch(/^cluster1\s+true\s+True\s+default\s+v1\.36\.3\s+\d+[smhd]$/);

    // Idempotent, and status agrees.
    const again = await run('up', '--spokes', '1');
    expect(again.stdout).toMatch(/^a sandbox is already running \(pid \d+, ready\)$/m);
    const status = await run('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^ {2}cluster1\tagent running\t/m);

    // Every process the sandbox started, from its own records.
    const state = JSON.parse(readFileSync(join(home, 'sandbox', 'state.json'), 'utf8')) as {
      pid: number;
      clusters: Array<{ agentPid: number }>;
    };
    const planesDir = join(home, 'sandbox', 'planes');
    const planePids = readdirSync(planesDir).flatMap(
      (d) =>
        (JSON.parse(readFileSync(join(planesDir, d, 'owner.json'), 'utf8')) as { pids: number[] })
          .pids,
    );
    const pids = [state.pid, ...state.clusters.map((c) => c.agentPid), ...planePids];
    expect(pids.length).toBe(2 + 2 * 3);
    expect(pids.filter(isRunning)).toEqual(pids);

    const down = await run('down');
    expect(down.stdout.trim()).toBe('sandbox stopped; its processes and state are gone');
    expect(pids.filter(isRunning)).toEqual([]);
    expect(existsSync(join(home, 'sandbox'))).toBe(false);
  });
});
