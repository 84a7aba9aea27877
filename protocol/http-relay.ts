/**
 * The HTTP hop between the cluster gateway (proxy-server) and the agent API (proxy-agent), and
 * from the agent API to the spoke API server: which headers cross a relay. Both ends use this
 * one definition. Pure, apart from joinSockets.
 *
 * Headers travel as Node's `headersDistinct` (lowercase name → every value) and go out as an
 * object whose array values Node writes as repeated header lines, so several
 * `Impersonate-Group` headers stay several headers (joined with ", " they would name one group).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { type Duplex, pipeline } from 'node:stream';

/** Request or response headers as received (IncomingMessage.headersDistinct). */
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

/**
 * The end-to-end headers of `headers`: without hop-by-hop headers, without the headers the
 * `Connection` header lists, and without those `isDropped` names (given lowercase names).
 */
export function endToEndHeaders(
  headers: DistinctHeaders,
  isDropped: (lowerName: string) => boolean = () => false,
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
 * An HTTP/1.1 response head for a raw socket (upgrade paths, where there is no ServerResponse);
 * `headers` is Node's flat `rawHeaders` shape `[name, value, name, value, …]`.
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

/**
 * Joins two sockets both ways after an upgrade (STYLE §5.1): one pipeline per direction keeps
 * backpressure and half-close; an error, or either side being destroyed, destroys both.
 * `onDone` runs once, when both directions are over (both sockets are destroyed by then).
 */
export function joinSockets(a: Duplex, b: Duplex, onDone: (err: Error | undefined) => void): void {
  let remaining = 2;
  let firstError: Error | undefined;
  const finish = (err: Error | null | undefined): void => {
    if (err != null) {
      firstError ??= err;
      a.destroy();
      b.destroy();
    }
    remaining -= 1;
    if (remaining > 0) return;
    a.destroy();
    b.destroy();
    onDone(firstError);
  };
  pipeline(a, b, finish);
  pipeline(b, a, finish);
}

/** Methods a relay may send again when a pooled connection turns out dead before answering. */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a relay's upstream request failed only because the keep-alive connection it reused
 * had been closed by the other end while idle (ECONNRESET on a reused socket, before any
 * answer): the request never arrived, so an idempotent one without a body may go once more on
 * a new connection. The gateway → agent API and agent API → API server hops both ask this.
 */
export function isStaleConnectionRetry(attempt: {
  readonly err: Error;
  readonly reusedSocket: boolean;
  readonly hasResponse: boolean;
  readonly withBody: boolean;
  readonly method: string;
  /** 1 for the first try. */
  readonly number: number;
  /** The caller has gone: nobody to answer. */
  readonly isCallerGone: boolean;
}): boolean {
  return (
    attempt.reusedSocket &&
    (attempt.err as NodeJS.ErrnoException).code === 'ECONNRESET' &&
    !attempt.hasResponse &&
    !attempt.withBody &&
    RETRYABLE_METHODS.has(attempt.method) &&
    attempt.number === 1 &&
    !attempt.isCallerGone
  );
}
