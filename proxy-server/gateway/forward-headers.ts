/**
 * Header rewriting between a gateway caller and an agent API. Pure.
 *
 * Headers travel as Node's `headersDistinct` (lowercase name → every value) and go out as an
 * object whose array values Node writes as repeated lines, so several `Impersonate-Group`
 * headers stay several headers (joined with ", " they would name one group).
 */
import type { OutgoingHttpHeaders } from 'node:http';

import { AGENT_API_TARGET } from '../../protocol/index.ts';

import type { SpokeIdentity } from './hub-identity.ts';

/** Request headers as received: lowercase name → every value (IncomingMessage.headersDistinct). */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** Hop-by-hop headers (RFC 9110 §7.6.1, plus `keep-alive` and `proxy-connection`). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Never forwarded to the agent: the caller's credentials (the hub authenticated them; the
 * spoke must not see them), `host` (set to `agent-api`) and `expect` (the gateway's HTTP
 * server already answered `100 Continue`). `impersonate-*` is refused before forwarding and
 * dropped here as well, so only the gateway's own impersonation can reach an agent.
 */
const DROPPED_REQUEST_HEADERS = new Set(['authorization', 'host', 'expect']);

function connectionTokens(headers: DistinctHeaders): Set<string> {
  const tokens = new Set<string>();
  for (const value of headers['connection'] ?? []) {
    for (const token of value.split(',')) {
      const trimmed = token.trim().toLowerCase();
      if (trimmed !== '') tokens.add(trimmed);
    }
  }
  return tokens;
}

function copyEndToEnd(
  headers: DistinctHeaders,
  isDropped: (lowerName: string) => boolean,
): OutgoingHttpHeaders {
  const listed = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (values === undefined || values.length === 0) continue;
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || isDropped(lower)) continue;
    out[lower] = values.length === 1 ? values[0] : [...values];
  }
  return out;
}

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
  const out = copyEndToEnd(
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
  return copyEndToEnd(headers, () => false);
}

/** An HTTP/1.1 response head for a raw socket; `headers` is Node's flat `rawHeaders` shape. */
export function rawResponseHead(
  statusCode: number,
  statusMessage: string,
  headers: readonly string[],
): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}
