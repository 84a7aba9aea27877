// Agent sessions and routing: who is connected, and which agent serves a dial.
export { AgentRegistry } from './agent-registry.ts';
export type { AgentRegistryOptions, RoutableAgent, RouteResult } from './agent-registry.ts';
export { AgentSession } from './agent-session.ts';
export type {
  AgentIdentity,
  AgentInfo,
  AgentSessionOptions,
  AgentTransportKind,
} from './agent-session.ts';
