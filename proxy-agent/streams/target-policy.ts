/**
 * What an agent will dial (DESIGN §3.4), deny by default:
 * - host `<clusterName>` or `kube-apiserver` (any port) → this cluster's API server. The port
 *   in the dial address is ignored: the hub routes `<cluster>:443` by host (ANP destHost) and
 *   cannot know the spoke's real API server port;
 * - host `agent-api` (any port) → the agent API served in-process, when `agentApi` is set;
 *   otherwise refused, even if allow-listed (the name is reserved);
 * - an exact `host:port` from the allow-list (host compared case-insensitively);
 * - anything else is refused with reason `not-allowed`.
 * Pure; no DNS, no I/O.
 */
import { AGENT_API_TARGET, parseDialAddress } from '../../protocol/index.ts';
import type { DialAddress, DialFailureReason } from '../../protocol/index.ts';
import { KUBE_APISERVER_TARGET, normalizeAddress } from '../options.ts';

/** The inputs of {@link resolveTarget}; a subset of ResolvedAgentOptions. */
export interface TargetPolicy {
  readonly clusterName: string;
  readonly kubeApiserver: DialAddress;
  /** Normalized `host:port` entries (see normalizeAddress). */
  readonly allow: ReadonlySet<string>;
  /** Set when the agent serves the `agent-api` target (its content does not matter here). */
  readonly agentApi?: object | undefined;
}

/** The decision for one dial address. */
export type TargetDecision =
  | {
      readonly isAllowed: true;
      readonly target: DialAddress;
      readonly kind: 'kube-apiserver' | 'allow-list';
    }
  | { readonly isAllowed: true; readonly kind: 'agent-api' }
  | { readonly isAllowed: false; readonly reason: DialFailureReason; readonly message: string };

/** Decides where a DIAL_REQ for `address` goes, or why it is refused. */
export function resolveTarget(address: string, policy: TargetPolicy): TargetDecision {
  let parsed: DialAddress;
  try {
    parsed = parseDialAddress(address);
  } catch {
    // The session validates addresses before onDial; this is a second line of defence.
    return {
      isAllowed: false,
      reason: 'bad-request',
      message: `target ${JSON.stringify(address.slice(0, 80))} is not host:port`,
    };
  }
  const host = parsed.host.toLowerCase().replace(/\.$/, '');
  if (host === AGENT_API_TARGET && policy.agentApi !== undefined) {
    return { isAllowed: true, kind: 'agent-api' };
  }
  if (host === policy.clusterName || host === KUBE_APISERVER_TARGET) {
    return { isAllowed: true, target: policy.kubeApiserver, kind: 'kube-apiserver' };
  }
  if (host === AGENT_API_TARGET) {
    return {
      isAllowed: false,
      reason: 'not-allowed',
      message: `target ${address} is not allowed on cluster ${policy.clusterName}: the agent API is off`,
    };
  }
  if (policy.allow.has(normalizeAddress(parsed))) {
    return { isAllowed: true, target: parsed, kind: 'allow-list' };
  }
  return {
    isAllowed: false,
    reason: 'not-allowed',
    message: `target ${address} is not allowed on cluster ${policy.clusterName}`,
  };
}
