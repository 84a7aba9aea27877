/**
 * Kubernetes `Status` answers (meta/v1), the body kubectl and client-go read on errors, written
 * on a ServerResponse or, on the upgrade path, on a raw socket. Pure apart from the writes.
 */
import { Buffer } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A failure `Status` object. */
export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly details?: { readonly name: string; readonly group: string; readonly kind: string };
  readonly code: number;
}

const REASON_BY_CODE: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  500: 'InternalError',
  502: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A failure Status for `code`; `reason` defaults to the API server's reason for the code. */
export function kubeStatus(
  code: number,
  message: string,
  details?: KubeStatus['details'],
): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASON_BY_CODE[code] ?? 'Unknown',
    ...(details === undefined ? {} : { details }),
    code,
  };
}

/** Answers `res` with `status` as JSON (and closes the connection when `isClosing`). */
export function sendStatus(
  res: ServerResponse,
  status: KubeStatus,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(status);
  res.writeHead(status.code, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, private',
  });
  res.end(body);
}

/**
 * Writes a complete response with `status` on a socket that is not (yet) upgraded, ends it and
 * destroys it once written (`Connection: close`: nothing else may follow on it).
 */
export function writeRawStatus(
  socket: Duplex,
  status: KubeStatus,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(status);
  socket.once('finish', () => socket.destroy());
  const lines = Object.entries({
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-cache, private',
    Connection: 'close',
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? 'Error'}\r\n${lines.join('')}\r\n${body}`,
  );
}
