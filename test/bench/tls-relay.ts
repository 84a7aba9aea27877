// One hop of the plain-relay baseline: a TLS server that pipes each connection to the next hop
// (TLS with a client certificate, or plain TCP for the last hop). No multiplexing, no framing:
// the best a chain of Node TLS hops can do on this machine. Child process of the tunnel
// benchmark: listens on an ephemeral loopback port and reports `{ port }` over IPC.
//
// `--paced-collections`: the hop also asks V8 for a young collection per 8 MiB it relays, with
// the tunnel sessions' own pacing (protocol/session/young-collections.ts; needs `--expose-gc`),
// so that the tunnel can be compared with a relay that has the same advantage.
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { pipeline } from 'node:stream';
import { connect as tlsConnect, createServer } from 'node:tls';
import { parseArgs } from 'node:util';

import { noteDataBytes } from '../../protocol/session/young-collections.ts';
import { runAsBenchChild, report } from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    next: { type: 'string' },
    'next-tls': { type: 'boolean', default: false },
    'paced-collections': { type: 'boolean', default: false },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
  },
});
const [cert, key, ca] = [values.cert, values.key, values.ca].map((f) => readFileSync(f as string));
const [nextHost, nextPort] = (values.next as string).split(':') as [string, string];

runAsBenchChild();
const server = createServer(
  { cert, key, ca, requestCert: true, rejectUnauthorized: true, allowHalfOpen: true },
  (inbound) => {
    inbound.on('error', () => {});
    const outbound = values['next-tls']
      ? tlsConnect({
          host: nextHost,
          port: Number(nextPort),
          cert,
          key,
          ca,
          servername: 'localhost',
        })
      : netConnect({ host: nextHost, port: Number(nextPort), allowHalfOpen: true });
    outbound.on('error', () => inbound.destroy());
    if (values['paced-collections']) {
      for (const side of [inbound, outbound])
        side.on('data', (chunk: Buffer) => noteDataBytes(chunk.length));
    }
    pipeline(inbound, outbound, inbound, () => {});
  },
);
server.on('tlsClientError', () => {});
server.listen(0, '127.0.0.1', () => report({ port: (server.address() as { port: number }).port }));
