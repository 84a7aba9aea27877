/**
 * Header rewriting between a gateway caller and an agent API. Pure.
 *
 * Headers travel as Node's `headersDistinct` (lowercase name → every value) and go out as an
 * object whose array values Node writes as repeated lines, so several `Impersonate-Group`
 * headers stay several headers (joined with ", " they would name one group).
 */
import type { OutgoingHttpHeaders } from 'node:http';

import {
  AGENT_API_TARGET,
  type DistinctHeaders,
  PASS_THROUGH_HEADER,
  PASS_THROUGH_VALUE,
  endToEndHeaders,
} from '../../protocol/index.ts';

export { rawResponseHead, type DistinctHeaders } from '../../protocol/index.ts';

import type { SpokeIdentity } from './hub-identity.ts';

/**
 * How the agent API is to act on one request:
 * - `impersonate`: a hub caller, as the prefixed `identity` (the agent adds its own token);
 * - `pass-through`: a caller holding a spoke token; the agent forwards `authorization`
 *   (`Bearer <token>`) unchanged and adds neither its own token nor impersonation.
 */
export type AgentForwarding =
  | { readonly kind: 'impersonate'; readonly identity: SpokeIdentity }
  | { readonly kind: 'pass-through'; readonly authorization: string };

/**
 * Never forwarded as the caller sent them: its credentials (a hub caller's never reach the
 * spoke; a spoke token is re-sent as the one value the hub reviewed), `host` (set to
 * `agent-api`), `expect` (the gateway's HTTP server already answered `100 Continue`) and the
 * pass-through marker (only the gateway sets it).
 */
const DROPPED_REQUEST_HEADERS = new Set(['authorization', 'host', 'expect', PASS_THROUGH_HEADER]);

/**
 * The headers of a request to the agent API: the caller's end-to-end headers without its
 * credentials, `Host`, `Expect` and any pass-through marker, plus, by `forwarding`:
 * - `impersonate`: without the caller's `Impersonate-*` (refused before forwarding and dropped
 *   here as well, so only the gateway's impersonation reaches an agent), then
 *   `Impersonate-User` and one `Impersonate-Group` per group;
 * - `pass-through`: the caller's `Impersonate-*` unchanged (the spoke decides them against the
 *   token's identity), `Authorization` as reviewed and `Spokelink-Pass-Through: spoke-token`.
 * With `upgradeWith` (the caller's `Upgrade` values), `Connection: Upgrade` is kept so the
 * spoke API server can switch protocols; a chunked body stays chunked (Node re-frames it).
 */
export function agentRequestHeaders(
  headers: DistinctHeaders,
  forwarding: AgentForwarding,
  upgradeWith?: readonly string[],
): OutgoingHttpHeaders {
  const isPassThrough = forwarding.kind === 'pass-through';
  const out = endToEndHeaders(
    headers,
    (lower) =>
      DROPPED_REQUEST_HEADERS.has(lower) || (!isPassThrough && lower.startsWith('impersonate-')),
  );
  out['host'] = AGENT_API_TARGET;
  if (upgradeWith !== undefined) {
    out['connection'] = 'Upgrade';
    out['upgrade'] = upgradeWith.join(', ');
  } else if (headers['transfer-encoding'] !== undefined) {
    out['transfer-encoding'] = 'chunked';
  }
  if (forwarding.kind === 'pass-through') {
    out['authorization'] = forwarding.authorization;
    out[PASS_THROUGH_HEADER] = PASS_THROUGH_VALUE;
  } else {
    out['impersonate-user'] = forwarding.identity.user;
    if (forwarding.identity.groups.length > 0)
      out['impersonate-group'] = [...forwarding.identity.groups];
  }
  return out;
}

/** The agent's response headers as relayed to the caller: end to end; Node picks framing. */
export function callerResponseHeaders(headers: DistinctHeaders): OutgoingHttpHeaders {
  return endToEndHeaders(headers);
}
