// Public surface of protocol/: the tunnel's wire contract (ANP-compatible packets plus
// Spokelink's negotiated extensions), its codec, flow-control math and helpers. Explicit named
// exports only; README.md documents the contract and every export.

export {
  LEGACY_STREAM_BUFFER_BYTES,
  INITIAL_STREAM_WINDOW_BYTES,
  SMALL_INITIAL_STREAM_WINDOW_BYTES,
  MAX_DATA_CHUNK_BYTES,
  MAX_DIAL_ADDRESS_LENGTH,
  MAX_PACKET_BYTES,
  MAX_STREAM_WINDOW_BYTES,
} from './constants.ts';
export { decodePacket, encodePacket, tryDecodePacket } from './codec.ts';
export { formatAgentIdentifiers, parseAgentIdentifiers } from './agent-identifiers.ts';
export type { AgentIdentifiers } from './agent-identifiers.ts';
export { formatDialAddress, parseDialAddress } from './dial-address.ts';
export type { DialAddress } from './dial-address.ts';
export {
  DIAL_FAILURE_MESSAGES,
  DIAL_FAILURE_REASONS,
  STREAM_RESET_CODES,
  classifyDialError,
} from './error-codes.ts';
export type { DialFailureReason, StreamResetCode } from './error-codes.ts';
export { PROTOCOL_ERROR_CODES, ProtocolError, isProtocolError } from './errors.ts';
export type { ProtocolErrorCode, ProtocolErrorOptions } from './errors.ts';
export {
  EXTENSIONS_METADATA_KEY,
  Extension,
  SUPPORTED_EXTENSIONS,
  formatExtensions,
  canonicalExtensions,
  negotiateExtensions,
  parseExtensions,
} from './extensions.ts';
export type { ExtensionName } from './extensions.ts';
export {
  CONNECT_METHOD_PATH,
  PROTO_DIR,
  PROXY_METHOD_PATH,
  loadTunnelServices,
} from './grpc-services.ts';
export type {
  AgentServiceDefinition,
  InboundPacket,
  OutboundPacket,
  ProxyServiceDefinition,
  TunnelServices,
} from './grpc-services.ts';
export {
  METADATA_KEYS,
  parseServerCount,
  singleMetadataValue,
  wireMetadataKey,
} from './metadata.ts';
export {
  AGENT_API_TARGET,
  AGENT_ORGANIZATION,
  GATEWAY_ORGANIZATION,
  PASS_THROUGH_HEADER,
  PASS_THROUGH_VALUE,
  agentCommonName,
  agentId,
  parseAgentCommonName,
} from './identity.ts';
export { PacketType } from './packet.ts';
export type {
  CloseDialPacket,
  CloseRequestPacket,
  CloseResponsePacket,
  DataPacket,
  DecodedPacket,
  DialRequestPacket,
  DialResponsePacket,
  DrainPacket,
  HalfClosePacket,
  Packet,
  PacketTypeName,
  PingPacket,
  PongPacket,
  UnknownPacket,
  WindowUpdatePacket,
} from './packet.ts';
export { PingTracker, pongFor } from './ping-tracker.ts';
export type { PingTrackerOptions } from './ping-tracker.ts';
export { ReceiveWindow } from './receive-window.ts';
export type { ReceiveWindowOptions } from './receive-window.ts';
export { SendWindow } from './send-window.ts';
export type { SendWindowOptions } from './send-window.ts';
export { MAX_STREAM_ID, StreamIdAllocator } from './stream-id-allocator.ts';
export type { StreamIdAllocatorOptions } from './stream-id-allocator.ts';
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_MAX_STREAMS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  STREAM_HIGH_WATER_MARK_BYTES,
  TUNNEL_CLOSE_CODES,
  TUNNEL_DIAGNOSTICS_CHANNELS,
  TunnelSession,
  TunnelStream,
  WS_HIGH_WATER_MARK_BYTES,
  WS_LOW_WATER_MARK_BYTES,
  grpcCallTransport,
  settleForward,
  tunnelCloseCodeName,
  webSocketTransport,
  zeroWebSocketMask,
} from './session/index.ts';
export type {
  DialFailedMessage,
  DialOptions,
  IncomingDial,
  PacketListener,
  PacketTransport,
  SessionRole,
  SessionStats,
  StreamCloseMessage,
  StreamOpenMessage,
  TunnelCall,
  TunnelCloseCode,
  TunnelCloseCodeName,
  TunnelSessionApi,
  TunnelSessionOptions,
  TunnelStreamApi,
  WebSocketTransportOptions,
  WindowStallMessage,
} from './session/index.ts';
export {
  endToEndHeaders,
  isStaleConnectionRetry,
  joinSockets,
  rawResponseHead,
} from './http-relay.ts';
export type { DistinctHeaders } from './http-relay.ts';
export {
  BOOTSTRAP_TOKEN_PATTERN,
  MAX_REGISTRATION_BODY_BYTES,
  REGISTRATION_ERROR_CODES,
  REGISTRATION_ERROR_STATUS,
  REGISTRATION_PATH,
  SPOKE_AGENT_NAMESPACE,
  SPOKE_AGENT_SERVICE_ACCOUNT,
  SPOKE_BOOTSTRAP_SECRET,
  SPOKE_HUB_CLIENT_SECRET,
  isRegistrationErrorCode,
  parseBootstrapToken,
  signDiscovery,
  verifyDiscovery,
} from './registration.ts';
export type {
  DiscoveryAnswer,
  DiscoveryInfo,
  RegistrationErrorBody,
  RegistrationErrorCode,
  RegistrationPhase,
  RegistrationRequestBody,
  RegistrationStatus,
  RenewalRequestBody,
  TunnelEndpoints,
} from './registration.ts';
