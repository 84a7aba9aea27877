// Work benchmark (`npm run bench:work [-- --quick] [-- --clusters N] [-- --agent-transport
// websocket|grpc]`): how long the hub takes to apply one ManifestWork on every one of N clusters
// through the tunnel (agents on WebSocket by default, as `spokelink join` sets them up).
//
// Real parts only: a hub and a spoke control plane, the hub process (`startHub`: proxy-server,
// registration controller, cluster status, the work controller, …) in this process (with
// `spokelink hub`'s V8 flags), and N real
// agents (in child processes, up to 500 each), each its own cluster: an accepted
// ManagedCluster, a certificate from the hub CA, admitted by the proxy-server, serving the agent
// API. All N are backed by the one real spoke API server, so each cluster's work applies into
// its own namespace there: a Namespace `bench-<cluster>` and a ConfigMap in it. The works are
// one per cluster namespace and named after the cluster, because the one spoke holds every
// cluster's AppliedManifestWork (`<hubHash>-<work>`), which a shared work name would collide on.
//
// Phases: clusters created and accepted; agents started → all connected; all Available; every
// add-on of every cluster Available (the hub has settled: only its steady resyncs run; the CPU
// it uses then, over 10 s (3 s with --quick), is `hub_settled_cpu_pct`, a share of one core); then
// the N works are created (50 at a time) and `all_applied_s` is the time from the first create
// until the last work reports Applied=True on the hub (read from a watch of the works, in this
// process: a figure is late by the event's way to it, never early). `--profile FILE` writes a
// CPU profile of this process (the hub) during that phase. Afterwards the spoke is asked how many
// of the ConfigMaps exist (it must be N). A table goes to stderr and the summary as
// the LAST stdout line (JSON).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

import { HUB_V8_FLAGS, TUNNEL_V8_FLAGS } from '../../bin/v8-flags.ts';
import { ADDON_GROUP, CLUSTER_GROUP, WORK_GROUP } from '../../hub/api/index.ts';
import { SLOW_STOP_WARNING, startHub } from '../../hub/hub-process/start-hub.ts';
import { startCustomInformer } from '../../hub/kube/informer.ts';
import {
  SERVER_SHUTDOWN_TIMEOUT_WARNING,
  SERVER_SLOW_CLOSE_WARNING,
  SILENT_LOGGER,
} from '../../proxy-server/index.ts';
import { ensureBinaries, startControlPlane } from '../../sandbox/index.ts';
import {
  type Child,
  cpuSeconds,
  machineBusySeconds,
  median,
  percentile,
  rssKiB,
  runWithV8Flags,
  sleep,
  prepareAllocator,
  startChild,
} from './bench-kit.ts';
import { prepareBenchPlanes } from './bench-planes.ts';

// This process is the hub: it runs with `spokelink hub`'s V8 flags.
runWithV8Flags(HUB_V8_FLAGS);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clusters: { type: 'string' },
    'per-process': { type: 'string', default: '500' },
    /** Write a CPU profile of this (the hub's) process during the apply phase to this file. */
    profile: { type: 'string' },
    /** The agents' tunnel transport; default what `spokelink join` sets up. */
    'agent-transport': { type: 'string', default: 'websocket' },
  },
});
const N = Number(values.clusters ?? (values.quick ? 100 : 1000));
const PER_PROCESS = Number(values['per-process']);
const TRANSPORT = values['agent-transport'];
if (TRANSPORT !== 'websocket' && TRANSPORT !== 'grpc')
  throw new Error(`--agent-transport must be websocket or grpc, got ${String(TRANSPORT)}`);
const PREFIX = 'bw-';
const LABEL = 'spokelink.io/bench';
const log = (line: string) => process.stderr.write(`${line}\n`);

const load = (path: string) => {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
};

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(lanes);
}

async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  periodMs = 100,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(periodMs);
  }
}

/** The inspector's CPU profiler on this process. */
async function startProfile() {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (err, result) => (err ? reject(err) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stopInto(file: string) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

interface Conditioned extends KubernetesObject {
  status?: { conditions?: { type: string; status: string }[] };
}
const isTrue = (o: Conditioned, type: string) =>
  o.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true;

function workFor(cluster: string): KubernetesObject & Record<string, unknown> {
  const namespace = `bench-${cluster}`;
  return {
    apiVersion: `${WORK_GROUP}/v1`,
    kind: 'ManifestWork',
    metadata: { name: `bench-${cluster}`, namespace: cluster, labels: { [LABEL]: 'work' } },
    spec: {
      workload: {
        manifests: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'bench', namespace, labels: { [LABEL]: 'work' } },
            data: { cluster, payload: 'x'.repeat(256) },
          },
        ],
      },
    },
  };
}

process.on('SIGINT', () => process.exit(130));
const binaries = await ensureBinaries();
await prepareAllocator();
const scratch = mkdtempSync(join(tmpdir(), 'spokelink-bench-work-'));
const started = performance.now();
const [hubPlane, spokePlane] = await Promise.all([
  startControlPlane({ name: 'bench-work-hub', binaries }),
  startControlPlane({ name: 'bench-work-spoke', binaries }),
]);
const hubKc = load(hubPlane.kubeconfigPath);
const spokeKc = load(spokePlane.kubeconfigPath);
const children: Child[] = [];

/**
 * Requests an API server has served so far, by `VERB resource[/subresource]`, from its
 * `apiserver_request_total` (read with the real kubectl).
 */
function apiRequests(kubeconfigPath: string): Map<string, number> {
  const out = spawnSync(
    binaries.kubectl,
    ['--kubeconfig', kubeconfigPath, 'get', '--raw', '/metrics'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (out.status !== 0) throw new Error(`kubectl get --raw /metrics: ${out.stderr}`);
  const counts = new Map<string, number>();
  for (const m of out.stdout.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries(
      [...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    const sub = labels['subresource'] ? `/${labels['subresource']}` : '';
    const key = `${labels['verb']} ${labels['resource'] ?? ''}${sub}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

/**
 * Starts counting the requests of both API servers; the returned function gives what each
 * served since, per work (`n`), leaving out kinds of request under 0.05 per work.
 */
function requestsPerWork(n: number): () => Record<string, Record<string, number>> {
  const planes = { hub: hubPlane.kubeconfigPath, spoke: spokePlane.kubeconfigPath };
  const before = Object.fromEntries(
    Object.entries(planes).map(([name, path]) => [name, apiRequests(path)]),
  );
  return () =>
    Object.fromEntries(
      Object.entries(planes).map(([name, path]) => {
        const per: Record<string, number> = {};
        for (const [key, count] of apiRequests(path)) {
          const perWork = (count - (before[name]?.get(key) ?? 0)) / n;
          if (perWork >= 0.05) per[key] = Number(perWork.toFixed(2));
        }
        return [name, per];
      }),
    );
}

/**
 * Starts counting CPU seconds by part: the hub (this process), the agent processes, each
 * control-plane process (`hub-kube-apiserver`, `spoke-etcd`, …) and the machine as a whole;
 * the returned function reads what each used since.
 */
function cpuSplit(): () => Record<string, number> {
  const parts = (): Array<[string, number[]]> => [
    ['hub', [process.pid]],
    ['agents', children.map((c) => c.pid)],
    ...Object.entries(hubPlane.pids()).map(([n, pid]): [string, number[]] => [`hub-${n}`, [pid]]),
    ...Object.entries(spokePlane.pids()).map(([n, pid]): [string, number[]] => [
      `spoke-${n}`,
      [pid],
    ]),
  ];
  const read = () => {
    const used: Record<string, number> = { machine: machineBusySeconds() };
    for (const [name, pids] of parts()) used[name] = pids.reduce((a, p) => a + cpuSeconds(p), 0);
    return used;
  };
  const before = read();
  return () =>
    Object.fromEntries(
      Object.entries(read()).map(([k, v]) => [k, Number((v - (before[k] ?? 0)).toFixed(1))]),
    );
}
const hubErrors = new Map<string, number>();
/** What the silent hub logs all the same: the parts that hold up its close, by name. */
const CLOSE_WARNINGS = new Set([
  SLOW_STOP_WARNING,
  SERVER_SLOW_CLOSE_WARNING,
  SERVER_SHUTDOWN_TIMEOUT_WARNING,
]);
let hub: Awaited<ReturnType<typeof startHub>> | undefined;
let exitCode = 0;
try {
  log(`control planes up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const { pki, local } = await prepareBenchPlanes(hubKc, spokeKc, {
    clusterName: 'bench',
    agentDir: join(scratch, 'agent'),
  });
  hub = await startHub({
    hub: hubKc,
    leaderElection: false,
    // Silent, but for the parts that hold up its close (the benchmark fails on a hub that does
    // not close within 30 s).
    logger: {
      ...SILENT_LOGGER,
      warn: (msg, fields) => {
        if (CLOSE_WARNINGS.has(msg)) log(`${msg}: ${JSON.stringify(fields)}`);
      },
    },
    listen: { agentGrpc: 0, registration: 0, gateway: 0, health: 0 },
    onError: (what, err) => {
      const kind = what.replace(/ bw-\d+$/, '');
      const seen = hubErrors.get(kind) ?? 0;
      hubErrors.set(kind, seen + 1);
      // The first of each kind on stderr, with when it came (they are retried, and counted).
      if (seen === 0) {
        const at = ((performance.now() - started) / 1000).toFixed(1);
        log(`hub retried ${kind} at ${at} s: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  });
  const server = hub.server;
  const tunnelAddress = hub.endpoints.tunnel[TRANSPORT];
  if (server === undefined || tunnelAddress === undefined) throw new Error('hub has no tunnel');
  const agentAddress = TRANSPORT === 'grpc' ? tunnelAddress : `wss://${tunnelAddress}/tunnel`;

  // Clusters, accepted; the registration controller gives each its namespace.
  const custom = hubKc.makeApiClient(CustomObjectsApi);
  const core = hubKc.makeApiClient(CoreV1Api);
  const names = Array.from({ length: N }, (_, i) => `${PREFIX}${i}`);
  let t = performance.now();
  await pool(names, 20, async (name) => {
    await custom.createClusterCustomObject({
      group: CLUSTER_GROUP,
      version: 'v1',
      plural: 'managedclusters',
      body: {
        apiVersion: `${CLUSTER_GROUP}/v1`,
        kind: 'ManagedCluster',
        metadata: { name, labels: { [LABEL]: 'cluster' } },
        spec: { hubAcceptsClient: true },
      },
    });
  });
  await until('cluster namespaces', 300_000, async () => {
    const list = await core.listNamespace();
    return list.items.filter((n) => n.metadata?.name?.startsWith(PREFIX)).length === N;
  });
  const clustersCreatedS = (performance.now() - t) / 1000;
  log(`${N} clusters created, accepted, namespaced in ${clustersCreatedS.toFixed(1)} s`);

  // Agents.
  const caFile = join(scratch, 'ca.crt');
  const caKeyFile = join(scratch, 'ca.key');
  const spokeCaFile = join(scratch, 'spoke-ca.crt');
  writeFileSync(caFile, pki.ca.certPem);
  writeFileSync(caKeyFile, pki.ca.keyPem, { mode: 0o600 });
  writeFileSync(spokeCaFile, spokePlane.servingCaPem);
  const kubeApiserver = new URL(spokePlane.server).host;
  t = performance.now();
  for (let from = 0; from < N; from += PER_PROCESS) {
    const count = Math.min(PER_PROCESS, N - from);
    const child = startChild(
      'test/bench/work-agents.ts',
      [
        ...['--prefix', PREFIX, '--from', String(from), '--count', String(count)],
        ...['--server', agentAddress, '--transport', TRANSPORT],
        ...['--ca', caFile, '--ca-key', caKeyFile],
        ...['--token-file', local.tokenFile, '--spoke-ca', spokeCaFile],
        ...['--kube-apiserver', kubeApiserver],
      ],
      `agents ${from}…${from + count - 1}`,
      TUNNEL_V8_FLAGS,
    );
    children.push(child);
    await child.message(120_000);
  }
  const connected = () => new Set(server.agents().map((a) => a.cluster)).size;
  await until(`${N} clusters connected`, 300_000, async () => connected() >= N);
  const connectAllS = (performance.now() - t) / 1000;
  log(`${N} agents connected in ${connectAllS.toFixed(1)} s`);

  const listClusters = async () =>
    (
      (await custom.listClusterCustomObject({
        group: CLUSTER_GROUP,
        version: 'v1',
        plural: 'managedclusters',
        labelSelector: `${LABEL}=cluster`,
      })) as { items: Conditioned[] }
    ).items;
  await until(`${N} clusters Available`, 300_000, async () => {
    const items = await listClusters();
    return items.filter((c) => isTrue(c, 'ManagedClusterConditionAvailable')).length === N;
  });
  const availableAllS = (performance.now() - t) / 1000;
  log(`${N} clusters Available ${availableAllS.toFixed(1)} s after the agents started`);
  // A settled hub: every add-on of every cluster created and Available, so that what follows
  // measures delivery beside the steady resyncs, not beside the first pass over new clusters.
  const addOnKinds = (
    (await custom.listClusterCustomObject({
      group: ADDON_GROUP,
      version: 'v1alpha1',
      plural: 'clustermanagementaddons',
    })) as { items: unknown[] }
  ).items.length;
  await until(
    `${addOnKinds * N} add-ons Available`,
    600_000,
    async () => {
      const list = (await custom.listClusterCustomObject({
        group: ADDON_GROUP,
        version: 'v1alpha1',
        plural: 'managedclusteraddons',
      })) as { items: Conditioned[] };
      const ready = list.items.filter(
        (a) => a.metadata?.namespace?.startsWith(PREFIX) === true && isTrue(a, 'Available'),
      ).length;
      return ready === addOnKinds * N;
    },
    1_000,
  );
  const settledS = (performance.now() - t) / 1000;
  log(`${addOnKinds * N} add-ons Available ${settledS.toFixed(1)} s after the agents started`);
  const hubRssBefore = rssKiB(process.pid);
  // What the settled hub costs by itself (its resyncs and probes of N clusters): the CPU this
  // process used over 10 s (3 s with --quick), as a share of one core.
  const settleMs = values.quick ? 3_000 : 10_000;
  const cpuBefore = process.cpuUsage();
  await sleep(settleMs);
  const cpuIdle = process.cpuUsage(cpuBefore);
  const hubSettledCpuPct = ((cpuIdle.user + cpuIdle.system) / (settleMs * 1_000)) * 100;
  log(`settled hub: ${hubSettledCpuPct.toFixed(0)} % of a core`);

  // The works: created 50 at a time; Applied is read from a watch of them started before the
  // first create (a work counts at the event that first shows it Applied). A watch rather than
  // lists: listing 1,000 works twice a second cost the hub API server and this process (the
  // hub's) more than the events do, and no client of a real hub does that.
  const appliedAt = new Map<string, number>();
  let t0 = 0;
  let nextProgress = 10_000;
  let markAllApplied: () => void = () => undefined;
  const allAppliedSeen = new Promise<void>((resolve) => (markAllApplied = resolve));
  const workWatch = startCustomInformer<Conditioned>(
    hubKc,
    { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' },
    {
      labelSelector: `${LABEL}=work`,
      onChange: (work, isDeleted) => {
        const ns = work.metadata?.namespace ?? '';
        if (isDeleted || t0 === 0 || appliedAt.has(ns) || !isTrue(work, 'Applied')) return;
        const at = performance.now() - t0;
        appliedAt.set(ns, at);
        if (at >= nextProgress) {
          log(`${(at / 1000).toFixed(0)} s: ${appliedAt.size} of ${N} Applied`);
          nextProgress += 10_000;
        }
        if (appliedAt.size >= N) markAllApplied();
      },
    },
  );
  await workWatch.synced;
  const profiler = values.profile === undefined ? undefined : await startProfile();
  const requestsOfWorks = requestsPerWork(N);
  const cpuOfWorks = cpuSplit();
  t0 = performance.now();
  const createdAt: number[] = [];
  const allApplied = Promise.race([
    allAppliedSeen,
    sleep(600_000).then(() => {
      throw new Error(`timed out after 600 s with ${appliedAt.size} of ${N} works Applied`);
    }),
  ]);
  await pool(names, 50, async (cluster) => {
    const work = workFor(cluster);
    await custom.createNamespacedCustomObject({
      group: WORK_GROUP,
      version: 'v1',
      namespace: cluster,
      plural: 'manifestworks',
      body: work,
    });
    createdAt.push(performance.now() - t0);
  });
  const createdAllS = (performance.now() - t0) / 1000;
  log(`${N} ManifestWorks created in ${createdAllS.toFixed(1)} s`);
  await allApplied;
  await workWatch.stop();
  if (profiler !== undefined) await profiler.stopInto(values.profile as string);
  const worksCpu = cpuOfWorks();
  const worksRequests = requestsOfWorks();
  for (const [plane, per] of Object.entries(worksRequests))
    log(
      `${plane} API server requests per work: ${Object.entries(per)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  log(
    `CPU s while the works were applied: ${Object.entries(worksCpu)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const times = [...appliedAt.values()].sort((a, b) => a - b);
  const allAppliedS = (times.at(-1) ?? Number.NaN) / 1000;
  log(`${N} works Applied ${allAppliedS.toFixed(1)} s after the first create`);

  // What the spoke really holds.
  const spokeCore = spokeKc.makeApiClient(CoreV1Api);
  const configMaps = (
    await spokeCore.listConfigMapForAllNamespaces({ labelSelector: `${LABEL}=work` })
  ).items.filter((c) => c.metadata?.namespace?.startsWith(`bench-${PREFIX}`)).length;
  const summary = {
    bench: 'work',
    clusters: N,
    agent_transport: TRANSPORT,
    all_applied_s: Number(allAppliedS.toFixed(2)),
    first_applied_s: Number(((times[0] ?? Number.NaN) / 1000).toFixed(2)),
    median_applied_s: Number((median(times) / 1000).toFixed(2)),
    p90_applied_s: Number((percentile(times, 90) / 1000).toFixed(2)),
    works_created_s: Number(createdAllS.toFixed(2)),
    spoke_configmaps: configMaps,
    connect_all_s: Number(connectAllS.toFixed(2)),
    available_all_s: Number(availableAllS.toFixed(2)),
    addons_settled_s: Number(settledS.toFixed(2)),
    clusters_created_s: Number(clustersCreatedS.toFixed(2)),
    hub_rss_mib: Math.round(rssKiB(process.pid) / 1024),
    hub_rss_growth_mib: Math.round((rssKiB(process.pid) - hubRssBefore) / 1024),
    hub_settled_cpu_pct: Math.round(hubSettledCpuPct),
    agents_rss_mib: Math.round(children.reduce((s, c) => s + rssKiB(c.pid), 0) / 1024),
    hub_retried_errors: Object.fromEntries(hubErrors),
    /** CPU seconds each part used from the first create until all were Applied. */
    works_cpu_s: worksCpu,
    /** Requests each API server served per work meanwhile, by verb and resource. */
    requests_per_work: worksRequests,
  };
  log('');
  log('phase                                   seconds');
  log(`clusters created + accepted            ${clustersCreatedS.toFixed(1).padStart(8)}`);
  log(`agents started → all connected          ${connectAllS.toFixed(1).padStart(8)}`);
  log(`agents started → all Available          ${availableAllS.toFixed(1).padStart(8)}`);
  log(`agents started → all add-ons Available  ${settledS.toFixed(1).padStart(8)}`);
  log(`works created (50 at a time)            ${createdAllS.toFixed(1).padStart(8)}`);
  log(`first create → all ${N} Applied`.padEnd(40) + allAppliedS.toFixed(1).padStart(8));
  log(`spoke ConfigMaps found: ${configMaps} of ${N}`);
  if (configMaps !== N) {
    log('the spoke does not hold every applied ConfigMap');
    exitCode = 1;
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} catch (err: unknown) {
  log(`bench:work failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  exitCode = 1;
} finally {
  await Promise.all(children.map((c) => c.stop()));
  const closing = hub?.close();
  const closed = await Promise.race([closing?.then(() => true), sleep(30_000).then(() => false)]);
  if (closed === false) {
    log(`the hub did not close within 30 s: ${JSON.stringify(hub?.server?.stats())}`);
    exitCode = 1;
  }
  await Promise.all([hubPlane.stop(), spokePlane.stop()]);
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
