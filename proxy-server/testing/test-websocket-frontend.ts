/**
 * A raw frontend WebSocket client for tests, built from protocol/ and `ws` only (not the
 * TunnelClient under test): it sends the upgrade with `spokelink-ext`, reads the 101, and runs a
 * TunnelSession as dialer on the WebSocket, or reports the refusal.
 */
import type { IncomingMessage } from 'node:http';

import { WebSocket } from 'ws';

import {
  EXTENSIONS_METADATA_KEY,
  MAX_PACKET_BYTES,
  SUPPORTED_EXTENSIONS,
  TunnelSession,
  formatExtensions,
  negotiateExtensions,
  parseExtensions,
  webSocketTransport,
} from '../../protocol/index.ts';
import type { ExtensionName } from '../../protocol/index.ts';
import type { PeerTls } from './test-peers.ts';

/** Options of {@link openTestWebSocketFrontend}. */
export interface TestWebSocketFrontendOptions {
  /** `wss://host:port/frontend` (any path, to test refusals). */
  readonly url: string;
  readonly tls: PeerTls;
  /** Announced; default all; [] announces nothing. */
  readonly extensions?: readonly ExtensionName[];
}

/** An open frontend WebSocket with its dialer session. */
export interface TestWebSocketFrontend {
  readonly session: TunnelSession;
  /** The server's `spokelink-ext` on the 101 response ('' when absent). */
  readonly serverExtensions: string;
  /** Resolves when the session closed, with its error if any. */
  readonly closed: Promise<Error | undefined>;
  close(): Promise<void>;
}

/**
 * Opens a frontend WebSocket. Rejects with an Error carrying `code`: the HTTP status of a
 * refused upgrade (message = the response body), or 0 for a network or TLS failure.
 */
export function openTestWebSocketFrontend(
  options: TestWebSocketFrontendOptions,
): Promise<TestWebSocketFrontend> {
  const local = options.extensions ?? SUPPORTED_EXTENSIONS;
  const announced = formatExtensions(local);
  const ws = new WebSocket(options.url, {
    ca: options.tls.caPem,
    cert: options.tls.certPem,
    key: options.tls.keyPem,
    headers: announced === '' ? {} : { [EXTENSIONS_METADATA_KEY]: announced },
    perMessageDeflate: false,
    maxPayload: MAX_PACKET_BYTES,
  });
  return new Promise((resolve, reject) => {
    let serverExtensions = '';
    const onError = (err: Error): void => reject(Object.assign(err, { code: 0 }));
    ws.on('error', onError);
    ws.once('upgrade', (res: IncomingMessage) => {
      serverExtensions = String(res.headers[EXTENSIONS_METADATA_KEY] ?? '');
    });
    ws.once('unexpected-response', (req, res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        reject(Object.assign(new Error(body.trim()), { code: res.statusCode ?? 0 }));
        req.destroy();
      });
    });
    ws.once('open', () => {
      const transport = webSocketTransport(ws);
      ws.off('error', onError);
      const session = new TunnelSession({
        transport,
        role: 'dialer',
        extensions: negotiateExtensions(local, parseExtensions(serverExtensions)),
        label: 'test websocket frontend',
      });
      const closed = new Promise<Error | undefined>((done) => session.once('close', done));
      resolve({ session, serverExtensions, closed, close: () => session.close() });
    });
  });
}
