/**
 * Header rewriting between a gateway caller and an agent API. Pure.
 *
 * Headers travel as Node's `headersDistinct` (lowercase name → every value) and go out as an
 * object whose array values Node writes as repeated lines, so several `Impersonate-Group`
 * headers stay several headers (joined with ", " they would name one group).
 */
import type { OutgoingHttpHeaders } from 'node:http';

import { AGENT_API_TARGET, type DistinctHeaders, endToEndHeaders } from '../../protocol/index.ts';

export { rawResponseHead, type DistinctHeaders } from '../../protocol/index.ts';

import type { SpokeIdentity } from './hub-identity.ts';

/**
 * Never forwarded to the agent: the caller's credentials (the hub authenticated them; the
 * spoke must not see them), `host` (set to `agent-api`) and `expect` (the gateway's HTTP
 * server already answered `100 Continue`). `impersonate-*` is refused before forwarding and
 * dropped here as well, so only the gateway's own impersonation can reach an agent.
 */
const DROPPED_REQUEST_HEADERS = new Set(['authorization', 'host', 'expect']);

/**
 * The headers of a request to the agent API: the caller's end-to-end headers, without its
 * credentials and impersonation, plus `Impersonate-User` and one `Impersonate-Group` per group.
 * With `upgradeWith` (the caller's `Upgrade` values), `Connection: Upgrade` is kept so the
 * spoke API server can switch protocols; a chunked body stays chunked (Node re-frames it).
 */
export function agentRequestHeaders(
  headers: DistinctHeaders,
  identity: SpokeIdentity,
  upgradeWith?: readonly string[],
): OutgoingHttpHeaders {
  const out = endToEndHeaders(
    headers,
    (lower) => DROPPED_REQUEST_HEADERS.has(lower) || lower.startsWith('impersonate-'),
  );
  out['host'] = AGENT_API_TARGET;
  if (upgradeWith !== undefined) {
    out['connection'] = 'Upgrade';
    out['upgrade'] = upgradeWith.join(', ');
  } else if (headers['transfer-encoding'] !== undefined) {
    out['transfer-encoding'] = 'chunked';
  }
  out['impersonate-user'] = identity.user;
  if (identity.groups.length > 0) out['impersonate-group'] = [...identity.groups];
  return out;
}

/** The agent's response headers as relayed to the caller: end to end; Node picks framing. */
export function callerResponseHeaders(headers: DistinctHeaders): OutgoingHttpHeaders {
  return endToEndHeaders(headers);
}
