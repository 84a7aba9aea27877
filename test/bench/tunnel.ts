// `npm run bench:tunnel [-- [--quick] [--client-transport websocket|grpc]]`: the tunnel against
// its baselines, measured in one run.
//
// Processes: this one (client, targets, baselines), a proxy-server, a proxy-agent (restarted per
// transport), two TLS relay hops (the relay baseline) and, for the idle-agent figure, one
// process holding N idle agents. Every hop is TLS: client→server (mTLS: the frontend WebSocket
// by default, or gRPC ProxyService), server→agent (gRPC or WebSocket, mTLS), and TLS end to end
// from the client to the target inside. Columns are agent transports; the client transport is
// fixed per run. Prints a table on stderr, one JSON line per agent transport on stdout, the
// default transport last.
import { once } from 'node:events';
import {
  Agent as HttpsAgent,
  createServer as createHttpsServer,
  get as httpsGet,
} from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { parseArgs } from 'node:util';

import { createTunnelClient, type TunnelClient } from '../../proxy-server/client/index.ts';
import { countingSink, listenLoopback, pushBulk } from './bulk-kit.ts';
import {
  benchPki,
  type Child,
  cpuSeconds,
  freePort,
  httpOk,
  MiB,
  percentile,
  rssKiB,
  sleep,
  startChild,
  waitFor,
} from './bench-kit.ts';

type Transport = 'grpc' | 'websocket';
const DEFAULT_TRANSPORT: Transport = 'grpc';
/** The client→server hop that costs least CPU per byte (see proxy-server/README.md). */
const DEFAULT_CLIENT_TRANSPORT: Transport = 'websocket';
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'client-transport': { type: 'string', default: DEFAULT_CLIENT_TRANSPORT },
  },
});
const quick = values.quick === true;
const clientTransport = values['client-transport'] as Transport;
if (clientTransport !== 'grpc' && clientTransport !== 'websocket')
  throw new Error(`--client-transport must be grpc or websocket, got ${clientTransport}`);
const BULK_BYTES = (quick ? 256 : 1024) * MiB;
/**
 * Moved through the tunnel before the bulk figure is taken, per agent transport. CPU per GB
 * falls by a third over the first GB of a fresh process (JIT, GC heap sizing) and is flat after
 * about 512 MiB; a long-running hub lives in that steady state.
 */
const WARMUP_BYTES = 512 * MiB;
const GET_COUNT = quick ? 400 : 2000;
const HOL_STREAMS = 8;
const HOL_BYTES_PER_STREAM = (quick ? 16 : 64) * MiB;
const STALLED_STREAMS = quick ? 32 : 64;
const IDLE_AGENTS = quick ? 200 : 2000;
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
const tlsServerOptions = { cert: pki.server.certPem, key: pki.server.keyPem };

// ---- targets (this process) ----
const tlsSink = await listenLoopback(
  createTlsServer({ ...tlsServerOptions, allowHalfOpen: true }, countingSink),
);
const rawSink = await listenLoopback(createNetServer({ allowHalfOpen: true }, countingSink));
const rawSource = await listenLoopback(
  createNetServer((socket) => {
    socket.on('error', () => {});
    const pump = () => {
      while (socket.write(CHUNK));
    };
    socket.on('drain', pump);
    pump();
  }),
);
const httpsTarget = await listenLoopback(
  createHttpsServer(tlsServerOptions, (_req, res) => res.end('ok')),
);

// ---- the proxy-server ----
const ports = {
  agent: await freePort(),
  ws: await freePort(),
  frontend: await freePort(),
  frontendWs: await freePort(),
  health: await freePort(),
};
const server = startChild(
  'proxy-server/main.ts',
  [
    '--cert',
    files.cert,
    '--key',
    files.key,
    '--ca',
    files.ca,
    '--bind-address',
    '127.0.0.1',
    '--agent-port',
    String(ports.agent),
    '--ws-port',
    String(ports.ws),
    '--frontend-port',
    String(ports.frontend),
    '--frontend-ws-port',
    String(ports.frontendWs),
    '--connect-port',
    'off',
    '--health-port',
    String(ports.health),
    '--log-level',
    'error',
  ],
  'proxy-server',
);
await waitFor('the proxy-server', () => httpOk(`http://127.0.0.1:${ports.health}/healthz`));
const client: TunnelClient = createTunnelClient({
  transport: clientTransport,
  server:
    clientTransport === 'grpc'
      ? `127.0.0.1:${ports.frontend}`
      : `wss://127.0.0.1:${ports.frontendWs}/frontend`,
  tls: { certPem: pki.hubClient.certPem, keyPem: pki.hubClient.keyPem, caPem: pki.ca.certPem },
});

async function connectedAgents(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ports.health}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^spokelink_server_connected_agents(?:\{[^}]*\})? (\d+)/gm))
    total += Number(m[1]);
  return total;
}

async function startAgent(transport: Transport): Promise<Child> {
  const healthPort = await freePort();
  const address =
    transport === 'grpc' ? `127.0.0.1:${ports.agent}` : `wss://127.0.0.1:${ports.ws}/tunnel`;
  const agent = startChild(
    'proxy-agent/main.ts',
    [
      '--cluster-name',
      'bench',
      '--agent-name',
      'a0',
      '--server',
      address,
      '--transport',
      transport,
      '--cert',
      agentFiles.cert,
      '--key',
      agentFiles.key,
      '--ca',
      files.ca,
      '--kube-apiserver',
      httpsTarget,
      '--allow',
      tlsSink,
      '--allow',
      rawSink,
      '--allow',
      rawSource,
      '--health-port',
      String(healthPort),
      '--log-level',
      'error',
    ],
    `proxy-agent (${transport})`,
  );
  await waitFor(`the ${transport} agent`, () => httpOk(`http://127.0.0.1:${healthPort}/readyz`));
  return agent;
}

// ---- measurements ----
function e2eTls(socket: Duplex): Promise<Duplex> {
  const tls = tlsConnect({
    socket,
    ca: pki.ca.certPem,
    servername: 'localhost',
  });
  return once(tls, 'secureConnect').then(() => tls);
}

async function bulkDirect(): Promise<number> {
  const [host, port] = tlsSink.split(':') as [string, string];
  const tls = tlsConnect({
    host,
    port: Number(port),
    ca: pki.ca.certPem,
    servername: 'localhost',
  });
  await once(tls, 'secureConnect');
  return pushBulk(tls, BULK_BYTES, CHUNK);
}

async function bulkTunnel(bytes = BULK_BYTES): Promise<number> {
  return pushBulk(await e2eTls(await client.dial('bench', tlsSink)), bytes, CHUNK);
}

async function bulkRelay(relayPort: number): Promise<number> {
  const hop = tlsConnect({
    host: '127.0.0.1',
    port: relayPort,
    ca: pki.ca.certPem,
    cert: pki.hubClient.certPem,
    key: pki.hubClient.keyPem,
    servername: 'localhost',
  });
  await once(hop, 'secureConnect');
  return pushBulk(await e2eTls(hop), BULK_BYTES, CHUNK);
}

async function getLatencies(agent: HttpsAgent, count: number): Promise<number[]> {
  const [host, port] = httpsTarget.split(':') as [string, string];
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint();
      httpsGet(
        { host, port: Number(port), path: '/', agent, ca: pki.ca.certPem, servername: 'localhost' },
        (res) => {
          res.resume();
          res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
        },
      ).on('error', reject);
    });
  for (let i = 0; i < 50; i++) await one(); // warm: connections up, JIT done
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await one());
  return out.sort((a, b) => a - b);
}

async function holThroughput(): Promise<number> {
  const streams = await Promise.all(
    Array.from({ length: HOL_STREAMS }, () => client.dial('bench', rawSink)),
  );
  const started = process.hrtime.bigint();
  await Promise.all(streams.map((s) => pushBulk(s, HOL_BYTES_PER_STREAM, CHUNK)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (HOL_STREAMS * HOL_BYTES_PER_STREAM) / 1e6 / seconds;
}

async function stalledStreams(count: number): Promise<Duplex[]> {
  const streams = await Promise.all(
    Array.from({ length: count }, () => client.dial('bench', rawSource)),
  );
  for (const s of streams) s.pause();
  await sleep(1_500);
  return streams;
}

const rows: Array<Record<string, number | string>> = [];
const directMBps = await bulkDirect();
const directLat = await getLatencies(new HttpsAgent({ keepAlive: true, maxSockets: 1 }), GET_COUNT);

// Relay baseline: client → relay1 (TLS) → relay2 (TLS) → sink, e2e TLS inside.
const relayPorts = [await freePort(), await freePort()] as const;
const relayArgs = ['--cert', files.cert, '--key', files.key, '--ca', files.ca];
const relay2 = startChild(
  'test/bench/tls-relay.ts',
  ['--port', String(relayPorts[1]), '--next', tlsSink, ...relayArgs],
  'relay2',
);
const relay1 = startChild(
  'test/bench/tls-relay.ts',
  [
    '--port',
    String(relayPorts[0]),
    '--next',
    `127.0.0.1:${relayPorts[1]}`,
    '--next-tls',
    ...relayArgs,
  ],
  'relay1',
);
await waitFor(
  'the relay',
  () =>
    new Promise((resolve) => {
      const probe = tlsConnect({
        host: '127.0.0.1',
        port: relayPorts[0],
        ca: pki.ca.certPem,
        cert: pki.hubClient.certPem,
        key: pki.hubClient.keyPem,
        servername: 'localhost',
      });
      probe.once('secureConnect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    }),
);
const relayMBps = await bulkRelay(relayPorts[0]);
await Promise.all([relay1.stop(), relay2.stop()]);

const TRANSPORTS: Transport[] = ['websocket', 'grpc'];
// The default transport last, so that its JSON line is the last line.
for (const transport of [...TRANSPORTS.filter((t) => t !== DEFAULT_TRANSPORT), DEFAULT_TRANSPORT]) {
  const agent = await startAgent(transport);
  await bulkTunnel(WARMUP_BYTES);
  const cpuBefore = [cpuSeconds(process.pid), cpuSeconds(server.pid), cpuSeconds(agent.pid)];
  const tunnelMBps = await bulkTunnel();
  const cpuPerGB = [cpuSeconds(process.pid), cpuSeconds(server.pid), cpuSeconds(agent.pid)].map(
    (after, i) => round((after - (cpuBefore[i] as number)) / (BULK_BYTES / 1e9), 2),
  );
  const tunnelLat = await getLatencies(
    client.createHttpsAgent('bench', { keepAlive: true, maxSockets: 1 }),
    GET_COUNT,
  );
  const holAlone = await holThroughput();
  const stalled = await stalledStreams(1);
  const holWithStall = await holThroughput();
  for (const s of stalled) s.destroy();
  await sleep(500);
  const before = rssKiB(server.pid) + rssKiB(agent.pid);
  const many = await stalledStreams(STALLED_STREAMS);
  const perStalled = (rssKiB(server.pid) + rssKiB(agent.pid) - before) / STALLED_STREAMS;
  for (const s of many) s.destroy();
  await sleep(500);

  const idleBefore = rssKiB(server.pid);
  const agentsBefore = await connectedAgents();
  const idle = startChild(
    'test/bench/many-agents.ts',
    [
      '--count',
      String(IDLE_AGENTS),
      '--server',
      transport === 'grpc' ? `127.0.0.1:${ports.agent}` : `wss://127.0.0.1:${ports.ws}/tunnel`,
      '--transport',
      transport,
      '--ca',
      files.ca,
      '--ca-key',
      files.caKey,
      '--kube-apiserver',
      httpsTarget,
    ],
    'many-agents',
  );
  const connectStarted = Date.now();
  await waitFor(
    `${IDLE_AGENTS} idle agents`,
    async () => (await connectedAgents()) >= agentsBefore + IDLE_AGENTS,
    300_000,
  );
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  await sleep(2_000);
  const perIdle = (rssKiB(server.pid) - idleBefore) / IDLE_AGENTS;
  await idle.stop();
  await waitFor(
    'idle agents to leave',
    async () => (await connectedAgents()) <= agentsBefore,
    60_000,
  );
  await agent.stop();

  const row = {
    transport,
    client_transport: clientTransport,
    quick: quick ? 1 : 0,
    bulk_mib: BULK_BYTES / MiB,
    direct_mbps: round(directMBps),
    relay_mbps: round(relayMBps),
    tunnel_mbps: round(tunnelMBps),
    bulk_ratio: round(tunnelMBps / directMBps, 3),
    cpu_s_per_gb_client_and_target: cpuPerGB[0] as number,
    cpu_s_per_gb_server: cpuPerGB[1] as number,
    cpu_s_per_gb_agent: cpuPerGB[2] as number,
    relay_ratio: round(tunnelMBps / relayMBps, 3),
    get_direct_p50_ms: round(percentile(directLat, 50), 3),
    get_tunnel_p50_ms: round(percentile(tunnelLat, 50), 3),
    get_added_p50_ms: round(percentile(tunnelLat, 50) - percentile(directLat, 50), 3),
    get_added_p99_ms: round(percentile(tunnelLat, 99) - percentile(directLat, 99), 3),
    hol_alone_mbps: round(holAlone),
    hol_stalled_mbps: round(holWithStall),
    hol_ratio: round(holWithStall / holAlone, 3),
    rss_per_stalled_stream_kib: round(perStalled),
    idle_agents: IDLE_AGENTS,
    idle_connect_s: round(connectSeconds, 1),
    rss_per_idle_agent_kib: round(perIdle),
  };
  rows.push(row);
}

process.stderr.write(
  `\n${'metric'.padEnd(28)}${rows.map((r) => String(r['transport']).padStart(14)).join('')}\n`,
);
for (const key of Object.keys(rows[0] ?? {}).filter((k) => k !== 'transport')) {
  process.stderr.write(
    `${key.padEnd(28)}${rows.map((r) => String(r[key]).padStart(14)).join('')}\n`,
  );
}
for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);

client.destroy();
await server.stop();
pki.remove();
process.exit(0);

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
