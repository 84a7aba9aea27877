// Child process of the tunnel benchmark: N idle agents, each its own cluster and certificate,
// all connected to one proxy-server. It runs until killed or until the parent goes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { generateKeyPair, issueCert } from '../../certs/index.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/identity.ts';
import { startProxyAgent } from '../../proxy-agent/index.ts';
import { runAsBenchChild } from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    server: { type: 'string' },
    transport: { type: 'string' },
    ca: { type: 'string' },
    'ca-key': { type: 'string' },
    'kube-apiserver': { type: 'string' },
  },
});
const ca = {
  certPem: readFileSync(values.ca as string, 'utf8'),
  keyPem: readFileSync(values['ca-key'] as string, 'utf8'),
};
const keyPair = generateKeyPair();
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const count = Number(values.count);
runAsBenchChild();
for (let i = 0; i < count; i++) {
  const cluster = `idle-${i}`;
  const cert = issueCert(ca, {
    commonName: agentCommonName(cluster, 'a0'),
    organizations: [AGENT_ORGANIZATION],
    usage: 'client',
    keyPair,
  });
  startProxyAgent({
    clusterName: cluster,
    agentName: 'a0',
    servers: [values.server as string],
    transport: values.transport as 'grpc' | 'websocket',
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
    kubeApiserver: values['kube-apiserver'] as string,
    health: false,
    logger: quiet,
  });
  // Spread the handshakes a little, as real fleets do.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}
