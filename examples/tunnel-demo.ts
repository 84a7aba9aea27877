// A runnable tour of the programmatic client: a real spoke control plane, a proxy-server and an
// agent in this process, then the three ways hub code reaches the spoke through the tunnel.
//   npx tsx is not needed: `node examples/tunnel-demo.ts` (Node 24, from npm install)
import { request } from 'node:https';

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

import { createCa, issueCert } from '../certs/index.ts';
import { agentCommonName, AGENT_ORGANIZATION } from '../protocol/index.ts';
import { startProxyAgent } from '../proxy-agent/index.ts';
import { createTunnelClient } from '../proxy-server/client/index.ts';
import { startProxyServer } from '../proxy-server/index.ts';
import { startControlPlane } from '../sandbox/index.ts';

const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

// A spoke: a real kube-apiserver (with etcd and kube-controller-manager).
const spoke = await startControlPlane({ name: 'demo-spoke' });

// The hub side: a CA, the proxy-server, and a client certificate for hub code.
const ca = createCa({ commonName: 'demo-hub-ca' });
const serving = issueCert(ca, {
  commonName: 'proxy-server',
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
  usage: 'server',
});
const server = await startProxyServer({
  tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
  logger: quiet,
});
const hub = issueCert(ca, { commonName: 'spokelink:hub:demo', usage: 'client' });

// The spoke side: one agent for cluster "c1", dialling out to the proxy-server.
const agentCert = issueCert(ca, {
  commonName: agentCommonName('c1', 'a0'),
  organizations: [AGENT_ORGANIZATION],
  usage: 'client',
});
const agent = startProxyAgent({
  clusterName: 'c1',
  agentName: 'a0',
  servers: [server.addresses.agentGrpc as string],
  transport: 'grpc',
  tls: {
    certPem: agentCert.certPem,
    keyPem: agentCert.keyPem,
    caPem: ca.certPem,
    serverName: 'localhost',
  },
  kubeApiserver: new URL(spoke.server).host,
  health: false,
  logger: quiet,
});
await agent.ready();

// --- 1. dial: a Duplex to the spoke's API server (TLS end to end is up to you) -------------
const client = createTunnelClient({
  server: server.addresses.frontendGrpc as string,
  tls: { certPem: hub.certPem, keyPem: hub.keyPem, caPem: ca.certPem, serverName: 'localhost' },
});
const stream = await client.dial('c1', 'kube-apiserver', { timeoutMs: 5_000 });
console.log(`dial: stream ${stream.streamId} to ${stream.remoteAddress}`);
stream.destroy();

// --- 2. an https.Agent: any HTTPS client, through the tunnel -------------------------------
const httpsAgent = client.createHttpsAgent('c1', {
  ca: spoke.servingCaPem,
  cert: spoke.admin.certPem,
  key: spoke.admin.keyPem,
});
const version = await new Promise<string>((resolve, reject) => {
  request(`https://kubernetes.default.svc/version`, { agent: httpsAgent }, (res) => {
    let body = '';
    res.on('data', (d: Buffer) => (body += d));
    res.on('end', () => resolve((JSON.parse(body) as { gitVersion: string }).gitVersion));
  })
    .on('error', reject)
    .end();
});
console.log(`https.Agent: the spoke runs Kubernetes ${version}`);
httpsAgent.destroy();

// --- 3. a @kubernetes/client-node KubeConfig whose requests ride the tunnel -----------------
const base = new KubeConfig();
base.loadFromFile(spoke.kubeconfigPath); // the spoke's credentials; TLS stays end to end
const kc = client.kubeConfig('c1', base);
const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
console.log(`KubeConfig: namespaces ${namespaces.items.map((n) => n.metadata?.name).join(', ')}`);
await kc.close();

await client.close();
await agent.close();
await server.close();
await spoke.stop();
