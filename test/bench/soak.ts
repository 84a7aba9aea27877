// Soak benchmark (`npm run soak [-- --minutes M | --quick]`, default 5 minutes, --quick 1):
// churn for M minutes against real processes, then prove nothing leaked (issue 9 item 2).
//
// Real parts: a hub and a spoke control plane; the hub process (`startHub`: proxy-server,
// cluster gateway, agent admission, the controllers with --controllers; soak-hub.ts) in a
// child of its own so that it can be killed, restarted and measured alone; three agent
// processes (soak-agent.ts: cluster soak-1 with agents a and b, cluster soak-2 with agent a),
// each with the agent API and the pattern target of this process allow-listed.
//
// Churn, all at once: tunnel streams through the programmatic client (random sizes 1 KiB–8 MiB
// both ways, every byte checked, then close, half-close, cancel, reset or a canceled dial),
// ConfigMap gets/lists/creates/deletes and a Watch per cluster through the gateway (client-node
// with a gateway kubeconfig, one request in twenty by the real kubectl), and every 30–90 s
// (3–6 s with --quick) a restart of an agent or of the hub (SIGTERM, one in three SIGKILL; the
// first restart kills the hub, the second drains an agent); restarts stop after 70 % of the
// time (90 % with --quick).
//
// Readings (a child GC'd over IPC, a last-resort collection included, which unmaps the heap
// pages V8 otherwise keeps resident for reuse; then RSS, /proc TCP sockets, active handles and
// timers, tunnel counters) at checkpoints where the churn pauses (QUIET_MS): the end of warm-up
// (10 % of the time, at least 30 s) gives each process its baseline; a process restarted later gets its
// baseline at the first checkpoint it has run warm-up long for. At the end, after the churn
// stops and FINAL_QUIET_MS (longer than the gateway's 60 s idle-connection close), every
// process is read again: streams and dials must be 0 (with --controllers: at their baseline),
// TCP sockets and active handles within 3 of their baseline, RSS within 5 % of it. Table on
// stderr, JSON last line on stdout, exit code 1 on a leak or a failure.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

import { generateKeyPair, issueCert, renderKubeconfig } from '../../certs/index.ts';
import { HUB_V8_FLAGS, TUNNEL_V8_FLAGS } from '../../bin/v8-flags.ts';
import { CLUSTER_GROUP } from '../../hub/api/index.ts';
import { grantSandboxAdmins } from '../../hub/local-sandbox/spoke-agent-identity.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/identity.ts';
import { createTunnelClient } from '../../proxy-server/client/index.ts';
import { gatewayClusterUrl } from '../../proxy-server/index.ts';
import { ensureBinaries, startControlPlane } from '../../sandbox/index.ts';
import { describeAllocator, prepareAllocator, sleep } from './bench-kit.ts';
import { prepareBenchPlanes } from './bench-planes.ts';
import { newTally, RestartWindows, streamOp } from './soak-churn.ts';
import { keepWatching, KubeWorker, NAMESPACE } from './soak-gateway.ts';
import { type Reading, SoakProcess, startPatternTarget } from './soak-kit.ts';
import { formatMemory, judge, printReport } from './soak-report.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    quick: { type: 'boolean', default: false },
    /** Run the hub controllers too (their watches through the tunnel count as idle streams). */
    controllers: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes ?? (values.quick ? 1 : 5));
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
const quick = values.quick === true || minutes <= 2;
const TOTAL_MS = minutes * 60_000;
const WARMUP_MS = Math.max(30_000, TOTAL_MS / 10);
const CHECKPOINT_EVERY_MS = Math.max(60_000, TOTAL_MS / 10);
// --quick restarts until near the end (its restarted processes then get no RSS baseline).
const RESTARTS_UNTIL_MS = TOTAL_MS * (quick ? 0.9 : 0.7);
const RESTART_GAP_MS: [number, number] = quick ? [3_000, 6_000] : [30_000, 90_000];
/**
 * Quiet between the collection that starts each checkpoint and its reading: longer than
 * jemalloc's 10 s decay, so that the baseline too is read after the allocator gave back what the
 * churn and the collection left (bin/allocator.ts).
 */
const QUIET_MS = 15_000;
const FINAL_QUIET_MS = 75_000;
const STREAM_WORKERS = 4;
const CLUSTERS = ['soak-1', 'soak-2'] as const;
const AGENTS: [string, string][] = [
  ['soak-1', 'a'],
  ['soak-1', 'b'],
  ['soak-2', 'a'],
];
const log = (line: string) => process.stderr.write(`${line}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

process.on('SIGINT', () => process.exit(130));
const binaries = await ensureBinaries();
await prepareAllocator();
const scratch = mkdtempSync(join(tmpdir(), 'spokelink-soak-'));
const file = (name: string, text: string) => {
  const path = join(scratch, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const [hubPlane, spokePlane] = await Promise.all([
  startControlPlane({ name: 'soak-hub', binaries }),
  startControlPlane({ name: 'soak-spoke', binaries }),
]);
const processes: SoakProcess[] = [];
const target = await startPatternTarget();
let exitCode = 0;
try {
  const hubKc = new KubeConfig();
  hubKc.loadFromFile(hubPlane.kubeconfigPath);
  const spokeKc = new KubeConfig();
  spokeKc.loadFromFile(spokePlane.kubeconfigPath);
  const { pki, local } = await prepareBenchPlanes(hubKc, spokeKc, {
    clusterName: 'soak',
    agentDir: join(scratch, 'agent'),
  });
  await grantSandboxAdmins(spokeKc);
  await spokeKc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const custom = hubKc.makeApiClient(CustomObjectsApi);
  for (const name of CLUSTERS) {
    await custom.createClusterCustomObject({
      group: CLUSTER_GROUP,
      version: 'v1',
      plural: 'managedclusters',
      body: {
        apiVersion: `${CLUSTER_GROUP}/v1`,
        kind: 'ManagedCluster',
        metadata: { name },
        spec: { hubAcceptsClient: true },
      },
    });
  }

  // The hub child, on fixed ports (a restarted hub is found where the old one was).
  const [agentPort, frontendPort, gatewayPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const hub = new SoakProcess(
    'hub',
    'test/bench/soak-hub.ts',
    [
      ...['--kubeconfig', hubPlane.kubeconfigPath, '--agent-port', String(agentPort)],
      ...['--frontend-port', String(frontendPort), '--gateway-port', String(gatewayPort)],
      ...(values.controllers === true ? ['--controllers'] : []),
    ],
    HUB_V8_FLAGS,
  );
  processes.push(hub);
  await hub.start();

  const keyPair = generateKeyPair();
  const caFile = file('ca.crt', pki.ca.certPem);
  const spokeCaFile = file('spoke-ca.crt', spokePlane.servingCaPem);
  const targetAddress = `127.0.0.1:${target.port}`;
  const agents = AGENTS.map(([cluster, agent]) => {
    const cert = issueCert(pki.ca, {
      commonName: agentCommonName(cluster, agent),
      organizations: [AGENT_ORGANIZATION],
      usage: 'server-client',
      keyPair,
    });
    return new SoakProcess(
      `agent ${cluster}/${agent}`,
      'test/bench/soak-agent.ts',
      [
        ...['--cluster', cluster, '--agent', agent, '--server', `127.0.0.1:${agentPort}`],
        ...['--cert', file(`${cluster}-${agent}.crt`, cert.certPem)],
        ...['--key', file(`${cluster}-${agent}.key`, cert.keyPem), '--ca', caFile],
        ...['--token-file', local.tokenFile, '--spoke-ca', spokeCaFile],
        ...['--kube-apiserver', new URL(spokePlane.server).host, '--allow', targetAddress],
      ],
      TUNNEL_V8_FLAGS,
    );
  });
  processes.push(...agents);
  await Promise.all(agents.map((a) => a.start()));
  const allConnected = async (timeoutMs: number): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while ((await hub.probe().catch(() => undefined))?.stats['agents'] !== AGENTS.length) {
      if (performance.now() > deadline)
        throw new Error(`the agents did not all connect within ${timeoutMs} ms`);
      await sleep(200);
    }
  };
  await allConnected(60_000);
  log(`hub and ${agents.length} agents up on ${describeAllocator()}; churning for ${minutes} min`);

  // Clients: the tunnel client (a hub certificate) and the gateway (a hub user, sandbox admin).
  const hubClient = issueCert(pki.ca, {
    commonName: 'spokelink:hub:soak',
    usage: 'client',
    keyPair,
  });
  const client = createTunnelClient({
    server: `127.0.0.1:${frontendPort}`,
    transport: 'grpc',
    tls: { certPem: hubClient.certPem, keyPem: hubClient.keyPem, caPem: pki.ca.certPem },
  });
  const user = issueCert(hubPlane.clientCa, {
    commonName: 'soak-admin',
    organizations: ['system:masters', 'sandbox-admins'],
    usage: 'client',
    keyPair,
  });
  const gateway = `https://127.0.0.1:${gatewayPort}`;
  const gatewayConfigs = CLUSTERS.map((cluster) => {
    const text = renderKubeconfig({
      clusterName: cluster,
      contextName: cluster,
      server: gatewayClusterUrl(gateway, cluster),
      caPem: pki.ca.certPem,
      userName: 'soak-admin',
      clientCertPem: user.certPem,
      clientKeyPem: user.keyPem,
    });
    const path = file(`gateway-${cluster}.kubeconfig`, text);
    const kc = new KubeConfig();
    kc.loadFromString(text);
    return { cluster, kc, path };
  });

  // The churn: workers loop until `stopAt`; `paused` holds them between operations.
  const tally = newTally();
  const windows = new RestartWindows();
  const startedAt = performance.now();
  const stopAt = startedAt + TOTAL_MS;
  let paused: Promise<void> | undefined;
  let busy = 0;
  const worker = async (op: () => Promise<void>): Promise<void> => {
    while (performance.now() < stopAt) {
      if (paused !== undefined) await paused;
      busy++;
      const disrupted = tally.disrupted;
      try {
        await op();
      } finally {
        busy--;
      }
      // While a restart is under way operations fail fast: back off rather than spin.
      if (tally.disrupted > disrupted) await sleep(250);
    }
  };
  const kubeWorkers = gatewayConfigs.map(
    ({ cluster, kc, path }) =>
      new KubeWorker(kc, cluster, { binary: binaries.kubectl, kubeconfig: path }),
  );
  const watches = gatewayConfigs.map(({ cluster, kc }) =>
    keepWatching(kc, cluster, tally, windows),
  );
  const work = [
    ...Array.from({ length: STREAM_WORKERS }, () =>
      worker(() =>
        streamOp(
          client,
          CLUSTERS[Math.floor(Math.random() * CLUSTERS.length)] as string,
          targetAddress,
          tally,
          windows,
        ),
      ),
    ),
    ...kubeWorkers.map((k) => worker(() => k.op(tally, windows))),
  ];

  /** Pauses the churn, waits for quiet, reads each process; resumes. */
  const checkpoint = async (
    quietMs: number,
    resume: boolean,
  ): Promise<Map<SoakProcess, Reading>> => {
    let release: () => void = () => undefined;
    paused = new Promise<void>((r) => (release = r));
    while (busy > 0) await sleep(100);
    // Collected first, then the quiet: what the collection frees (up to ~64 MiB of Buffers the
    // churn left) gets the allocator's decay time before RSS is read, as an idle process would.
    // The collection is a last-resort one, which also unmaps the heap pages V8 keeps for reuse
    // (resident, as many as the heap's high-water mark: an ordinary collection keeps them);
    // each reading says how much that gave back (`v8_pooled`).
    const pooled = await Promise.all(processes.map((p) => p.collectGarbage()));
    await sleep(quietMs);
    const readings = new Map<SoakProcess, Reading>();
    for (const [i, p] of processes.entries()) readings.set(p, await p.read(pooled[i]));
    if (resume) {
      paused = undefined;
      release();
    }
    return readings;
  };

  // Restarts, one at a time, each recovered (every agent connected) before the next.
  let restartsDone: Promise<void> = Promise.resolve();
  let restartCount = 0;
  const restarts = (async () => {
    await sleep(WARMUP_MS);
    while (performance.now() - startedAt < RESTARTS_UNTIL_MS) {
      const [lo, hi] = RESTART_GAP_MS;
      await sleep(lo + Math.random() * (hi - lo));
      if (performance.now() - startedAt >= RESTARTS_UNTIL_MS) break;
      if (paused !== undefined) await paused;
      // The first two cover both kinds for sure (the hub killed, an agent drained); then at random.
      const n = restartCount++;
      const victim =
        n === 0 || (n > 1 && Math.random() < 0.3)
          ? hub
          : agents[Math.floor(Math.random() * agents.length)];
      const signal = n === 0 || (n > 1 && Math.random() < 1 / 3) ? 'SIGKILL' : 'SIGTERM';
      const end = windows.begin();
      restartsDone = (async () => {
        try {
          await victim?.restart(signal);
          await allConnected(90_000);
          tally.restarts++;
        } catch (err: unknown) {
          tally.failures++;
          tally.failureSamples.push(`restart of ${victim?.name}: ${String(err)}`);
        } finally {
          end();
        }
      })();
      await restartsDone;
    }
  })();

  // Checkpoints: the first one (end of warm-up) sets every baseline; later ones set the
  // baselines of processes restarted since (once they have run warm-up long).
  await sleep(WARMUP_MS);
  let nextCheckpoint = WARMUP_MS;
  while (nextCheckpoint < TOTAL_MS * 0.95) {
    await restartsDone;
    const readings = await checkpoint(QUIET_MS, true);
    for (const [p, reading] of readings) {
      if (p.baseline === undefined && reading.at - p.startedAt >= WARMUP_MS * 0.9)
        p.baseline = reading;
    }
    log(
      `${((performance.now() - startedAt) / 60_000).toFixed(1)} min: ${tally.streams_total} streams, ` +
        `${tally.kube_requests} requests, ${tally.restarts} restarts, ${tally.failures} failures, ` +
        [...readings].map(([p, r]) => `${p.name} (${formatMemory(r)})`).join(', '),
    );
    nextCheckpoint += CHECKPOINT_EVERY_MS;
    const wait = startedAt + nextCheckpoint - performance.now();
    if (wait > 0) await sleep(Math.min(wait, stopAt - performance.now()));
  }

  // The end: churn over, watches stopped, a long quiet, final readings.
  await restarts;
  await restartsDone;
  await Promise.all(work);
  await Promise.all(watches.map((w) => w.stop()));
  await client.close();
  log(`churn over; quiet for ${FINAL_QUIET_MS / 1000} s`);
  const final = await checkpoint(FINAL_QUIET_MS, false);
  const verdict = judge({
    minutes,
    allocator: describeAllocator(),
    streamsAtBaseline: values.controllers === true,
    tally,
    processes: processes.map((p) => ({
      name: p.name,
      generation: p.generation,
      baseline: p.baseline,
      final: final.get(p) as Reading,
    })),
    clientStats: client.stats(),
    targetOpen: target.stats.open,
    targetBadUp: target.stats.badUp,
  });
  printReport(verdict, log);
  process.stdout.write(`${JSON.stringify(verdict.summary)}\n`);
  if (!verdict.clean) exitCode = 1;
} catch (err: unknown) {
  log(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  exitCode = 1;
} finally {
  await Promise.all(processes.map((p) => p.stop()));
  target.server.close();
  await Promise.all([hubPlane.stop(), spokePlane.stop()]);
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
