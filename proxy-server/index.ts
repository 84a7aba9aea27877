// Public surface of proxy-server/ (the hub side of the tunnel). Other folders and tests import
// only this file (and proxy-server/client/index.ts). Explicit named exports; README.md documents
// each one.
export {
  DEFAULT_AGENT_ADMISSION_BURST,
  DEFAULT_AGENT_ADMISSION_RATE,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  TUNNEL_PATH,
} from './agent-listener/index.ts';
export type { AgentAdmissionRate } from './agent-listener/index.ts';
export { FRONTEND_WEBSOCKET_PATH } from './client/frontend-address.ts';
export { SERVER_ERROR_CODES, ServerError, isServerError } from './errors.ts';
export type { ServerErrorCode, ServerErrorOptions } from './errors.ts';
export { CLUSTER_HEADER, DIAL_FAILURE_HEADER, statusForDialFailure } from './frontend/index.ts';
export {
  DEFAULT_GATEWAY_IDENTITY_PREFIX,
  GATEWAY_AUTH_FAILURE_REASONS,
  PROXY_RESOURCE,
  gatewayClusterUrl,
  proxyVerb,
} from './gateway/index.ts';
export type {
  GatewayAuthFailureReason,
  GatewayHubOptions,
  GatewayOptions,
} from './gateway/index.ts';
// The hub controllers' identity on spokes and their in-process spoke KubeConfig.
export {
  HUB_CONTROLLER_IDENTITY,
  HUB_CONTROLLER_USER,
  HUB_CONTROLLERS_GROUP,
  HUB_CONTROLLERS_SPOKE_GROUP,
  spokeIdentityName,
} from './gateway/index.ts';
export type { InProcessIdentity, SpokeKubeConfig } from './gateway/index.ts';
export { SILENT_LOGGER, createJsonLogger } from './logger.ts';
export type { JsonLoggerOptions, LogLevel, Logger } from './logger.ts';
export {
  DEFAULT_AGENT_DIAL_TIMEOUT_MS,
  DEFAULT_LISTEN_HOST,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  MAX_CONNECT_HEADER_BYTES,
  validateOptions,
} from './options.ts';
export type {
  ListenOptions,
  ProxyServerOptions,
  RegistrationOptions,
  ResolvedOptions,
} from './options.ts';
export { RegistrationError, isRegistrationError } from './registration/index.ts';
export type { RegistrationBackend, RegistrationCaller } from './registration/index.ts';
export {
  SERVER_SHUTDOWN_TIMEOUT_WARNING,
  SERVER_SLOW_CLOSE_WARNING,
  SLOW_CLOSE_MS,
  startProxyServer,
} from './proxy-server.ts';
export { awaitWarningIfSlow } from './slow-close.ts';
export type { ProxyServer, ProxyServerAddresses, ProxyServerStats } from './proxy-server.ts';
export type { AgentIdentity, AgentInfo, AgentTransportKind } from './sessions/index.ts';
