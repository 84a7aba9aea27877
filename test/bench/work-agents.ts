// Child process of the work benchmark: agents for clusters `<prefix><from>` … `<prefix><from+count-1>`,
// each its own cluster with its own certificate from the hub CA, all serving the agent API in
// front of one real spoke API server (with the token of the agent ServiceAccount `join`
// created there). It reports `{ started }` once every agent has been started, then runs until
// the parent goes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { generateKeyPair, issueCert } from '../../certs/index.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/identity.ts';
import { type ProxyAgent, startProxyAgent } from '../../proxy-agent/index.ts';
import { report, runAsBenchChild } from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    from: { type: 'string' },
    count: { type: 'string' },
    server: { type: 'string' },
    transport: { type: 'string', default: 'websocket' },
    ca: { type: 'string' },
    'ca-key': { type: 'string' },
    'token-file': { type: 'string' },
    'spoke-ca': { type: 'string' },
    'kube-apiserver': { type: 'string' },
  },
});
const ca = {
  certPem: readFileSync(values.ca as string, 'utf8'),
  keyPem: readFileSync(values['ca-key'] as string, 'utf8'),
};
const spokeCaPem = readFileSync(values['spoke-ca'] as string, 'utf8');
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const from = Number(values.from);
const count = Number(values.count);
// One key for every agent of this process: issuing is then a signature, not a key generation.
const keyPair = generateKeyPair();
const agents: ProxyAgent[] = [];
runAsBenchChild(() => {
  for (const agent of agents) void agent.close();
});
for (let i = from; i < from + count; i++) {
  const cluster = `${values.prefix as string}${i}`;
  const cert = issueCert(ca, {
    commonName: agentCommonName(cluster, 'agent'),
    organizations: [AGENT_ORGANIZATION],
    usage: 'server-client',
    keyPair,
  });
  agents.push(
    startProxyAgent({
      clusterName: cluster,
      agentName: 'agent',
      servers: [values.server as string],
      transport: values.transport === 'grpc' ? 'grpc' : 'websocket',
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
      kubeApiserver: values['kube-apiserver'] as string,
      agentApi: { tokenFile: values['token-file'] as string, kubeApiserverCaPem: spokeCaPem },
      health: false,
      logger: quiet,
    }),
  );
  // Spread the handshakes a little, as real fleets do.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}
report({ started: count });
