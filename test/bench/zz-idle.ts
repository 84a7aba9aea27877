// scratch: RSS per idle agent on a fresh proxy-server (no traffic before), per transport
import { PROXY_SERVER_V8_FLAGS, TUNNEL_V8_FLAGS } from '../../bin/v8-flags.ts';
import { benchPki, rssKiB, sleep, startChild, waitFor } from './bench-kit.ts';
const pki = benchPki();
const files = { cert: pki.file('s.crt', pki.server.certPem), key: pki.file('s.key', pki.server.keyPem), ca: pki.file('ca.crt', pki.ca.certPem), caKey: pki.file('ca.key', pki.ca.keyPem) };
const N = Number(process.env.N ?? 2000);
for (const transport of (process.env.T ?? 'websocket,grpc').split(',')) {
  const server = startChild('test/bench/bench-server.ts', ['--cert', files.cert, '--key', files.key, '--ca', files.ca], 'server', ['--expose-gc', ...PROXY_SERVER_V8_FLAGS]);
  const { addresses } = await server.message<{ addresses: Record<string, string> }>();
  const connected = async () => { const t = await (await fetch(`${addresses.health}/metrics`)).text(); let n = 0; for (const m of t.matchAll(/^spokelink_server_connected_agents(?:\{[^}]*\})? (\d+)/gm)) n += Number(m[1]); return n; };
  await sleep(2000);
  await server.collectGarbage({ releasePooledPages: true });
  const before = rssKiB(server.pid), heapBefore = server.heapUsedKiB;
  const idle = startChild('test/bench/many-agents.ts', ['--count', String(N), '--server', transport === 'grpc' ? addresses.agentGrpc! : addresses.agentWebSocket!, '--transport', transport, '--ca', files.ca, '--ca-key', files.caKey, '--kube-apiserver', '127.0.0.1:1'], 'many', TUNNEL_V8_FLAGS);
  await waitFor('agents', async () => (await connected()) >= N, 300_000);
  await sleep(15_000);
  await server.collectGarbage({ releasePooledPages: true });
  console.log(transport, 'fresh server: RSS KiB per idle agent', ((rssKiB(server.pid) - before) / N).toFixed(1), 'heap', ((server.heapUsedKiB - heapBefore) / N).toFixed(1));
  await idle.stop(); await server.stop();
}
pki.remove();
process.exit(0);
