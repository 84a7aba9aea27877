/**
 * WebSocket application close codes (RFC 6455 §7.4.2 reserves 4000–4999 for applications) that
 * a tunnel endpoint sends when it closes the whole tunnel for a tunnel-level fault (STYLE §3.4).
 * A stream-level fault never closes the tunnel: it resets that stream with a StreamResetCode.
 * The code received is carried on the ProtocolError (`closeCode`) that closes the session.
 * Never renumber; add new codes at the end.
 */
export const TUNNEL_CLOSE_CODES = {
  /** The peer sent something unreadable (undecodable packet, text message, bad framing). */
  PROTOCOL_ERROR: 4000,
  /** Authentication or authorization failed after the upgrade (e.g. certificate revoked). */
  UNAUTHORIZED: 4001,
  /** The agent's certificate names another cluster than the one it claims. */
  CLUSTER_MISMATCH: 4002,
  /** The endpoint is draining or shutting down: reconnect elsewhere (with backoff). */
  DRAINING: 4003,
  /** The endpoint is over a limit (agents, sessions, memory): reconnect later, with backoff. */
  OVERLOADED: 4004,
} as const;

/** Name of a tunnel close code (`keyof typeof TUNNEL_CLOSE_CODES`). */
export type TunnelCloseCodeName = keyof typeof TUNNEL_CLOSE_CODES;

/** One of the numbers in {@link TUNNEL_CLOSE_CODES}. */
export type TunnelCloseCode = (typeof TUNNEL_CLOSE_CODES)[TunnelCloseCodeName];

const NAMES = new Map<number, TunnelCloseCodeName>(
  Object.entries(TUNNEL_CLOSE_CODES).map(([name, code]) => [code, name as TunnelCloseCodeName]),
);

/** The name of a tunnel close code, or undefined for any other number. Pure. */
export function tunnelCloseCodeName(code: number): TunnelCloseCodeName | undefined {
  return NAMES.get(code);
}
