// Child process of the tunnel benchmark: one proxy-agent (cluster `bench`, agent `a0`) with no
// health listener. Reports `{ ready: true }` over IPC once its tunnel is up; runs until the
// parent goes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { createJsonLogger, startProxyAgent } from '../../proxy-agent/index.ts';
import { runAsBenchChild, report } from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    transport: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    'kube-apiserver': { type: 'string' },
    allow: { type: 'string', multiple: true, default: [] },
  },
});
const agent = startProxyAgent({
  clusterName: 'bench',
  agentName: 'a0',
  servers: [values.server as string],
  transport: values.transport as 'grpc' | 'websocket',
  tls: {
    certPem: readFileSync(values.cert as string, 'utf8'),
    keyPem: readFileSync(values.key as string, 'utf8'),
    caPem: readFileSync(values.ca as string, 'utf8'),
  },
  kubeApiserver: values['kube-apiserver'] as string,
  allow: values.allow,
  health: false,
  logger: createJsonLogger({ level: 'error' }),
});
runAsBenchChild(() => agent.destroy());
await agent.ready();
report({ ready: true });
