// Join benchmark: how long registration takes, from the agent's start to a cluster the hub
// sees Available, measured on real control planes and a real agent process. For each of
// `--count` rounds (default 3) on one hub and one spoke: a fresh token, the join objects, the
// agent started with --registration; then the phases: agent start → ManagedCluster created
// (registration submitted), `accept` → agent connected, `accept` → Available. One JSON object
// per round, then a summary (medians) as the last line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

import { publicKeyHashSha256 } from '../../certs/index.ts';
import { hubCrds } from '../../hub/api/index.ts';
import { startHub } from '../../hub/hub-process/start-hub.ts';
import { applyJoin, applyUnjoin, prepareLocalAgent } from '../../hub/join/join-cluster.ts';
import { installCrds } from '../../hub/kube/index.ts';
import { BootstrapTokens } from '../../hub/registration/bootstrap-tokens.ts';
import { acceptCluster } from '../../hub/registration/cluster-decisions.ts';
import { ensureHubNamespace, ensureHubPki } from '../../hub/registration/hub-pki.ts';
import { ensureBinaries, startControlPlane } from '../../sandbox/index.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '3' } } });
const rounds = Number(values.count);
const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));

const load = (path: string) => {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
  return performance.now();
}

const binaries = await ensureBinaries();
const work = mkdtempSync(join(tmpdir(), 'spokelink-bench-join-'));
const [hubPlane, spokePlane] = await Promise.all([
  startControlPlane({ name: 'bench-hub', binaries }),
  startControlPlane({ name: 'bench-spoke', binaries }),
]);
const hubKc = load(hubPlane.kubeconfigPath);
const spokeKc = load(spokePlane.kubeconfigPath);
const rows: Record<string, number | string>[] = [];
try {
  await installCrds(hubKc, hubCrds());
  await ensureHubNamespace(hubKc);
  const pki = await ensureHubPki(hubKc, { serverNames: ['127.0.0.1'] });
  const hub = await startHub({
    hub: hubKc,
    listen: {
      agentGrpc: 0,
      agentWebSocket: 0,
      frontendGrpc: 0,
      registration: 0,
      gateway: 0,
      health: 0,
    },
  });
  const custom = hubKc.makeApiClient(CustomObjectsApi);
  const getCluster = (name: string) =>
    custom
      .getClusterCustomObject({
        group: 'cluster.open-cluster-management.io',
        version: 'v1',
        plural: 'managedclusters',
        name,
      })
      .then(
        (c) => c as { status?: { conditions?: { type: string; status: string }[] } },
        () => undefined,
      );
  try {
    for (let i = 0; i < rounds; i++) {
      const name = `bench-join-${i}`;
      const { token } = await new BootstrapTokens(hubKc).create({ ttlSeconds: 600 });
      await applyJoin(spokeKc, {
        hub: hub.endpoints.registration ?? '',
        token,
        caHash: publicKeyHashSha256(pki.ca.certPem),
        clusterName: name,
        agentName: 'agent',
        transport: 'grpc',
        image: 'spokelink/spokelink:latest',
        replicas: 0,
      });
      const files = await prepareLocalAgent(spokeKc, join(work, name));
      const t0 = performance.now();
      const agent = spawn(
        process.execPath,
        [
          BIN,
          'agent',
          '--registration',
          '--spoke-kubeconfig',
          files.kubeconfig,
          '--token-file',
          files.tokenFile,
          '--health-port',
          '0',
          '--poll-ms',
          '100',
          '--log-level',
          'warn',
        ],
        { stdio: 'ignore' },
      );
      try {
        const registered = await until(
          async () => (await getCluster(name)) !== undefined,
          'registration',
        );
        const accepted = performance.now();
        await acceptCluster(hubKc, name);
        const connected = await until(
          () => (hub.server?.agents() ?? []).some((a) => a.cluster === name),
          'the tunnel',
        );
        const available = await until(async () => {
          const c = await getCluster(name);
          return (c?.status?.conditions ?? []).some(
            (x) => x.type === 'ManagedClusterConditionAvailable' && x.status === 'True',
          );
        }, 'Available');
        const row = {
          round: i,
          start_to_registered_ms: Math.round(registered - t0),
          accept_to_connected_ms: Math.round(connected - accepted),
          accept_to_available_ms: Math.round(available - accepted),
          start_to_available_ms: Math.round(available - t0),
        };
        rows.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      } finally {
        agent.kill('SIGTERM');
        await new Promise((r) => agent.once('exit', r));
        await applyUnjoin(spokeKc);
        await until(async () => {
          const ns = await spokeKc
            .makeApiClient(CoreV1Api)
            .readNamespace({ name: 'open-cluster-management-agent' })
            .catch(() => undefined);
          return ns === undefined;
        }, 'unjoin');
      }
    }
  } finally {
    await hub.close();
  }
} finally {
  await Promise.all([hubPlane.stop(), spokePlane.stop()]);
  rmSync(work, { recursive: true, force: true });
}
const median = (key: string) => {
  const sorted = rows.map((r) => Number(r[key])).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
process.stdout.write(
  `${JSON.stringify({
    bench: 'join',
    rounds: rows.length,
    start_to_registered_ms: median('start_to_registered_ms'),
    accept_to_connected_ms: median('accept_to_connected_ms'),
    accept_to_available_ms: median('accept_to_available_ms'),
    start_to_available_ms: median('start_to_available_ms'),
  })}\n`,
);
