// Agent listeners: where agents connect (gRPC AgentService.Connect, WebSocket /tunnel), and the
// authentication both run before accepting a tunnel.
export { serverHelloHeaders } from './agent-listener-context.ts';
export type { AcceptedAgent, AgentListenerContext } from './agent-listener-context.ts';
export { authenticateAgent, peerCommonName, refusalStatus } from './authenticate-agent.ts';
export type { AgentCredentials } from './authenticate-agent.ts';
export { GrpcAgentListener } from './grpc-agent-listener.ts';
export { TUNNEL_PATH, WebSocketAgentListener } from './websocket-agent-listener.ts';
