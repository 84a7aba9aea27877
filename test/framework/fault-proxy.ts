import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What a {@link FaultProxy} does to the traffic it relays:
 * - `pass`: forwards both ways, with backpressure;
 * - `delay`: forwards every chunk `delayMs` later, in order (added latency);
 * - `blackhole`: stops forwarding without closing anything, as a network partition: open
 *   connections stop being read (TCP backpressure holds the bytes, as retransmission would),
 *   new connections are accepted but not connected onwards; on the next `pass` or `delay` the
 *   held bytes flow and held connections are connected, as when a partition heals;
 * - `reset`: destroys both sides of every connection with a TCP RST, and resets each new
 *   connection at once, until the mode changes.
 */
export type FaultMode = 'pass' | 'delay' | 'blackhole' | 'reset';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** `host:port` every connection is relayed to. */
  readonly target: string;
  /** Latency the `delay` mode adds to each chunk, each way; default 200 ms. */
  readonly delayMs?: number;
}

/**
 * A loopback TCP relay between two real peers that injects network faults (real sockets, no
 * mock): put it between an agent and the proxy-server's agent port and switch its mode while
 * the test runs.
 *
 * Lifecycle: listens on 127.0.0.1:0 from `startFaultProxy()` until `close()`, which destroys
 * every relayed connection and the listener; idempotent. `setMode()` applies to open and new
 * connections at once; it may be called any number of times, in any order.
 */
export interface FaultProxy {
  /** `127.0.0.1:<port>`: what the client dials instead of the target. */
  readonly address: string;
  readonly port: number;
  readonly mode: FaultMode;
  setMode(mode: FaultMode): void;
  /** Relayed connections open now (held ones included). */
  connections(): number;
  /** Connections accepted since the start. */
  accepted(): number;
  close(): Promise<void>;
}

/** One relayed connection: the accepted socket and, once connected, the upstream one. */
interface Relay {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Chunks waiting for their delay, per direction. */
  readonly timers: Set<NodeJS.Timeout>;
}

const DEFAULT_DELAY_MS = 200;

/** Starts a fault-injecting proxy to `options.target` in mode `pass`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const [host, portText] = splitHostPort(options.target);
  const delayMs = options.delayMs ?? DEFAULT_DELAY_MS;
  const relays = new Set<Relay>();
  let mode: FaultMode = 'pass';
  let accepted = 0;

  const destroy = (relay: Relay, isReset: boolean) => {
    for (const timer of relay.timers) clearTimeout(timer);
    relay.timers.clear();
    for (const socket of [relay.client, relay.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      if (isReset && socket.readyState === 'open') socket.resetAndDestroy();
      else socket.destroy();
    }
    relays.delete(relay);
  };

  /** Forwards `from` → `to` in the current mode, pausing `from` while `to` is full. */
  const forward = (relay: Relay, from: Socket, to: Socket) => {
    // Chunks in flight for `delay`: `to` is written in arrival order even across mode changes.
    let lastDueAt = 0;
    from.on('data', (chunk: Buffer) => {
      if (mode === 'delay' || lastDueAt > Date.now()) {
        const dueAt = Math.max(Date.now() + (mode === 'delay' ? delayMs : 0), lastDueAt);
        lastDueAt = dueAt;
        const timer = setTimeout(() => {
          relay.timers.delete(timer);
          if (!to.destroyed && !to.write(chunk)) {
            from.pause();
            to.once('drain', () => resumeIfFlowing(from));
          }
        }, dueAt - Date.now());
        relay.timers.add(timer);
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => resumeIfFlowing(from));
      }
    });
    from.on('end', () => {
      // Half-close after what is still delayed.
      const endAt = Math.max(lastDueAt - Date.now(), 0);
      const timer = setTimeout(() => {
        relay.timers.delete(timer);
        if (!to.destroyed) to.end();
      }, endAt);
      relay.timers.add(timer);
    });
  };

  const resumeIfFlowing = (socket: Socket) => {
    if (mode !== 'blackhole' && !socket.destroyed) socket.resume();
  };

  const connectUpstream = (relay: Relay) => {
    const upstream = connect({ host, port: Number(portText), allowHalfOpen: true });
    relay.upstream = upstream;
    upstream.on('error', () => destroy(relay, false));
    upstream.on('close', () => destroy(relay, false));
    forward(relay, relay.client, upstream);
    forward(relay, upstream, relay.client);
    if (mode === 'blackhole') {
      relay.client.pause();
      upstream.pause();
    }
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    accepted += 1;
    const relay: Relay = { client, upstream: undefined, timers: new Set() };
    relays.add(relay);
    client.on('error', () => destroy(relay, false));
    client.on('close', () => destroy(relay, false));
    if (mode === 'reset') return destroy(relay, true);
    if (mode === 'blackhole') return; // held, unread, until the partition heals
    connectUpstream(relay);
    client.resume();
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;

  let closing: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get mode() {
      return mode;
    },
    setMode(next) {
      mode = next;
      for (const relay of [...relays]) {
        if (next === 'reset') destroy(relay, true);
        else if (next === 'blackhole') {
          relay.client.pause();
          relay.upstream?.pause();
        } else if (relay.upstream === undefined) {
          connectUpstream(relay);
          relay.client.resume();
        } else {
          relay.client.resume();
          relay.upstream.resume();
        }
      }
    },
    connections: () => relays.size,
    accepted: () => accepted,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const relay of [...relays]) destroy(relay, false);
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  if (at <= 0) throw new TypeError(`target must be host:port, got ${JSON.stringify(address)}`);
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), address.slice(at + 1)];
}
