/**
 * The overload guard in front of TLS: caps the agent connections whose TLS handshake is still in
 * progress, and closes any connection beyond that at once, before a byte of TLS is spent on it.
 *
 * Why: a TLS handshake is most of what a new agent costs the server (an RSA signature, the
 * certificate chain check). When a whole fleet redials at once and the server cannot finish the
 * handshakes as fast as they arrive, they queue; once an agent's own handshake timeout passes
 * it gives up and redials, and the server goes on to spend its CPU on handshakes nobody waits
 * for any more — measured at 5,000 agents on a loaded 2-core machine: no agent connected after
 * three minutes. Two bounds stop that: a handshake unfinished after HANDSHAKE_SLOT_TIMEOUT_MS is
 * abandoned, and at most `maxPending` run at once (in flight = rate × time); the agents shed
 * here see a reset connection and retry after their jittered backoff. The cap is generous
 * (README "Benchmarks": a tight one sheds a healthy server's storm into long backoff tails).
 * The token bucket behind TLS (admission-rate-limiter.ts) then paces those that get through.
 */
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';

/** Default cap on agent TLS handshakes in progress, per listener (measured: `npm run scale`). */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 1024;
/**
 * A handshake not finished after this long (ms) is abandoned: its connection is closed and its
 * place freed. Under the agents' 20 s handshake timeout, so the server does not go on working
 * for an agent that has given up (Node's own TLS `handshakeTimeout` is 120 s, and grpc-js does
 * not expose it); it also bounds a place held by a missed event.
 */
export const HANDSHAKE_SLOT_TIMEOUT_MS = 10_000;

/**
 * Watches `server` ('connection' and 'secureConnection'): a connection that arrives while
 * `maxPending` handshakes are in progress is destroyed at once and `onShed()` called. A
 * handshake ends when TLS completes or the connection closes. Lives as long as the server; no
 * timers, nothing to close.
 */
export function guardPendingHandshakes(
  server: TlsServer,
  maxPending: number,
  onShed: () => void,
): void {
  let pending = 0;
  /** Handshakes in progress by the peer's `address:port` (unique among live connections). */
  const settlers = new Map<string, () => void>();
  const byParent = new WeakMap<Socket, () => void>();
  const keyOf = (socket: {
    remoteAddress?: string | undefined;
    remotePort?: number | undefined;
  }) =>
    socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
  server.on('connection', (socket: Socket) => {
    const key = keyOf(socket);
    if (pending >= maxPending || key === undefined) {
      if (key !== undefined) onShed();
      socket.destroy();
      return;
    }
    pending += 1;
    let isSettled = false;
    const timer = setTimeout(() => {
      settle();
      socket.destroy();
    }, HANDSHAKE_SLOT_TIMEOUT_MS);
    timer.unref();
    const settle = (): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      pending -= 1;
      if (settlers.get(key) === settle) settlers.delete(key);
      // Let go of this closure (and the timer it holds) for the rest of the connection's life:
      // a proxy-server keeps thousands of agent connections open.
      byParent.delete(socket);
      socket.off('close', settle);
    };
    settlers.set(key, settle);
    byParent.set(socket, settle);
    socket.once('close', settle);
  });
  // A handshake ends when TLS completes ('secureConnection') or fails ('tlsClientError'), or
  // its connection closes, or after HANDSHAKE_SLOT_TIMEOUT_MS. The TLS socket is matched to its
  // TCP connection by Node's `_parent` (not public API) or else the peer's address and port:
  // the TCP socket's own 'close' is not emitted in every case once TLS has taken it over.
  const settleFor = (tlsSocket: TLSSocket): void => {
    const parent = (tlsSocket as unknown as { _parent?: Socket | null })._parent;
    const byTcp = parent == null ? undefined : byParent.get(parent);
    if (byTcp !== undefined) return byTcp();
    const key = keyOf(tlsSocket);
    if (key !== undefined) settlers.get(key)?.();
  };
  server.on('secureConnection', settleFor);
  server.on('tlsClientError', (_err: Error, tlsSocket: TLSSocket) => settleFor(tlsSocket));
}
