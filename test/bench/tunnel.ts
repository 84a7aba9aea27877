// `npm run bench:tunnel [-- [--quick] [--client-transport websocket|grpc]
// [--agent-transport websocket|grpc]]`: the tunnel against its baselines, measured in one run.
//
// Processes: this one (the client of every path; with `spokelink hub`'s V8 flags, as the process
// that plays the hub; it also runs the hub path's proxy-server), the targets (bench-targets.ts), a
// proxy-server, a proxy-agent (restarted per transport; a second one for the hub path), two TLS
// relay hops (the relay baseline; two more to the HTTPS target, for the GET reference) and, for the
// idle-agent figure, one process holding N idle agents. Every hop is TLS: client→server (mTLS: the frontend
// WebSocket by default, or gRPC ProxyService), server→agent (gRPC or WebSocket, mTLS), and TLS end
// to end from the client to the target inside. Columns are agent transports; the client transport
// is fixed per run. Prints a table on stderr (with every round, to show the noise), one JSON line
// per agent transport on stdout, the default transport last.
//
// Method, for figures that hold still on a shared 2-core machine: every path is warmed up first;
// the bulk figures are ROUNDS rounds of BULK_BYTES / ROUNDS, each round measuring direct, relay
// and tunnel back to back (in a rotating order), and a ratio is the median of the per-round
// ratios; GETs alternate between the direct path, the tunnel and the relay chain (the order
// reversing every turn); the hub's own path (in-process dial through the proxy-server in this
// process, one tunnel hop) has bulk rounds and GET turns of its own, against direct and one relay
// hop; the head-of-line figure is the median of HOL_ROUNDS pairs (with and without the stalled
// stream, the order alternating).
// Children bind port 0 and report their addresses over IPC: no port is chosen here.
import type { ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { availableParallelism } from 'node:os';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';

import { HUB_V8_FLAGS, PROXY_SERVER_V8_FLAGS, TUNNEL_V8_FLAGS } from '../../bin/v8-flags.ts';
import {
  createJsonLogger,
  type ProxyServerAddresses,
  startProxyServer,
} from '../../proxy-server/index.ts';
import { KUBE_APISERVER_TARGET } from '../../proxy-server/client/constants.ts';
import { createTunnelClient, type TunnelClient } from '../../proxy-server/client/index.ts';
import {
  benchPki,
  type Child,
  cpuSeconds,
  describeAllocator,
  machineBusySeconds,
  median,
  MiB,
  percentile,
  rssKiB,
  runWithV8Flags,
  sleep,
  prepareAllocator,
  startChild,
  waitFor,
  withCpu,
} from './bench-kit.ts';
import type { BenchTargets } from './bench-targets.ts';
import {
  bulkRate,
  bulkRounds,
  downloadRate,
  interleavedGets,
  type Open,
  parallelRate,
  stalledStreams,
  tlsOpen,
} from './tunnel-measure.ts';

// This process plays the hub (the tunnel's client) and holds the baselines' clients: all of it
// runs with `spokelink hub`'s V8 flags.
runWithV8Flags(HUB_V8_FLAGS);

type Transport = 'grpc' | 'websocket';
const DEFAULT_TRANSPORT: Transport = 'websocket';
/** The client→server hop that costs least CPU per byte (see proxy-server/README.md). */
const DEFAULT_CLIENT_TRANSPORT: Transport = 'websocket';
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'client-transport': { type: 'string', default: DEFAULT_CLIENT_TRANSPORT },
    /** Measure one agent transport only (e.g. to profile it); default both. */
    'agent-transport': { type: 'string' },
    /** Also measure downloads (target → client), shown on stderr only. */
    download: { type: 'boolean', default: false },
    /**
     * The relay hops pace young collections as the tunnel processes do (tls-relay.ts), so that
     * `relay_ratio` compares with a relay given the same advantage; default: plain relays.
     */
    'paced-relay': { type: 'boolean', default: false },
  },
});
const quick = values.quick === true;
const clientTransport = values['client-transport'] as Transport;
if (clientTransport !== 'grpc' && clientTransport !== 'websocket')
  throw new Error(`--client-transport must be grpc or websocket, got ${clientTransport}`);
const BULK_BYTES = (quick ? 256 : 1024) * MiB;
/** Bulk rounds; each moves BULK_BYTES / ROUNDS over each path. */
const ROUNDS = 5;
/**
 * Moved through the tunnel before the bulk figure is taken, per agent transport. CPU per GB
 * falls by a third over the first GB of a fresh process (JIT, GC heap sizing) and is flat after
 * about 512 MiB; a long-running hub lives in that steady state (--quick warms up half as
 * long). The relay chain and the direct path get their own (shorter: less code to warm) warm-up
 * once.
 */
const WARMUP_BYTES = (quick ? 256 : 512) * MiB;
const GET_COUNT = quick ? 400 : 2000;
const HOL_STREAMS = 8;
const HOL_BYTES_PER_STREAM = (quick ? 4 : 16) * MiB;
/** Pairs of head-of-line runs (with and without the stalled stream): the figure is their median. */
const HOL_ROUNDS = quick ? 5 : 9;
/**
 * How long a paused stream gets to fill every buffer on its way (its 256 KiB window, socket
 * buffers) before it counts as stalled: milliseconds would do.
 */
const STALL_SETTLE_MS = quick ? 100 : 200;
const STALLED_STREAMS = quick ? 32 : 64;
/** Quiet time before each RSS reading (an idle process gives memory back; `--quick` has 60 s). */
const QUIET_MS = quick ? 500 : 2_000;
const IDLE_AGENTS = quick ? 200 : 2000;
/**
 * Quiet time before the idle agents' RSS is read. The burst of TLS handshakes grows V8's young
 * generation to its largest (128 MiB of semi-spaces here); V8 shrinks it back once allocation
 * has been low for a while (2 s after the last agent connected it was still 128 MiB, 15 s after
 * 4 MiB), so the reading waits for the steady state an idle fleet lives in. `--quick` waits 2 s:
 * its 200 agents are a smaller burst, and its figure a rough one anyway (see the README); the
 * run has to fit in 60 s.
 */
const IDLE_SETTLE_MS = quick ? 2_000 : 15_000;
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

const pki = benchPki();
const files = {
  cert: pki.file('server.crt', pki.server.certPem),
  key: pki.file('server.key', pki.server.keyPem),
  ca: pki.file('ca.crt', pki.ca.certPem),
  caKey: pki.file('ca.key', pki.ca.keyPem),
};
const agentCert = pki.agent('bench', 'a0');
const agentFiles = {
  cert: pki.file('agent.crt', agentCert.certPem),
  key: pki.file('agent.key', agentCert.keyPem),
};
const ca = pki.ca.certPem;

await prepareAllocator();

// ---- the targets (a child process: bench-targets.ts says why) ----
const tlsArgs = ['--cert', files.cert, '--key', files.key, '--ca', files.ca];
const targetsChild = startChild(
  'test/bench/bench-targets.ts',
  ['--cert', files.cert, '--key', files.key, '--chunk', String(CHUNK.length)],
  'targets',
  // As when the targets ran in this process; they are the same for every path.
  HUB_V8_FLAGS,
  { baseline: true },
);
const { tlsSink, rawSink, rawSource, tlsSource, httpsTarget } =
  await targetsChild.message<BenchTargets>();

// ---- the proxy-server and the relay chain (child processes on ephemeral ports) ----
const pacedRelay = values['paced-relay'] === true;
const relayArgs = pacedRelay ? [...tlsArgs, '--paced-collections'] : tlsArgs;
/** A proxy-server child with every listener on an ephemeral port, as `spokelink proxy-server` runs. */
const startServer = (name: string): Child =>
  startChild('test/bench/bench-server.ts', tlsArgs, name, [
    '--expose-gc',
    ...PROXY_SERVER_V8_FLAGS,
  ]);
const server = startServer('proxy-server');
const { addresses } = await server.message<{ addresses: Required<ProxyServerAddresses> }>();
/** Two relay hops to `target`: client → hop 1 (TLS) → hop 2 (TLS) → target, e2e TLS inside. */
async function startRelayChain(
  target: string,
  name: string,
): Promise<{ hop1: Child; hop2: Child; port: number; hop2Port: number }> {
  const hop2 = startChild(
    'test/bench/tls-relay.ts',
    ['--next', target, ...relayArgs],
    `${name}2`,
    TUNNEL_V8_FLAGS,
    { baseline: true },
  );
  const hop2Port = (await hop2.message<{ port: number }>()).port;
  const hop1 = startChild(
    'test/bench/tls-relay.ts',
    ['--next', `127.0.0.1:${hop2Port}`, '--next-tls', ...relayArgs],
    `${name}1`,
    TUNNEL_V8_FLAGS,
    { baseline: true },
  );
  return { hop1, hop2, port: (await hop1.message<{ port: number }>()).port, hop2Port };
}
// The relay baseline, to the bulk sink; and the same two hops to the HTTPS target: what two
// plain Node hops add to a GET, for reference.
const relay = await startRelayChain(tlsSink, 'relay');
const getRelay = await startRelayChain(httpsTarget, 'get-relay');

/** TLS to the relay hop on `port`, with the client certificate the hops require. */
const relayHop = (port: number): Promise<Duplex> =>
  tlsOpen({ host: '127.0.0.1', port, ca, cert: pki.hubClient.certPem, key: pki.hubClient.keyPem });

/**
 * HTTPS over what `dial` opens (the relay chain, one relay hop, the hub's in-process dial): TLS
 * to the target inside it.
 */
class DialingHttpsAgent extends HttpsAgent {
  readonly #dial: () => Promise<Duplex>;
  constructor(dial: () => Promise<Duplex>) {
    super({ keepAlive: true, maxSockets: 1 });
    this.#dial = dial;
  }
  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = callback ?? (() => {});
    this.#dial().then(
      (hop) => done(null, tlsConnect({ ...(options as ConnectionOptions), socket: hop })),
      (err: unknown) => done(err as Error, undefined as never),
    );
    return undefined;
  }
}

const client: TunnelClient = createTunnelClient({
  transport: clientTransport,
  server: clientTransport === 'grpc' ? addresses.frontendGrpc : addresses.frontendWebSocket,
  tls: { certPem: pki.hubClient.certPem, keyPem: pki.hubClient.keyPem, caPem: ca },
});

// The hub's own path (`spokelink hub`: its controllers dial through the proxy-server in the same
// process): this process runs a second proxy-server, with agent listeners only, and dials
// through it in process. Its par is one plain relay hop (relay2 of the chain, dialed directly).
const hubServer = await startProxyServer({
  tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: ca },
  listen: {
    agentGrpc: { host: '127.0.0.1', port: 0 },
    agentWebSocket: { host: '127.0.0.1', port: 0 },
    frontendGrpc: false,
    frontendWebSocket: false,
    connect: false,
    health: false,
  },
  logger: createJsonLogger({ level: 'error' }),
});

async function connectedAgents(health = addresses.health): Promise<number> {
  const text = await (await fetch(`${health}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^spokelink_server_connected_agents(?:\{[^}]*\})? (\d+)/gm))
    total += Number(m[1]);
  return total;
}

function agentServer(
  transport: Transport,
  at: Pick<ProxyServerAddresses, 'agentGrpc' | 'agentWebSocket'> = addresses,
): string {
  const address = transport === 'grpc' ? at.agentGrpc : at.agentWebSocket;
  if (address === undefined) throw new Error(`no ${transport} agent listener`);
  return address;
}

async function startAgent(
  transport: Transport,
  at: Pick<ProxyServerAddresses, 'agentGrpc' | 'agentWebSocket'> = addresses,
): Promise<Child> {
  const allow = [tlsSink, rawSink, rawSource, tlsSource].flatMap((a) => ['--allow', a]);
  const args = ['--server', agentServer(transport, at), '--transport', transport];
  args.push('--cert', agentFiles.cert, '--key', agentFiles.key, '--ca', files.ca);
  args.push('--kube-apiserver', httpsTarget, ...allow);
  const agent = startChild('test/bench/bench-agent.ts', args, `proxy-agent (${transport})`, [
    '--expose-gc',
    ...TUNNEL_V8_FLAGS,
  ]);
  await agent.message();
  return agent;
}

// ---- the paths ----
const [sinkHost, sinkPort] = tlsSink.split(':') as [string, string];
const openDirect: Open = () => tlsOpen({ host: sinkHost, port: Number(sinkPort), ca });
const openRelay: Open = async () => tlsOpen({ socket: await relayHop(relay.port), ca });
const openTunnel: Open = async () => tlsOpen({ socket: await client.dial('bench', tlsSink), ca });
const openHub: Open = async () => tlsOpen({ socket: await hubServer.dial('bench', tlsSink), ca });
const openOneHop: Open = async () => tlsOpen({ socket: await relayHop(relay.hop2Port), ca });
const [sourceHost, sourcePort] = tlsSource.split(':') as [string, string];
const openSourceDirect: Open = () => tlsOpen({ host: sourceHost, port: Number(sourcePort), ca });
const openSourceTunnel: Open = async () =>
  tlsOpen({ socket: await client.dial('bench', tlsSource), ca });

const rows: Array<Record<string, number | string>> = [];
const noise: string[] = [];
await bulkRate(openDirect, WARMUP_BYTES / 4, CHUNK);
await bulkRate(openRelay, WARMUP_BYTES / 2, CHUNK);

const only = values['agent-transport'];
if (only !== undefined && only !== 'grpc' && only !== 'websocket')
  throw new Error(`--agent-transport must be grpc or websocket, got ${only}`);
// The default transport last, so that its JSON line is the last line.
const TRANSPORTS: Transport[] =
  only === undefined
    ? [
        ...(['websocket', 'grpc'] as const).filter((t) => t !== DEFAULT_TRANSPORT),
        DEFAULT_TRANSPORT,
      ]
    : [only];
/** This process and the targets', counted together as the client + target of every path. */
const clientAndTarget = [process.pid, targetsChild.pid];
const relayPids = [relay.hop1, relay.hop2, getRelay.hop1, getRelay.hop2].map((hop) => hop.pid);
for (const transport of TRANSPORTS) {
  const sectionStarted = Date.now();
  const busyBefore = machineBusySeconds();
  const idleServer = startServer('proxy-server (idle agents)');
  const agent = await startAgent(transport);
  /** Client + target, the proxy-server, the agent. */
  const pids = [clientAndTarget, server.pid, agent.pid];
  const ours = () => [...pids.flat(), ...relayPids].reduce((a, p) => a + cpuSeconds(p), 0);
  const oursBefore = ours();
  await bulkRate(openTunnel, WARMUP_BYTES, CHUNK);

  const cpu = [0, 0, 0];
  /** The relay chain's CPU, hop by hop (client + target, relay1, relay2): the tunnel's par. */
  const relayCpu = [0, 0, 0];
  /** The direct path's (client + target): with the others', what bounds each path's MB/s. */
  const directCpu = [0];
  const roundBytes = BULK_BYTES / ROUNDS;
  const rate = await bulkRounds(
    {
      direct: { open: openDirect, cpuOf: { pids: [clientAndTarget], cpu: directCpu } },
      relay: {
        open: openRelay,
        cpuOf: { pids: [clientAndTarget, relay.hop1.pid, relay.hop2.pid], cpu: relayCpu },
      },
      tunnel: { open: openTunnel, cpuOf: { pids, cpu } },
    },
    ROUNDS,
    roundBytes,
    CHUNK,
  );
  const download = { direct: [] as number[], tunnel: [] as number[] };
  const downloadCpu = [0, 0, 0];
  for (let r = 0; values.download && r < ROUNDS; r++) {
    download.direct.push(await downloadRate(openSourceDirect, roundBytes));
    const measure = () => downloadRate(openSourceTunnel, roundBytes);
    download.tunnel.push(await withCpu(pids, downloadCpu, measure));
  }
  // The hub's own path against one relay hop, in rounds of their own (direct measured again).
  const hubAgent = await startAgent(transport, hubServer.addresses);
  await bulkRate(openHub, WARMUP_BYTES / 2, CHUNK);
  await bulkRate(openOneHop, WARMUP_BYTES / 4, CHUNK);
  /** CPU of this process and the agent (hub path), this process and relay2 (one hop). */
  const hubCpu = [0, 0];
  const oneHopCpu = [0, 0];
  const hubRate = await bulkRounds(
    {
      direct: { open: openDirect },
      oneHop: {
        open: openOneHop,
        cpuOf: { pids: [clientAndTarget, relay.hop2.pid], cpu: oneHopCpu },
      },
      hub: { open: openHub, cpuOf: { pids: [clientAndTarget, hubAgent.pid], cpu: hubCpu } },
    },
    ROUNDS,
    roundBytes,
    CHUNK,
  );
  // GETs over the hub's own path and one relay hop (relay2 of the GET chain), with direct.
  const [hubDirectLat, hubLat, oneHopLat] = (await interleavedGets(
    [
      new HttpsAgent({ keepAlive: true, maxSockets: 1 }),
      // As the hub's controllers reach a spoke's API server: by the agent's name for it.
      new DialingHttpsAgent(() => hubServer.dial('bench', `${KUBE_APISERVER_TARGET}:443`)),
      new DialingHttpsAgent(() => relayHop(getRelay.hop2Port)),
    ],
    httpsTarget,
    ca,
    GET_COUNT,
  )) as [number[], number[], number[]];
  const hubAgentCpu = cpuSeconds(hubAgent.pid);
  await hubAgent.stop();
  const hubBulkRatios = hubRate.hub.map((t, r) => t / (hubRate.direct[r] as number));
  const hubRelayRatios = hubRate.hub.map((t, r) => t / (hubRate.oneHop[r] as number));

  const bulkRatios = rate.tunnel.map((t, r) => t / (rate.direct[r] as number));
  const relayRatios = rate.tunnel.map((t, r) => t / (rate.relay[r] as number));
  const cpuPerGB = cpu.map((s) => round(s / (BULK_BYTES / 1e9), 2));
  const relayCpuPerGB = relayCpu.map((s) => round(s / (BULK_BYTES / 1e9), 2));

  /** CPU of the proxy-server, the agent and the two GET relay hops over the GETs. */
  const getCpu = [0, 0, 0, 0];
  const getPids = [server.pid, agent.pid, getRelay.hop1.pid, getRelay.hop2.pid];
  const [directLat, tunnelLat, relayLat] = (await withCpu(getPids, getCpu, () =>
    interleavedGets(
      [
        new HttpsAgent({ keepAlive: true, maxSockets: 1 }),
        client.createHttpsAgent('bench', { keepAlive: true, maxSockets: 1 }),
        new DialingHttpsAgent(() => relayHop(getRelay.port)),
      ],
      httpsTarget,
      ca,
      GET_COUNT,
    ),
  )) as [number[], number[], number[]];

  const openRawSink: Open = () => client.dial('bench', rawSink);
  const openRawSource: Open = () => client.dial('bench', rawSource);
  const holAlone: number[] = [];
  const holStalled: number[] = [];
  for (let r = 0; r < HOL_ROUNDS; r++) {
    for (const withStall of r % 2 === 0 ? [false, true] : [true, false]) {
      const stalled = withStall ? await stalledStreams(openRawSource, 1, STALL_SETTLE_MS) : [];
      const mbps = await parallelRate(openRawSink, HOL_STREAMS, HOL_BYTES_PER_STREAM, CHUNK);
      (withStall ? holStalled : holAlone).push(mbps);
      for (const s of stalled) s.destroy();
    }
  }
  const holRatios = holStalled.map((s, r) => s / (holAlone[r] as number));

  // RSS after a full GC in both processes: what the streams retain, not what awaits collection.
  // The collection is a last-resort one, which also unmaps the heap pages V8 keeps for reuse
  // after collections (resident until then: they follow the heap's high-water mark, e.g. of the
  // 2,000 TLS handshakes, not what the agents hold); `releasedKiB` is what that gave back.
  const settled = async (children: Child[]): Promise<{ rss: number; releasedKiB: number }> => {
    const released = await Promise.all(
      children.map((c) => c.collectGarbage({ releasePooledPages: true })),
    );
    return {
      rss: children.reduce((sum, c) => sum + rssKiB(c.pid), 0),
      releasedKiB: released.reduce((a, b) => a + b, 0),
    };
  };
  const settledRss = async (children: Child[]): Promise<number> => (await settled(children)).rss;
  // Both readings after the same quiet time.
  await sleep(QUIET_MS);
  const before = await settledRss([server, agent]);
  const buffersBefore = [server.arrayBuffersKiB, agent.arrayBuffersKiB];
  const many = await stalledStreams(openRawSource, STALLED_STREAMS, QUIET_MS);
  const perStalled = ((await settledRss([server, agent])) - before) / STALLED_STREAMS;
  const buffersPerStalledByProcess = [server, agent].map(
    (c, i) => (c.arrayBuffersKiB - (buffersBefore[i] as number)) / STALLED_STREAMS,
  );
  const buffersPerStalled = buffersPerStalledByProcess.reduce((a, b) => a + b, 0);
  for (const s of many) s.destroy();
  await sleep(QUIET_MS);

  // The idle agents connect to a proxy-server of their own (started with the section, so that it
  // has started up by now; it has carried nothing). In the one that
  // carried the traffic above they took memory that earlier work had freed and the allocator had
  // kept, and read far too low: 18–19 KiB per WebSocket agent after the gRPC section's 2,000
  // agents had left, ≈ 60 in a run of WebSocket agents alone, 78 on a fresh proxy-server.
  const idleAt = (await idleServer.message<{ addresses: Required<ProxyServerAddresses> }>())
    .addresses;
  const idleBefore = await settledRss([idleServer]);
  const heapBefore = idleServer.heapUsedKiB;
  const idle = startChild(
    'test/bench/many-agents.ts',
    [
      ...['--count', String(IDLE_AGENTS), '--server', agentServer(transport, idleAt)],
      ...['--transport', transport, '--ca', files.ca, '--ca-key', files.caKey],
      ...['--kube-apiserver', httpsTarget],
    ],
    'many-agents',
    TUNNEL_V8_FLAGS,
  );
  const connectStarted = Date.now();
  await waitFor(
    `${IDLE_AGENTS} idle agents`,
    async () => (await connectedAgents(idleAt.health)) >= IDLE_AGENTS,
    300_000,
  );
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  await sleep(IDLE_SETTLE_MS);
  const idleAfter = await settled([idleServer]);
  const perIdle = (idleAfter.rss - idleBefore) / IDLE_AGENTS;
  const heapPerIdle = (idleServer.heapUsedKiB - heapBefore) / IDLE_AGENTS;
  const perIdleWithPool = perIdle + idleAfter.releasedKiB / IDLE_AGENTS;
  const idleCpu = cpuSeconds(idle.pid) + cpuSeconds(idleServer.pid);
  const othersCpu =
    machineBusySeconds() - busyBefore - (ours() - oursBefore) - idleCpu - hubAgentCpu;
  const sectionSeconds = (Date.now() - sectionStarted) / 1000;
  await Promise.all([idle.stop(), idleServer.stop()]);
  await agent.stop();

  const list = (xs: number[], digits = 2) => xs.map((x) => round(x, digits)).join(' ');
  const perGB = (seconds: number[]) => list(seconds.map((c) => c / (BULK_BYTES / 1e9)));
  const downloadRatios = download.tunnel.map((t, r) => t / (download.direct[r] as number));
  const lines = [
    `${transport}: bulk_ratio ${list(bulkRatios)} | relay_ratio ${list(relayRatios)} | ` +
      `hol_ratio ${list(holRatios)}`,
    `  MB/s: tunnel ${list(rate.tunnel, 0)} | direct ${list(rate.direct, 0)} | ` +
      `relay ${list(rate.relay, 0)}`,
  ];
  if (values.download) {
    lines.push(
      `  download MB/s: tunnel ${list(download.tunnel, 0)} | direct ${list(download.direct, 0)}` +
        ` | median ratio ${round(median(downloadRatios), 3)}` +
        ` | CPU s/GB client, server, agent ${perGB(downloadCpu)}`,
    );
  }
  lines.push(
    `  hub path (in process): bulk_ratio ${list(hubBulkRatios)} | one-hop relay_ratio ` +
      `${list(hubRelayRatios)} | MB/s ${list(hubRate.hub, 0)} | one hop ` +
      `${list(hubRate.oneHop, 0)} | direct ${list(hubRate.direct, 0)} | CPU s/GB hub + target, ` +
      `agent ${perGB(hubCpu)}; relay ${perGB(oneHopCpu)}`,
  );
  const perGet = (seconds: number) => round((seconds / (GET_COUNT + 50)) * 1e6, 0);
  lines.push(
    `  CPU µs per GET: proxy-server ${perGet(getCpu[0] as number)}, agent ` +
      `${perGet(getCpu[1] as number)} | relay hops ${perGet(getCpu[2] as number)}, ` +
      `${perGet(getCpu[3] as number)}`,
  );
  lines.push(
    `  a stalled stream holds ${list(buffersPerStalledByProcess, 0)} KiB of Buffers in the ` +
      `proxy-server and the agent`,
  );
  lines.push(
    `  other processes on the machine used ${round(othersCpu / sectionSeconds, 2)} of ` +
      `${availableParallelism()} cores over these ${round(sectionSeconds)} s`,
  );
  noise.push(lines.join('\n'));
  const row = {
    transport,
    client_transport: clientTransport,
    quick: quick ? 1 : 0,
    paced_relay: pacedRelay ? 1 : 0,
    /** The malloc the children run on (jemalloc where installed, as the CLI does). */
    allocator: describeAllocator(),
    bulk_mib: BULK_BYTES / MiB,
    direct_mbps: round(median(rate.direct)),
    relay_mbps: round(median(rate.relay)),
    tunnel_mbps: round(median(rate.tunnel)),
    bulk_ratio: round(median(bulkRatios), 3),
    direct_cpu_s_per_gb: round((directCpu[0] as number) / (BULK_BYTES / 1e9), 2),
    cpu_s_per_gb_client_and_target: cpuPerGB[0] as number,
    cpu_s_per_gb_server: cpuPerGB[1] as number,
    cpu_s_per_gb_agent: cpuPerGB[2] as number,
    relay_cpu_s_per_gb_client_and_target: relayCpuPerGB[0] as number,
    relay_cpu_s_per_gb_hop1: relayCpuPerGB[1] as number,
    relay_cpu_s_per_gb_hop2: relayCpuPerGB[2] as number,
    relay_ratio: round(median(relayRatios), 3),
    /** The hub's own path (in-process dial, one tunnel hop) against direct and one relay hop. */
    hub_path_mbps: round(median(hubRate.hub)),
    hub_path_bulk_ratio: round(median(hubBulkRatios), 3),
    hub_path_relay_ratio: round(median(hubRelayRatios), 3),
    /** GETs over the hub's own path and over one relay hop, minus direct (their own turns). */
    hub_path_get_added_p50_ms: round(percentile(hubLat, 50) - percentile(hubDirectLat, 50), 3),
    hub_path_get_added_p99_ms: round(percentile(hubLat, 99) - percentile(hubDirectLat, 99), 3),
    one_hop_get_added_p50_ms: round(percentile(oneHopLat, 50) - percentile(hubDirectLat, 50), 3),
    one_hop_get_added_p99_ms: round(percentile(oneHopLat, 99) - percentile(hubDirectLat, 99), 3),
    get_direct_p50_ms: round(percentile(directLat, 50), 3),
    get_tunnel_p50_ms: round(percentile(tunnelLat, 50), 3),
    get_added_p50_ms: round(percentile(tunnelLat, 50) - percentile(directLat, 50), 3),
    get_added_p99_ms: round(percentile(tunnelLat, 99) - percentile(directLat, 99), 3),
    /** The same two added by the relay chain (two plain TLS hops, no tunnel): the reference. */
    get_relay_added_p50_ms: round(percentile(relayLat, 50) - percentile(directLat, 50), 3),
    get_relay_added_p99_ms: round(percentile(relayLat, 99) - percentile(directLat, 99), 3),
    hol_alone_mbps: round(median(holAlone)),
    hol_stalled_mbps: round(median(holStalled)),
    hol_ratio: round(median(holRatios), 3),
    rss_per_stalled_stream_kib: round(perStalled),
    /** What the stalled streams hold in Buffers (proxy-server and agent), free of allocator effects. */
    buffers_per_stalled_stream_kib: round(buffersPerStalled),
    idle_agents: IDLE_AGENTS,
    idle_connect_s: round(connectSeconds, 1),
    rss_per_idle_agent_kib: round(perIdle),
    /** The same before V8 gave back its pooled pages (what an ordinary collection leaves). */
    rss_per_idle_agent_with_v8_pool_kib: round(perIdleWithPool),
    /** The V8 heap the proxy-server holds per idle agent (its JavaScript objects). */
    heap_per_idle_agent_kib: round(heapPerIdle),
  };
  rows.push(row);
}

process.stderr.write(
  `\n${'metric'.padEnd(32)}${rows.map((r) => String(r['transport']).padStart(14)).join('')}\n`,
);
process.stderr.write(`${'allocator'.padEnd(32)}${String(rows[0]?.['allocator'])}\n`);
for (const key of Object.keys(rows[0] ?? {}).filter(
  (k) => k !== 'transport' && k !== 'allocator',
)) {
  process.stderr.write(
    `${key.padEnd(32)}${rows.map((r) => String(r[key]).padStart(14)).join('')}\n`,
  );
}
process.stderr.write(`\nper round (the figures above are medians):\n${noise.join('\n')}\n`);
for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);

client.destroy();
hubServer.destroy();
await Promise.all(
  [server, targetsChild, relay.hop1, relay.hop2, getRelay.hop1, getRelay.hop2].map((child) =>
    child.stop(),
  ),
);
pki.remove();
process.exit(0);

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
