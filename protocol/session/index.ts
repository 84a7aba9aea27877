// Public surface of protocol/session/: the tunnel session (multiplexer), its streams and the
// two transport adapters. Re-exported by protocol/index.ts; README.md here documents each.

export { TUNNEL_DIAGNOSTICS_CHANNELS } from './diagnostics.ts';
export type {
  DialFailedMessage,
  StreamCloseMessage,
  StreamOpenMessage,
  WindowStallMessage,
} from './diagnostics.ts';
export { grpcCallTransport } from './grpc-call-transport.ts';
export type { TunnelCall } from './grpc-call-transport.ts';
export { TUNNEL_CLOSE_CODES, tunnelCloseCodeName } from './tunnel-close-codes.ts';
export type { TunnelCloseCode, TunnelCloseCodeName } from './tunnel-close-codes.ts';
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_MAX_STREAMS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  TunnelSession,
} from './tunnel-session.ts';
export { settleForward } from './settle-forward.ts';
export { STREAM_HIGH_WATER_MARK_BYTES, TunnelStream } from './tunnel-stream.ts';
export type {
  DialOptions,
  IncomingDial,
  PacketListener,
  PacketTransport,
  SessionRole,
  SessionStats,
  TunnelSessionApi,
  TunnelSessionOptions,
  TunnelStreamApi,
} from './types.ts';
export {
  WS_HIGH_WATER_MARK_BYTES,
  WS_LOW_WATER_MARK_BYTES,
  webSocketTransport,
  zeroWebSocketMask,
} from './web-socket-transport.ts';
export type { WebSocketTransportOptions } from './web-socket-transport.ts';
