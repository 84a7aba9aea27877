// Child process of the soak benchmark: one proxy-agent (gRPC) of cluster `--cluster`, agent
// `--agent`, with the agent API in front of the spoke API server and the soak targets
// allow-listed. Reports `{ ready: true }` once its tunnel is up; answers probes
// (soak-probe.ts) with the agent's `stats()`. SIGTERM drains and exits; SIGKILL is the crash.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { startProxyAgent } from '../../proxy-agent/index.ts';
import { report, runAsBenchChild } from './bench-kit.ts';
import { answerProbes } from './soak-probe.ts';

const { values } = parseArgs({
  options: {
    cluster: { type: 'string' },
    agent: { type: 'string' },
    server: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    'token-file': { type: 'string' },
    'spoke-ca': { type: 'string' },
    'kube-apiserver': { type: 'string' },
    allow: { type: 'string', multiple: true, default: [] },
  },
});
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const agent = startProxyAgent({
  clusterName: values.cluster as string,
  agentName: values.agent as string,
  servers: [values.server as string],
  transport: 'grpc',
  tls: {
    certPem: readFileSync(values.cert as string, 'utf8'),
    keyPem: readFileSync(values.key as string, 'utf8'),
    caPem: readFileSync(values.ca as string, 'utf8'),
  },
  kubeApiserver: values['kube-apiserver'] as string,
  allow: values.allow,
  agentApi: {
    tokenFile: values['token-file'] as string,
    kubeApiserverCaPem: readFileSync(values['spoke-ca'] as string, 'utf8'),
  },
  // A restarted hub is back within seconds: retry soon, as a real fleet's jittered backoff would.
  backoff: { initialMs: 200, maxMs: 2_000 },
  health: false,
  logger: quiet,
});
runAsBenchChild(() => agent.destroy());
answerProbes(() => ({ ...agent.stats() }));
process.on('SIGTERM', () => {
  void agent
    .drain({ timeoutMs: 10_000 })
    .catch(() => undefined)
    .finally(() => process.exit(0));
});
await agent.ready();
report({ ready: true });
