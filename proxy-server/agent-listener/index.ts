// Agent listeners: where agents connect (gRPC AgentService.Connect, WebSocket /tunnel), and the
// authentication both run before accepting a tunnel.
export {
  AdmissionRateLimiter,
  DEFAULT_AGENT_ADMISSION_BURST,
  DEFAULT_AGENT_ADMISSION_RATE,
  MAX_ADMISSION_PUSHBACK_MS,
} from './admission-rate-limiter.ts';
export type { AgentAdmissionRate } from './admission-rate-limiter.ts';
export {
  RETRY_PUSHBACK_METADATA_KEY,
  rateLimitedMessage,
  serverHelloHeaders,
} from './agent-listener-context.ts';
export type { AcceptedAgent, AgentListenerContext } from './agent-listener-context.ts';
export { authenticateAgent, peerCommonName, refusalStatus } from './authenticate-agent.ts';
export type { AgentCredentials } from './authenticate-agent.ts';
export { GrpcAgentListener } from './grpc-agent-listener.ts';
export {
  DEFAULT_MAX_PENDING_HANDSHAKES,
  HANDSHAKE_SLOT_TIMEOUT_MS,
  guardPendingHandshakes,
} from './handshake-guard.ts';
export { TUNNEL_PATH, WebSocketAgentListener } from './websocket-agent-listener.ts';
