/**
 * Sends one authorized gateway request to a cluster's agent API and streams the answer back
 * (STYLE §5.1: both bodies with backpressure; an unsized answer — a watch, a log follow — has
 * its head flushed at once and every chunk relayed as it arrives). HTTP upgrades (kubectl
 * exec/attach/port-forward over SPDY or WebSocket) are relayed after the same checks: a 101 is
 * passed on verbatim and the two connections joined byte for byte.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';

import {
  type DialFailureReason,
  isStaleConnectionRetry,
  joinSockets,
} from '../../protocol/index.ts';

import { dialFailureReasonOf, errorMessage, toError } from '../errors.ts';
import { DIAL_FAILURE_HEADER, statusForDialFailure } from '../frontend/index.ts';
import { AgentIdentityError } from './agent-api-pool.ts';
import type { AgentApiPool } from './agent-api-pool.ts';
import { agentRequestHeaders, callerResponseHeaders, rawResponseHead } from './forward-headers.ts';
import type { AgentForwarding, DistinctHeaders } from './forward-headers.ts';
import { kubeStatus, sendStatus, writeRawStatus } from './kube-status.ts';
import type { KubeStatus } from './kube-status.ts';

/** One request to forward. */
export interface ForwardTarget {
  readonly pool: AgentApiPool;
  readonly cluster: string;
  /** `/<rest>?<query>` as the agent receives it. */
  readonly path: string;
  /** As the prefixed identity, or with the caller's own spoke token. */
  readonly forwarding: AgentForwarding;
}

/** A failure before the agent answered, as the caller sees it. */
export interface UpstreamFailure {
  readonly status: KubeStatus;
  /** The dial failure reason, sent as `Spokelink-Dial-Failure`. */
  readonly reason: DialFailureReason | undefined;
}

/**
 * Maps a failure to reach a cluster's agent API to the caller's answer: a failed dial through
 * `statusForDialFailure` (the one reason → status mapping: unknown or unconnected cluster →
 * 503, timeout → 504, …), an agent whose certificate is not the cluster's → 502, and anything
 * else (the connection lost before an answer) → 502.
 */
export function upstreamFailure(err: unknown, cluster: string): UpstreamFailure {
  if (err instanceof AgentIdentityError) {
    return { status: kubeStatus(502, err.message), reason: undefined };
  }
  const reason = dialFailureReasonOf(err);
  const isDialFailure = (err as { code?: unknown } | null)?.code === 'PROTO_ERR_DIAL_FAILED';
  if (isDialFailure) {
    return {
      status: kubeStatus(
        statusForDialFailure(reason),
        `cannot reach cluster "${cluster}" through the tunnel (${reason}): ${errorMessage(err)}`,
      ),
      reason,
    };
  }
  return {
    status: kubeStatus(
      502,
      `the agent API of cluster "${cluster}" failed before answering: ${errorMessage(err)}`,
    ),
    reason: undefined,
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

function dialHeader(failure: UpstreamFailure): Record<string, string> {
  return failure.reason === undefined ? {} : { [DIAL_FAILURE_HEADER]: failure.reason };
}

/**
 * Forwards `req` to the agent API and relays the answer into `res`. Never throws; failures
 * before the answer's head become a Status (see {@link upstreamFailure}), after it the caller's
 * connection is destroyed (the only way HTTP/1.1 can say "incomplete"). A caller that goes away
 * aborts the agent request (its connection is destroyed, not pooled).
 */
export function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  target: ForwardTarget,
): void {
  const method = req.method ?? 'GET';
  const withBody = hasBody(req);
  const headers: OutgoingHttpHeaders = agentRequestHeaders(
    req.headersDistinct as DistinctHeaders,
    target.forwarding,
  );
  let attempt = 0;

  const fail = (err: unknown): void => {
    if (res.destroyed || res.writableEnded) return;
    if (res.headersSent) {
      res.destroy(toError(err));
      return;
    }
    const failure = upstreamFailure(err, target.cluster);
    sendStatus(res, failure.status, dialHeader(failure));
  };

  const send = (): void => {
    attempt += 1;
    let upstream;
    try {
      upstream = request({
        agent: target.pool.agentFor(target.cluster),
        host: 'agent-api',
        port: 443,
        method,
        path: target.path,
        headers,
        timeout: 0, // no deadline while a request is in flight (watches); idle ones are pooled
      });
    } catch (err) {
      fail(err);
      return;
    }
    let hasResponse = false;
    const onCallerGone = (): void => {
      if (!res.writableFinished) upstream.destroy();
    };
    res.once('close', onCallerGone);
    upstream.on('error', (err: Error) => {
      res.off('close', onCallerGone);
      // A pooled connection the agent (or a lost tunnel) closed while idle: the request never
      // reached it, so an idempotent request without a body may go again, once.
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
    upstream.on('response', (answer: IncomingMessage) => {
      hasResponse = true;
      if (res.destroyed) {
        upstream.destroy();
        return;
      }
      res.writeHead(
        answer.statusCode ?? 502,
        answer.statusMessage,
        callerResponseHeaders(answer.headersDistinct as DistinctHeaders),
      );
      if (answer.headers['content-length'] === undefined) res.flushHeaders();
      pipeline(answer, res, (err) => {
        if (err != null) {
          upstream.destroy();
          if (!res.destroyed) res.destroy(toError(err));
        }
      });
    });
    if (withBody) {
      // pipe(), not pipeline(): a failing agent must not destroy `req`, whose socket still has
      // to carry the error Status.
      req.on('error', () => upstream.destroy());
      req.pipe(upstream);
    } else {
      upstream.end();
      req.resume();
    }
  };
  send();
}

/**
 * Relays an upgrade request (already authorized) to the agent API. `socket` is the caller's
 * connection (its 'error' listener is the caller's), `head` what it sent after the request head.
 * `onDone(statusCode)` runs once: after a switch when both directions have ended, otherwise
 * once the answer was written; statusCode is undefined if nothing was sent.
 */
export function relayUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: ForwardTarget,
  onDone: (statusCode: number | undefined, err: Error | undefined) => void,
): void {
  let isDone = false;
  let statusCode: number | undefined;
  const done = (err: Error | undefined): void => {
    if (isDone) return;
    isDone = true;
    onDone(statusCode, err);
  };
  const distinct = req.headersDistinct as DistinctHeaders;
  let upstream;
  try {
    upstream = request({
      agent: target.pool.agentFor(target.cluster),
      host: 'agent-api',
      port: 443,
      method: req.method ?? 'GET',
      path: target.path,
      headers: agentRequestHeaders(distinct, target.forwarding, distinct['upgrade'] ?? []),
      timeout: 0,
    });
  } catch (err) {
    const failure = upstreamFailure(err, target.cluster);
    statusCode = failure.status.code;
    writeRawStatus(socket, failure.status, dialHeader(failure));
    done(toError(err));
    return;
  }
  const onCallerGone = (): void => {
    if (statusCode === undefined) upstream.destroy();
  };
  socket.once('close', onCallerGone);
  upstream.on('error', (err: Error) => {
    socket.off('close', onCallerGone);
    if (statusCode === undefined && !socket.destroyed && socket.writable) {
      const failure = upstreamFailure(err, target.cluster);
      statusCode = failure.status.code;
      writeRawStatus(socket, failure.status, dialHeader(failure));
    } else {
      socket.destroy();
    }
    done(err);
  });
  upstream.on('upgrade', (answer: IncomingMessage, agentSocket: Duplex, agentHead: Buffer) => {
    agentSocket.on('error', () => undefined); // the join's pipelines report errors
    socket.off('close', onCallerGone);
    statusCode = answer.statusCode ?? 101;
    if (socket.destroyed) {
      agentSocket.destroy();
      done(undefined);
      return;
    }
    socket.write(rawResponseHead(statusCode, answer.statusMessage ?? '', answer.rawHeaders));
    if (agentHead.length > 0) socket.write(agentHead);
    if (head.length > 0) agentSocket.write(head);
    joinSockets(socket, agentSocket, done);
  });
  upstream.on('response', (answer: IncomingMessage) => {
    // No switch (e.g. the spoke refused): relay the answer close-delimited; nothing may follow.
    socket.off('close', onCallerGone);
    statusCode = answer.statusCode ?? 502;
    const flat: string[] = [];
    const headers = callerResponseHeaders(answer.headersDistinct as DistinctHeaders);
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? value : [value]) flat.push(name, String(one));
    }
    flat.push('connection', 'close');
    socket.write(rawResponseHead(statusCode, answer.statusMessage ?? '', flat));
    pipeline(answer, socket, (err) => {
      upstream.destroy();
      socket.destroy();
      done(err == null ? undefined : toError(err));
    });
  });
  upstream.end();
}
