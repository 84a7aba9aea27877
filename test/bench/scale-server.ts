// Child process of the scale benchmark: a proxy-server with agent listeners (gRPC, WebSocket)
// and /metrics only, on the ports given (0 = ephemeral, for the first start; the reported ones
// for a restart on the same ports), with the given handshake admission rate. Reports
// `{ addresses }` over IPC once listening; runs until killed or until the parent goes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { createJsonLogger, startProxyServer } from '../../proxy-server/index.ts';
import { report, runAsBenchChild } from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    'grpc-port': { type: 'string', default: '0' },
    'ws-port': { type: 'string', default: '0' },
    'health-port': { type: 'string', default: '0' },
    /** New agent tunnels per second, or `off`; the server's default when absent. */
    rate: { type: 'string' },
  },
});
const on = (port: string | undefined) => ({ host: '127.0.0.1', port: Number(port) });
const rate = values.rate;
const server = await startProxyServer({
  tls: {
    certPem: readFileSync(values.cert as string, 'utf8'),
    keyPem: readFileSync(values.key as string, 'utf8'),
    caPem: readFileSync(values.ca as string, 'utf8'),
  },
  listen: {
    agentGrpc: on(values['grpc-port']),
    agentWebSocket: on(values['ws-port']),
    frontendGrpc: false,
    frontendWebSocket: false,
    connect: false,
    health: on(values['health-port']),
  },
  ...(rate === undefined
    ? {}
    : { agentAdmissionRate: rate === 'off' ? false : { perSecond: Number(rate) } }),
  logger: createJsonLogger({ level: 'error' }),
});
runAsBenchChild(() => server.destroy());
report({ addresses: server.addresses });
