// Child process of the tunnel benchmark: a proxy-server whose listeners (agent gRPC and
// WebSocket, frontend gRPC and WebSocket, health) bind ephemeral loopback ports. Reports
// `{ addresses }` (ProxyServerAddresses) over IPC once listening; runs until the parent goes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { createJsonLogger, startProxyServer } from '../../proxy-server/index.ts';
import { runAsBenchChild, report } from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
  },
});
const loopback = { host: '127.0.0.1', port: 0 };
const server = await startProxyServer({
  tls: {
    certPem: readFileSync(values.cert as string, 'utf8'),
    keyPem: readFileSync(values.key as string, 'utf8'),
    caPem: readFileSync(values.ca as string, 'utf8'),
  },
  listen: {
    agentGrpc: loopback,
    agentWebSocket: loopback,
    frontendGrpc: loopback,
    frontendWebSocket: loopback,
    connect: false,
    health: loopback,
  },
  logger: createJsonLogger({ level: 'error' }),
});
runAsBenchChild(() => server.destroy());
report({ addresses: server.addresses });
