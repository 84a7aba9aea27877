// Child process of the scale benchmark: agents for clusters `<prefix><from>` …
// `<prefix><from+count-1>`, each its own cluster with its own certificate from the hub CA. It
// issues every certificate first and reports `{ issued }`; on the parent's `go` it starts every
// agent at once (a fleet coming up together) and then runs until the parent goes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { generateKeyPair, issueCert, type IssuedCert } from '../../certs/index.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/identity.ts';
import { type ProxyAgent, startProxyAgent } from '../../proxy-agent/index.ts';
import { report, runAsBenchChild } from './bench-kit.ts';

/** The parent's signal to start the agents (scale.ts sends it). */
const GO = 'go';

const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    from: { type: 'string' },
    count: { type: 'string' },
    server: { type: 'string' },
    transport: { type: 'string' },
    ca: { type: 'string' },
    'ca-key': { type: 'string' },
  },
});
const ca = {
  certPem: readFileSync(values.ca as string, 'utf8'),
  keyPem: readFileSync(values['ca-key'] as string, 'utf8'),
};
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const from = Number(values.from);
const count = Number(values.count);
const agents: ProxyAgent[] = [];
runAsBenchChild(() => {
  for (const agent of agents) agent.destroy();
});
// One key for every agent of this process: issuing is then a signature, not a key generation.
const keyPair = generateKeyPair();
const certs: Array<{ cluster: string; cert: IssuedCert }> = [];
for (let i = from; i < from + count; i++) {
  const cluster = `${values.prefix as string}${i}`;
  const commonName = agentCommonName(cluster, 'a0');
  const cert = issueCert(ca, {
    commonName,
    organizations: [AGENT_ORGANIZATION],
    usage: 'client',
    keyPair,
  });
  certs.push({ cluster, cert });
}
process.on('message', (m: unknown) => {
  if (m !== GO || agents.length > 0) return;
  for (const { cluster, cert } of certs) {
    agents.push(
      startProxyAgent({
        clusterName: cluster,
        agentName: 'a0',
        servers: [values.server as string],
        transport: values.transport as 'grpc' | 'websocket',
        tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
        // Never dialled here: the benchmark measures tunnels, not streams.
        kubeApiserver: '127.0.0.1:1',
        health: false,
        logger: quiet,
      }),
    );
  }
});
report({ issued: count });
