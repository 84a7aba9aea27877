// Frontends: where callers dial in (gRPC ProxyService, the frontend WebSocket, HTTP CONNECT), the
// dial path they share, the stream bridge and the one dial-failure → HTTP status mapping.
export { bridgeStreams, socketEnd, tunnelEnd } from './bridge-streams.ts';
export type { BridgeEnd } from './bridge-streams.ts';
export { CLUSTER_HEADER } from './cluster-header.ts';
export { ConnectFrontend } from './connect-frontend.ts';
export type { ConnectFrontendOptions } from './connect-frontend.ts';
export { DIAL_FAILURE_HEADER, statusForDialFailure } from './dial-failure-status.ts';
export { GrpcFrontend } from './grpc-frontend.ts';
export type { GrpcFrontendOptions } from './grpc-frontend.ts';
export { agentCertificateRefusal, serveFrontendDial } from './serve-frontend-dial.ts';
export type { FrontendDialRoute } from './serve-frontend-dial.ts';
export { WebSocketFrontend } from './websocket-frontend.ts';
export type { WebSocketFrontendOptions } from './websocket-frontend.ts';
