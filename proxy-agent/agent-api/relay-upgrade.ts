/**
 * HTTP upgrades (kubectl exec, attach, port-forward: SPDY/3.1 or WebSocket) after the same
 * checks as plain requests: the rewritten request head goes to the API server over TLS; a 101
 * is relayed verbatim and then bytes flow both ways until either side ends; any other answer
 * (the API server refusing the upgrade, e.g. 403) is relayed and the connection closed, so no
 * second request can ride a connection the agent no longer parses.
 */
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';

import { joinSockets } from '../../protocol/index.ts';
import { toError } from '../errors.ts';
import type { ForwardContext } from './forward-request.ts';
import { limitConnectTime } from './forward-request.ts';
import {
  downstreamResponseHeaders,
  kubeStatus,
  rawResponseHead,
  upstreamRequestHeaders,
} from './http-headers.ts';

/** How one relayed upgrade ended, reported once. */
export interface UpgradeResult {
  /** The status relayed to the gateway (101 when switched), or undefined if none was sent. */
  readonly statusCode: number | undefined;
  readonly error: Error | undefined;
}

/**
 * Writes a Kubernetes `Status` answer on a raw socket (no ServerResponse exists on the upgrade
 * path) and ends it.
 */
export function endWithStatus(
  socket: Duplex,
  code: number,
  reason: string,
  statusMessage: string,
  message: string,
): void {
  const body = JSON.stringify(kubeStatus(code, reason, message));
  const head = rawResponseHead(code, statusMessage, [
    'Content-Type',
    'application/json',
    'Content-Length',
    String(Buffer.byteLength(body)),
    'Connection',
    'close',
  ]);
  socket.end(head + body);
}

/**
 * Sends the upgrade request `req` (already checked) to the API server and relays the outcome
 * on `socket`, the gateway's connection (its 'error' listener is the caller's). `head` is what
 * the gateway sent after its request head. Never throws; `onDone` runs exactly once, when the
 * exchange is over: after a switch, once both relayed directions have ended (both sockets are
 * destroyed by then); otherwise once the answer was written.
 */
export function relayUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  context: ForwardContext,
  onDone: (result: UpgradeResult) => void,
): void {
  let isDone = false;
  let statusCode: number | undefined;
  const done = (err: Error | undefined): void => {
    if (isDone) return;
    isDone = true;
    onDone({ statusCode, error: err });
  };
  const upstream = request({
    agent: context.agent,
    host: context.kubeApiserver.host,
    port: context.kubeApiserver.port,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers: upstreamRequestHeaders(req.headersDistinct, context.credential(), {
      isUpgrade: true,
    }),
  });
  // The gateway leaving before the API server answered: abandon the upstream request.
  const onGatewayGone = (): void => {
    if (statusCode === undefined) upstream.destroy();
  };
  socket.once('close', onGatewayGone);
  upstream.on('socket', (upstreamSocket: Socket) => {
    limitConnectTime(upstreamSocket, context.connectTimeoutMs, (err) => upstream.destroy(err));
  });
  upstream.on('error', (err: Error) => {
    socket.off('close', onGatewayGone);
    if (statusCode === undefined && !socket.destroyed && socket.writable) {
      statusCode = 503;
      endWithStatus(
        socket,
        503,
        'ServiceUnavailable',
        'Service Unavailable',
        `the agent could not reach the API server: ${err.message}`,
      );
      done(err);
    } else {
      socket.destroy();
      done(err);
    }
  });
  upstream.on('upgrade', (upstreamRes: IncomingMessage, upstreamSocket: Duplex, upstreamHead) => {
    upstreamSocket.on('error', () => undefined); // the relay's pipelines report errors
    socket.off('close', onGatewayGone);
    statusCode = upstreamRes.statusCode ?? 101;
    if (socket.destroyed) {
      upstreamSocket.destroy();
      done(undefined);
      return;
    }
    socket.write(
      rawResponseHead(statusCode, upstreamRes.statusMessage ?? '', upstreamRes.rawHeaders),
    );
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    joinSockets(socket, upstreamSocket, done);
  });
  upstream.on('response', (upstreamRes: IncomingMessage) => {
    // No switch: relay the answer, close-delimited (the agent stops parsing this connection).
    socket.off('close', onGatewayGone);
    statusCode = upstreamRes.statusCode ?? 502;
    const headers = downstreamResponseHeaders(upstreamRes.headersDistinct);
    const flat: string[] = [];
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? value : [value]) flat.push(name, String(one));
    }
    flat.push('connection', 'close');
    socket.write(rawResponseHead(statusCode, upstreamRes.statusMessage ?? '', flat));
    pipeline(upstreamRes, socket, (err) => {
      if (err != null) {
        upstream.destroy();
        socket.destroy();
      }
      done(err == null ? undefined : toError(err));
    });
  });
  upstream.end();
}
