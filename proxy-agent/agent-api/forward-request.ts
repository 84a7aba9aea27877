/**
 * Forwards one checked gateway request to the spoke API server and streams the answer back.
 * Bodies stream both ways with backpressure (STYLE §5.1); an unsized response's head is flushed
 * at once and every chunk is written as it arrives, so watches and log follows work. Either side going away tears down the other: a gateway that disconnects
 * aborts the upstream request (its socket is destroyed, not returned to the keep-alive pool),
 * and an API server that fails mid-response destroys the gateway's connection, the only way
 * HTTP/1.1 can say "this body is incomplete".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'node:https';
import type { Agent, RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';

import { isStaleConnectionRetry } from '../../protocol/index.ts';
import type { DialAddress } from '../../protocol/index.ts';
import { toError } from '../errors.ts';
import type { LogFields, Logger } from '../logger.ts';
import { downstreamResponseHeaders, kubeStatus, upstreamRequestHeaders } from './http-headers.ts';
import type { UpstreamCredential } from './http-headers.ts';

/** What {@link forwardRequest} needs from the agent API server. */
export interface ForwardContext {
  /** Keep-alive `https.Agent` whose `ca` is the spoke API server's. */
  readonly agent: Agent;
  readonly kubeApiserver: DialAddress;
  /**
   * The credential of this request, read per request: the agent's ServiceAccount token (it
   * rotates), or the caller's own for a pass-through.
   */
  readonly credential: () => UpstreamCredential;
  /** Bound on connecting to the API server, in ms (DNS, TCP and TLS). */
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  readonly fields: LogFields;
}

/** Answers with a Kubernetes `Status` body (used for refusals and for upstream failures). */
export function sendStatus(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
): void {
  const body = JSON.stringify(kubeStatus(code, reason, message));
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, private',
  });
  res.end(body);
}

/**
 * Applies `connectTimeoutMs` to a new upstream connection only: a watch may then sit idle for
 * as long as the API server keeps it open.
 */
export function limitConnectTime(
  socket: Socket,
  timeoutMs: number,
  onTimeout: (err: Error) => void,
): void {
  if (!socket.connecting) return;
  const timer = setTimeout(() => {
    onTimeout(new Error(`connecting to the API server timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const clear = (): void => clearTimeout(timer);
  socket.once('secureConnect', clear);
  socket.once('close', clear);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * Sends `req` (already checked) to the API server and relays the response into `res`. Never
 * throws; every failure ends in a 503 Status (before the response head) or a destroyed `res`
 * (after it). The caller counts and logs from `res` events.
 */
export function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  context: ForwardContext,
): void {
  const method = req.method ?? 'GET';
  const withBody = hasBody(req);
  let attempt = 0;

  const fail = (err: Error): void => {
    if (res.destroyed || res.writableEnded) return;
    context.logger.debug('agent api upstream failed', { ...context.fields, error: err.message });
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    sendStatus(
      res,
      503,
      'ServiceUnavailable',
      `the agent could not reach the API server: ${err.message}`,
    );
  };

  const send = (): void => {
    attempt += 1;
    const options: RequestOptions = {
      agent: context.agent,
      host: context.kubeApiserver.host,
      port: context.kubeApiserver.port,
      method,
      path: req.url ?? '/',
      headers: upstreamRequestHeaders(req.headersDistinct, context.credential()),
    };
    const upstream = request(options);
    let hasResponse = false;
    const onGatewayGone = (): void => {
      if (!res.writableFinished) upstream.destroy();
    };
    res.once('close', onGatewayGone);
    upstream.on('socket', (socket: Socket) => {
      limitConnectTime(socket, context.connectTimeoutMs, (err) => upstream.destroy(err));
    });
    upstream.on('error', (err: Error) => {
      res.off('close', onGatewayGone);
      // A keep-alive connection the API server closed while it sat in the pool: the request
      // never reached it, so an idempotent request without a body may go again (once).
      const isStale = isStaleConnectionRetry({
        err,
        reusedSocket: upstream.reusedSocket,
        hasResponse,
        withBody,
        method,
        number: attempt,
        isCallerGone: res.destroyed,
      });
      if (isStale) send();
      else fail(err);
    });
    upstream.on('response', (upstreamRes: IncomingMessage) => {
      hasResponse = true;
      if (res.destroyed) {
        upstream.destroy();
        return;
      }
      res.writeHead(
        upstreamRes.statusCode ?? 502,
        upstreamRes.statusMessage,
        downstreamResponseHeaders(upstreamRes.headersDistinct),
      );
      // A streamed answer (watch, log follow: no Content-Length) must show its head before its
      // first chunk, which may be minutes away; a sized one is written in one go anyway.
      if (upstreamRes.headers['content-length'] === undefined) res.flushHeaders();
      pipeline(upstreamRes, res, (err) => {
        if (err != null) {
          upstream.destroy();
          if (!res.destroyed) res.destroy(toError(err));
        }
      });
    });
    if (withBody) {
      // pipe(), not pipeline(): an upstream failure must not destroy `req`, whose socket is the
      // gateway's connection and still has to carry the 503.
      req.on('error', () => upstream.destroy());
      req.pipe(upstream);
    } else {
      upstream.end();
      req.resume();
    }
  };
  send();
}
