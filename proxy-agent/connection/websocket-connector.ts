/**
 * Opens one tunnel over WebSocket/TLS (for networks that pass only HTTPS/1.1): the same packets,
 * one binary message each. The handshake metadata travels as HTTP headers: ours on the upgrade
 * request, the server's (`serverid`, `servercount`, `spokelink-ext`) on the 101 response.
 */
import type { IncomingMessage } from 'node:http';

import WebSocket from 'ws';

import {
  MAX_PACKET_BYTES,
  METADATA_KEYS,
  formatExtensions,
  parseExtensions,
  parseServerCount,
  singleMetadataValue,
  webSocketTransport,
  wireMetadataKey,
  zeroWebSocketMask,
} from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';
import type { ConnectAttempt, ConnectCallbacks, ConnectParams } from './connector.ts';

/** Most of a refusal's body kept for the error message (the server's reason). */
const MAX_REFUSAL_BODY_CHARS = 1024;

function headerValues(res: IncomingMessage, key: string): string[] {
  const value = res.headers[wireMetadataKey(key)];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Connects to a `wss://` URL with the client certificate, permessage-deflate off (it costs
 * 240 KiB per connection and a 20× slowdown, research/physical-limits.md), `maxPayload` =
 * MAX_PACKET_BYTES and zero masking keys (`zeroWebSocketMask`). HTTP 401/403 →
 * `AGENT_ERR_REFUSED_BY_SERVER` with the response body as the server's message; another
 * status, a network or TLS error → `AGENT_ERR_CONNECT_FAILED`; bad or missing headers, or no
 * 101 within the handshake timeout → `AGENT_ERR_HANDSHAKE`.
 * On 'open' calls `onOpen` synchronously with a `webSocketTransport`.
 */
export function connectWebSocket(
  params: ConnectParams,
  callbacks: ConnectCallbacks,
): ConnectAttempt {
  const { tls } = params;
  const headers: Record<string, string> = {
    [wireMetadataKey(METADATA_KEYS.agentId)]: params.agentId,
  };
  if (params.identifiersValue !== '') {
    headers[wireMetadataKey(METADATA_KEYS.agentIdentifiers)] = params.identifiersValue;
  }
  if (params.extensions.length > 0) {
    headers[wireMetadataKey(METADATA_KEYS.extensions)] = formatExtensions(params.extensions);
  }
  const ws = new WebSocket(params.address, {
    cert: tls.certPem,
    key: tls.keyPem,
    ca: tls.caPem,
    ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
    perMessageDeflate: false,
    maxPayload: MAX_PACKET_BYTES,
    handshakeTimeout: params.handshakeTimeoutMs,
    followRedirects: false,
    // Zero masking keys: no masked copy of every packet (see zeroWebSocketMask).
    generateMask: zeroWebSocketMask,
    headers,
  });
  let isSettled = false;
  let upgrade: IncomingMessage | undefined;
  const fail = (err: AgentError): void => {
    if (isSettled) return;
    isSettled = true;
    ws.terminate();
    callbacks.onFail(err);
  };
  ws.on('error', (err: Error) => {
    if (isSettled) return;
    const handshake = /handshake has timed out/i.test(err.message);
    fail(
      new AgentError(
        handshake ? 'AGENT_ERR_HANDSHAKE' : 'AGENT_ERR_CONNECT_FAILED',
        `cannot connect to ${params.address}: ${err.message}`,
        { cause: err },
      ),
    );
  });
  ws.on('close', () => {
    fail(
      new AgentError(
        'AGENT_ERR_CONNECT_FAILED',
        `connection to ${params.address} closed during the handshake`,
      ),
    );
  });
  ws.on('unexpected-response', (_req, res: IncomingMessage) => {
    const status = res.statusCode ?? 0;
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < MAX_REFUSAL_BODY_CHARS)
        body += chunk.slice(0, MAX_REFUSAL_BODY_CHARS - body.length);
    });
    const done = (): void => {
      const reason = body.trim() === '' ? (res.statusMessage ?? '') : body.trim();
      if (status === 401 || status === 403) {
        fail(
          new AgentError(
            'AGENT_ERR_REFUSED_BY_SERVER',
            `server ${params.address} refused the agent: HTTP ${status} ${reason}`,
          ),
        );
      } else {
        // A 503 with Retry-After (whole seconds): a proxy-server at its handshake admission rate.
        const retryAfter = res.headers['retry-after'];
        const retryAfterMs =
          status === 503 && typeof retryAfter === 'string' && /^[0-9]{1,6}$/.test(retryAfter)
            ? Number(retryAfter) * 1000
            : undefined;
        fail(
          new AgentError(
            'AGENT_ERR_CONNECT_FAILED',
            `server ${params.address} answered HTTP ${status} ${reason}`,
            retryAfterMs === undefined ? {} : { retryAfterMs },
          ),
        );
      }
    };
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
  ws.on('upgrade', (res: IncomingMessage) => {
    upgrade = res;
  });
  ws.on('open', () => {
    if (isSettled) return;
    const res = upgrade;
    let serverId: string;
    let serverCount: number;
    try {
      if (res === undefined) throw new Error('no upgrade response');
      serverId = singleMetadataValue(
        METADATA_KEYS.serverId,
        headerValues(res, METADATA_KEYS.serverId),
      );
      serverCount = parseServerCount(
        singleMetadataValue(
          METADATA_KEYS.serverCount,
          headerValues(res, METADATA_KEYS.serverCount),
        ),
      );
    } catch (err: unknown) {
      fail(
        new AgentError(
          'AGENT_ERR_HANDSHAKE',
          `server ${params.address} sent bad headers: ${(err as Error).message}`,
          { cause: err },
        ),
      );
      return;
    }
    isSettled = true;
    callbacks.onOpen({
      serverId,
      serverCount,
      peerExtensions: parseExtensions(headerValues(res, METADATA_KEYS.extensions)),
      transport: webSocketTransport(ws),
      release: () => undefined,
    });
  });
  return {
    cancel() {
      if (isSettled) return;
      isSettled = true;
      ws.terminate();
    },
  };
}
