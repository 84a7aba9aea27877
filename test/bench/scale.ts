// `npm run scale [-- --quick] [-- --agents N] [-- --transport grpc|websocket]
// [-- --restart-rates 300,off]`: thousands of agents on one proxy-server, and reconnect storms.
//
// Processes: this one (measures), ONE proxy-server (a child, so its RSS is its own) and the
// agents, AGENTS_PER_PROCESS per child process, each agent its own cluster with its own
// certificate from the hub CA. Admission is static (every agent with a certificate from the CA
// is admitted), as in the tunnel benchmark: the hub's admitAgent is a cache lookup (README
// "Benchmarks").
//
// Phases:
// 1. connect: every agent process has issued its certificates; all agents start at once (a
//    fleet coming up together) and `connect_all_s` is the time until the server counts them
//    all, with the server's default admission rate;
// 2. RSS: the server's RSS after a full GC with every agent connected, minus the same before any
//    agent connected, per agent;
// 3. one restart per entry of --restart-rates (default: the server's default, then `off`): the
//    server is killed (SIGKILL: no DRAIN, agents see their tunnels drop at once) and started
//    again on the same ports with that admission rate; `reconnect_all_s` is the time from the
//    kill until the new server counts every agent again. Between restarts the fleet stays up
//    long enough for every agent's backoff to reset (STABLE_TUNNEL_MS), so each restart starts
//    from the same state.
//
// CPU: server and agents share the machine's cores (real agents run elsewhere): each agent's
// half of its TLS handshake (an RSA signature with its key) is paid here too. (Running the
// agents at nice 10 was tried: on a machine loaded by other work their half of TLS then starved
// and no handshake finished.)
//
// File descriptors: the server holds one socket per agent, each agent process one per agent. If
// the soft `ulimit -n` is too low for that, the script re-executes itself under a raised soft
// limit (up to the hard limit) and fails with a clear message if the hard limit is too low.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { PROXY_SERVER_V8_FLAGS, TUNNEL_V8_FLAGS } from '../../bin/v8-flags.ts';
import {
  DEFAULT_AGENT_ADMISSION_RATE,
  type ProxyServerAddresses,
} from '../../proxy-server/index.ts';
import {
  benchPki,
  type Child,
  cpuSeconds,
  machineBusySeconds,
  rssKiB,
  sleep,
  prepareAllocator,
  startChild,
  waitFor,
} from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    agents: { type: 'string' },
    transport: { type: 'string', default: 'grpc' },
    /** Admission rate of the restarted server, one restart each: numbers or `off`. */
    'restart-rates': { type: 'string', default: `${DEFAULT_AGENT_ADMISSION_RATE},off` },
  },
});
const quick = values.quick === true;
const AGENTS = Number(values.agents ?? (quick ? 500 : 5000));
if (!Number.isInteger(AGENTS) || AGENTS < 1) throw new Error(`--agents must be a positive integer`);
const transport = values.transport as 'grpc' | 'websocket';
if (transport !== 'grpc' && transport !== 'websocket')
  throw new Error(`--transport must be grpc or websocket, got ${String(transport)}`);
const RESTART_RATES = (values['restart-rates'] as string).split(',').map((r) => r.trim());
for (const r of RESTART_RATES) {
  if (r !== 'off' && !(Number(r) > 0)) throw new Error(`--restart-rates: bad rate ${r}`);
}
/** Agents per child process; --quick splits its fleet over two, so certificates issue in parallel. */
const AGENTS_PER_PROCESS = quick ? Math.ceil(AGENTS / 2) : 1000;
/** Every agent's backoff resets after a tunnel stayed up 10 s (proxy-agent STABLE_TUNNEL_MS). */
const STABLE_WAIT_MS = 11_000;
/** Quiet time before an RSS reading. */
const QUIET_MS = quick ? 1_000 : 2_000;
const CONNECT_TIMEOUT_MS = 600_000;
/** A restarting server loads its modules while the whole fleet redials: allow for a slow start. */
const SERVER_START_TIMEOUT_MS = 120_000;
/** Sockets besides the agents' (listeners, pipes, this script's scrapes, slack). */
const SPARE_FDS = 512;

raiseFileLimit(Math.min(AGENTS, AGENTS_PER_PROCESS) + AGENTS + SPARE_FDS);
// Exit through process.exit so that bench-kit kills the children on the way out.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

await prepareAllocator();
const pki = benchPki();
const files = {
  cert: pki.file('server.crt', pki.server.certPem),
  key: pki.file('server.key', pki.server.keyPem),
  ca: pki.file('ca.crt', pki.ca.certPem),
  caKey: pki.file('ca.key', pki.ca.keyPem),
};

interface Ports {
  grpc: number;
  ws: number;
  health: number;
}

async function startServer(
  rate: string | undefined,
  ports?: Ports,
): Promise<{
  child: Child;
  addresses: Required<Pick<ProxyServerAddresses, 'agentGrpc' | 'agentWebSocket' | 'health'>>;
}> {
  const args = ['--cert', files.cert, '--key', files.key, '--ca', files.ca];
  if (ports !== undefined) {
    args.push('--grpc-port', String(ports.grpc), '--ws-port', String(ports.ws));
    args.push('--health-port', String(ports.health));
  }
  if (rate !== undefined) args.push('--rate', rate);
  const child = startChild('test/bench/scale-server.ts', args, 'proxy-server', [
    '--expose-gc',
    ...PROXY_SERVER_V8_FLAGS,
  ]);
  const { addresses } = await child.message<{
    addresses: Required<Pick<ProxyServerAddresses, 'agentGrpc' | 'agentWebSocket' | 'health'>>;
  }>(SERVER_START_TIMEOUT_MS);
  return { child, addresses };
}

const portOf = (address: string): number => Number(/:(\d+)(?:\/|$)/.exec(address)?.[1]);

/** Sums the samples of one metric family (all label sets) from /metrics. */
async function metric(health: string, name: string): Promise<number> {
  const text = await (
    await fetch(`${health}/metrics`, { signal: AbortSignal.timeout(5_000) })
  ).text();
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm')))
    total += Number(m[1]);
  return total;
}
const RATE_LIMITED = 'spokelink_server_agent_handshakes_rate_limited_total';
const SHED = 'spokelink_server_agent_connections_shed_total';
const connected = (health: string) => metric(health, 'spokelink_server_connected_agents');

async function settledRss(child: Child): Promise<number> {
  await sleep(QUIET_MS);
  await child.collectGarbage();
  return rssKiB(child.pid);
}

const loadBefore = loadavg()[0] as number;
const busyBefore = machineBusySeconds();
const started = Date.now();

// ---- the server, and the agents with their certificates ----
let server = await startServer(undefined);
const { health } = server.addresses;
const ports: Ports = {
  grpc: portOf(server.addresses.agentGrpc),
  ws: portOf(server.addresses.agentWebSocket),
  health: portOf(health),
};
const agentServer =
  transport === 'grpc' ? server.addresses.agentGrpc : server.addresses.agentWebSocket;
const rssBefore = await settledRss(server.child);

const agentProcesses: Child[] = [];
for (let from = 0; from < AGENTS; from += AGENTS_PER_PROCESS) {
  const count = Math.min(AGENTS_PER_PROCESS, AGENTS - from);
  const args = ['--prefix', 'scale-', '--from', String(from), '--count', String(count)];
  args.push('--server', agentServer, '--transport', transport);
  args.push('--ca', files.ca, '--ca-key', files.caKey);
  agentProcesses.push(
    startChild('test/bench/scale-agents.ts', args, `agents ${from}+${count}`, TUNNEL_V8_FLAGS),
  );
}
await Promise.all(agentProcesses.map((p) => p.message(600_000)));
process.stderr.write(`${AGENTS} certificates issued in ${agentProcesses.length} processes\n`);

// ---- phase 1: every agent at once ----
const connectStarted = Date.now();
for (const p of agentProcesses) p.proc.send('go');
await waitFor(
  `${AGENTS} agents`,
  async () => (await connected(health)) >= AGENTS,
  CONNECT_TIMEOUT_MS,
);
const connectAllS = (Date.now() - connectStarted) / 1000;
const connectRefused = await metric(health, RATE_LIMITED);
const connectShed = await metric(health, SHED);
process.stderr.write(`all ${AGENTS} connected in ${round(connectAllS)} s\n`);
let lastAllConnected = Date.now();

// ---- phase 2: RSS per agent ----
const rssAfter = await settledRss(server.child);
const rssPerAgentKiB = (rssAfter - rssBefore) / AGENTS;

// ---- phase 3: restarts ----
interface Restart {
  rate: string;
  reconnect_all_s: number;
  listening_after_s: number;
  refused: number;
  shed: number;
  server_cpu_s: number;
}
const restarts: Restart[] = [];
for (const rate of RESTART_RATES) {
  await sleep(Math.max(0, lastAllConnected + STABLE_WAIT_MS - Date.now()));
  const killedAt = Date.now();
  await server.child.stop();
  server = await startServer(rate, ports);
  const listeningAfterS = (Date.now() - killedAt) / 1000;
  await waitFor(
    `${AGENTS} agents back`,
    async () => (await connected(health)) >= AGENTS,
    CONNECT_TIMEOUT_MS,
  );
  lastAllConnected = Date.now();
  const restart: Restart = {
    rate,
    reconnect_all_s: round((lastAllConnected - killedAt) / 1000),
    listening_after_s: round(listeningAfterS),
    refused: await metric(health, RATE_LIMITED),
    shed: await metric(health, SHED),
    server_cpu_s: round(cpuSeconds(server.child.pid)),
  };
  restarts.push(restart);
  process.stderr.write(`restart with admission rate ${rate}: ${JSON.stringify(restart)}\n`);
}

const seconds = (Date.now() - started) / 1000;
const ourPids = [server.child.pid, ...agentProcesses.map((p) => p.pid)];
const othersCpu =
  machineBusySeconds() - busyBefore - ourPids.reduce((a, p) => a + cpuSeconds(p), 0);
const agentRssMiB = agentProcesses.reduce((a, p) => a + rssKiB(p.pid), 0) / 1024;
const withDefault = restarts.find((r) => r.rate === String(DEFAULT_AGENT_ADMISSION_RATE));
const unlimited = restarts.find((r) => r.rate === 'off');
const first = restarts[0];
const row = {
  agents: AGENTS,
  transport,
  quick: quick ? 1 : 0,
  agent_processes: agentProcesses.length,
  admission_rate: DEFAULT_AGENT_ADMISSION_RATE,
  connect_all_s: round(connectAllS),
  connect_refused: connectRefused,
  connect_shed: connectShed,
  rss_per_agent_kib: round(rssPerAgentKiB),
  server_rss_mib: round(rssAfter / 1024),
  agent_processes_rss_mib: round(agentRssMiB),
  reconnect_all_s: (withDefault ?? first)?.reconnect_all_s ?? Number.NaN,
  reconnect_all_s_unlimited: unlimited?.reconnect_all_s ?? Number.NaN,
  restarts,
  load_avg_1m_before: round(loadBefore, 2),
  other_processes_cores: round(othersCpu / seconds, 2),
  cores: availableParallelism(),
};

process.stderr.write('\n');
for (const [key, value] of Object.entries(row)) {
  if (key === 'restarts') continue;
  process.stderr.write(`${key.padEnd(28)}${String(value).padStart(12)}\n`);
}
process.stderr.write(
  `\n${'restart: admission rate'.padEnd(26)}${'back (s)'.padStart(10)}${'listening (s)'.padStart(15)}` +
    `${'refused'.padStart(10)}${'shed'.padStart(8)}${'server CPU s'.padStart(14)}\n`,
);
for (const r of restarts) {
  process.stderr.write(
    `${r.rate.padEnd(26)}${String(r.reconnect_all_s).padStart(10)}` +
      `${String(r.listening_after_s).padStart(15)}${String(r.refused).padStart(10)}` +
      `${String(r.shed).padStart(8)}` +
      `${String(r.server_cpu_s).padStart(14)}\n`,
  );
}
process.stdout.write(`${JSON.stringify(row)}\n`);

await Promise.all([server.child.stop(), ...agentProcesses.map((p) => p.stop())]);
pki.remove();
process.exit(0);

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Makes sure `needed` file descriptors fit under the soft limit: if they do not, re-runs this
 * script under `ulimit -n <hard>` (children inherit it) and exits with its status; throws if even
 * the hard limit is too low.
 */
function raiseFileLimit(needed: number): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  const soft = m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? 0);
  const hard = m?.[2] === 'unlimited' ? Infinity : Number(m?.[2] ?? 0);
  if (soft >= needed) return;
  if (hard < needed) {
    throw new Error(
      `${needed} file descriptors needed, the hard limit is ${hard}: raise it (ulimit -Hn, limits.conf) or use fewer --agents`,
    );
  }
  if (process.env['SPOKELINK_SCALE_REEXEC'] === '1')
    throw new Error(`could not raise the open-file limit to ${needed}`);
  process.stderr.write(
    `raising the open-file limit from ${soft} to ${hard === Infinity ? needed : hard}\n`,
  );
  const result = spawnSync(
    '/bin/sh',
    [
      '-c',
      'ulimit -n "$0" && exec "$@"',
      String(hard === Infinity ? needed : hard),
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, SPOKELINK_SCALE_REEXEC: '1' } },
  );
  process.exit(result.status ?? 1);
}
