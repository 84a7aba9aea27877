/**
 * Header rewriting between the gateway and the spoke API server, and the Kubernetes `Status`
 * bodies the agent API answers with. Pure; no I/O.
 *
 * Headers travel as Node's `headersDistinct` (lowercase name → every value), and go out as an
 * object whose array values Node writes as repeated header lines: several `Impersonate-Group`
 * headers stay several headers (joining them with ", " would make one group of that name).
 */
import type { OutgoingHttpHeaders } from 'node:http';

import {
  type DistinctHeaders,
  PASS_THROUGH_HEADER,
  endToEndHeaders,
} from '../../protocol/index.ts';

export { rawResponseHead, type DistinctHeaders } from '../../protocol/index.ts';

/**
 * Dropped from requests besides hop-by-hop headers: the caller's credentials (set again below,
 * by the credential), `host` (set for the API server's address), `expect` (the agent's HTTP
 * server already answered `100 Continue`) and the gateway's pass-through marker.
 */
const DROPPED_REQUEST_HEADERS = new Set(['authorization', 'host', 'expect', PASS_THROUGH_HEADER]);

/**
 * Whose credential a request carries to the API server: the agent's own ServiceAccount token
 * (an impersonated request), or the caller's own `Authorization`, unchanged (a pass-through
 * request; the agent's token is never on it).
 */
export type UpstreamCredential =
  { readonly kind: 'agent-token'; readonly token: string } | { readonly kind: 'pass-through' };

/**
 * The headers sent to the API server for a gateway request: end-to-end headers unchanged
 * (Impersonate-*, Accept, Content-Type, Content-Length, ...) without the pass-through marker;
 * `Authorization` is `Bearer <agent token>` for `agent-token`, and the caller's own single
 * value for `pass-through` (checked by `checkPassThrough` before; absent, none is sent — never
 * the agent's). With `isUpgrade`, `Connection: Upgrade` and the caller's `Upgrade` value are
 * kept (SPDY/3.1, websocket) so the API server can switch protocols. A chunked request body
 * stays chunked (Node re-frames it).
 */
export function upstreamRequestHeaders(
  headers: DistinctHeaders,
  credential: UpstreamCredential,
  options: { readonly isUpgrade?: boolean } = {},
): OutgoingHttpHeaders {
  const out = endToEndHeaders(headers, (lower) => DROPPED_REQUEST_HEADERS.has(lower));
  if (options.isUpgrade === true) {
    out['connection'] = 'Upgrade';
    const upgrade = headers['upgrade'];
    if (upgrade !== undefined) out['upgrade'] = upgrade.join(', ');
  } else if (headers['transfer-encoding'] !== undefined) {
    out['transfer-encoding'] = 'chunked';
  }
  if (credential.kind === 'agent-token') {
    out['authorization'] = `Bearer ${credential.token}`;
  } else {
    const [authorization] = headers['authorization'] ?? [];
    if (authorization !== undefined) out['authorization'] = authorization;
  }
  return out;
}

/**
 * The API server's response headers as relayed to the gateway: everything end to end; Node
 * chooses the framing (Content-Length when the API server sent one, else chunked).
 */
export function downstreamResponseHeaders(headers: DistinctHeaders): OutgoingHttpHeaders {
  return endToEndHeaders(headers);
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
