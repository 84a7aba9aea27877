// Public surface of proxy-agent/: the spoke side of the tunnel. Other folders and tests import
// only this file. Explicit named exports; README.md documents each.

export { AGENT_ERROR_CODES, AgentError, isAgentError } from './errors.ts';
export type { AgentErrorCode, AgentErrorOptions } from './errors.ts';

export { CLOSE_TIMEOUT_MS, DEFAULT_DRAIN_TIMEOUT_MS, startProxyAgent } from './proxy-agent.ts';
export type { ProxyAgent, ProxyAgentStats } from './proxy-agent.ts';

export {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_HEALTH_HOST,
  DEFAULT_HEALTH_PORT,
  KUBE_APISERVER_TARGET,
  validateOptions,
} from './options.ts';
export type {
  AgentApiOptions,
  AgentTlsOptions,
  AgentTransport,
  ProxyAgentOptions,
  ResolvedAgentApiOptions,
  ResolvedAgentOptions,
} from './options.ts';

export { AGENT_API_TARGET, GATEWAY_ORGANIZATION } from '../protocol/index.ts';
export {
  AGENT_API_HANDSHAKE_TIMEOUT_MS,
  AGENT_API_IDLE_TIMEOUT_MS,
} from './agent-api/agent-api-server.ts';
export { AGENT_API_REFUSAL_REASONS, DEFAULT_IDENTITY_PREFIX } from './agent-api/request-policy.ts';
export type { AgentApiRefusalReason } from './agent-api/request-policy.ts';
export { TOKEN_REFRESH_INTERVAL_MS } from './agent-api/token-file.ts';

export { createJsonLogger, silentLogger } from './logger.ts';
export type { LogFields, LogLevel, Logger } from './logger.ts';

export {
  BACKOFF_JITTER,
  BACKOFF_MULTIPLIER,
  INITIAL_BACKOFF_MS,
  MAX_BACKOFF_MS,
  MAX_PUSHBACK_MS,
} from './connection/backoff.ts';
export type { BackoffOptions } from './connection/backoff.ts';
export { STABLE_TUNNEL_MS } from './connection/tunnel-manager.ts';
export type { TunnelInfo } from './connection/tunnel-manager.ts';

export {
  REGISTRATION_REQUEST_TIMEOUT_MS,
  RegistrationClient,
  RegistrationRefusedError,
  SpokeSecrets,
  discoverHub,
  startRegisteredAgent,
} from './registration/index.ts';
export type {
  BootstrapConfig,
  DiscoverOptions,
  RegisteredAgent,
  RegisteredAgentOptions,
  StoredIdentity,
} from './registration/index.ts';
