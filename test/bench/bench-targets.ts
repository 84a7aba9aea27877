// Child process of the tunnel benchmark: every target its paths lead to (the TLS and plain sinks
// and sources, the HTTPS server the GETs ask), in a process of their own, as a spoke's API server
// is a process of its own (on another machine) for the hub. Reports their `host:port` addresses
// over IPC; runs until the parent goes.
//
// Why not in the benchmark's own process: there, the direct path never left the process. A GET's
// request and answer crossed no process boundary (no wake-up of another process, which costs
// 30–140 µs a message on this machine), so the direct GET was faster than any real client's and
// the latency the tunnel adds read too high; and one thread did both ends of the direct TLS
// transfer, so direct MB/s read too low and `bulk_ratio` too high.
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { parseArgs } from 'node:util';

import { runAsBenchChild, report } from './bench-kit.ts';
import { countingSink, endlessSource, listenLoopback } from './bulk-kit.ts';

/** The addresses this child reports, `host:port` each. */
export interface BenchTargets {
  readonly tlsSink: string;
  readonly rawSink: string;
  readonly rawSource: string;
  readonly tlsSource: string;
  readonly httpsTarget: string;
}

const { values } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    /** Bytes per write of the sources. */
    chunk: { type: 'string', default: String(64 * 1024) },
  },
});
const tls = { cert: readFileSync(values.cert as string), key: readFileSync(values.key as string) };
const chunk = Buffer.alloc(Number(values.chunk), 0x5a);

runAsBenchChild();
const targets: BenchTargets = {
  tlsSink: await listenLoopback(createTlsServer({ ...tls, allowHalfOpen: true }, countingSink)),
  rawSink: await listenLoopback(createNetServer({ allowHalfOpen: true }, countingSink)),
  rawSource: await listenLoopback(createNetServer((socket) => endlessSource(socket, chunk))),
  tlsSource: await listenLoopback(createTlsServer(tls, (socket) => endlessSource(socket, chunk))),
  httpsTarget: await listenLoopback(createHttpsServer(tls, (_req, res) => res.end('ok'))),
};
report(targets);
