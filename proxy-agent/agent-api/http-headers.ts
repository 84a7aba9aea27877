/**
 * Header rewriting between the gateway and the spoke API server, and the Kubernetes `Status`
 * bodies the agent API answers with. Pure; no I/O.
 *
 * Headers travel as Node's `headersDistinct` (lowercase name → every value), and go out as an
 * object whose array values Node writes as repeated header lines: several `Impersonate-Group`
 * headers stay several headers (joining them with ", " would make one group of that name).
 */
import type { OutgoingHttpHeaders } from 'node:http';

/** Request headers as received: lowercase name → every value (IncomingMessage.headersDistinct). */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1, plus the de-facto `keep-alive` and `proxy-connection`):
 * they describe one connection and are never forwarded. Upgrades re-add `Connection: Upgrade`
 * and `Upgrade` themselves.
 */
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
 * Dropped from requests besides hop-by-hop headers: the caller's credentials (the agent adds its
 * own), `host` (set for the API server's address) and `expect` (the agent's HTTP server already
 * answered `100 Continue`).
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

function copyEndToEnd(headers: DistinctHeaders, drop: ReadonlySet<string>): OutgoingHttpHeaders {
  const listed = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (values === undefined || values.length === 0) continue;
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || drop.has(lower)) continue;
    out[lower] = values.length === 1 ? values[0] : [...values];
  }
  return out;
}

/**
 * The headers sent to the API server for a gateway request: end-to-end headers unchanged
 * (Impersonate-*, Accept, Content-Type, Content-Length, ...), the caller's `Authorization`
 * replaced by `Bearer <token>`. With `isUpgrade`, `Connection: Upgrade` and the caller's
 * `Upgrade` value are kept (SPDY/3.1, websocket) so the API server can switch protocols.
 * A chunked request body stays chunked (Node re-frames it).
 */
export function upstreamRequestHeaders(
  headers: DistinctHeaders,
  token: string,
  options: { readonly isUpgrade?: boolean } = {},
): OutgoingHttpHeaders {
  const out = copyEndToEnd(headers, DROPPED_REQUEST_HEADERS);
  if (options.isUpgrade === true) {
    out['connection'] = 'Upgrade';
    const upgrade = headers['upgrade'];
    if (upgrade !== undefined) out['upgrade'] = upgrade.join(', ');
  } else if (headers['transfer-encoding'] !== undefined) {
    out['transfer-encoding'] = 'chunked';
  }
  out['authorization'] = `Bearer ${token}`;
  return out;
}

/**
 * The API server's response headers as relayed to the gateway: everything end to end; Node
 * chooses the framing (Content-Length when the API server sent one, else chunked).
 */
export function downstreamResponseHeaders(headers: DistinctHeaders): OutgoingHttpHeaders {
  return copyEndToEnd(headers, new Set());
}

/**
 * An HTTP/1.1 response head written on a raw socket (upgrade paths, where there is no
 * ServerResponse). `headers` is a flat `[name, value, name, value, ...]` list (Node's
 * `rawHeaders` shape).
 */
export function rawResponseHead(
  statusCode: number,
  statusMessage: string,
  headers: readonly string[],
): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/** A Kubernetes `Status` object (meta/v1), the body the API server itself sends on errors. */
export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly code: number;
}

/** A failure `Status` with `code`, `reason` (e.g. `Forbidden`) and `message`. */
export function kubeStatus(code: number, reason: string, message: string): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}
