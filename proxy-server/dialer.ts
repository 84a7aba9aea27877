/**
 * The one dial path of the server: every frontend (gRPC ProxyService, the frontend WebSocket,
 * HTTP CONNECT) and the in-process `ProxyServer.dial` go through {@link Dialer.dial}, so
 * routing, the agent dial timeout, the pending-dial count and the dial metrics are the same for
 * all of them.
 */
import { performance } from 'node:perf_hooks';

import { ProtocolError, isProtocolError } from '../protocol/index.ts';
import type { DialFailureReason, TunnelStreamApi } from '../protocol/index.ts';

import { ServerError, dialFailureReasonOf, errorMessage } from './errors.ts';
import type { Logger } from './logger.ts';
import type { ServerMetrics } from './metrics.ts';
import type { AgentRegistry, AgentSession } from './sessions/index.ts';

// A function, so TypeScript does not keep the narrowing of `signal.aborted` across an await.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Where a dial came from, for logs: a frontend (gRPC, WebSocket, CONNECT) or ProxyServer.dial. */
export type DialSource = 'grpc' | 'websocket' | 'connect' | 'in-process';

/** One dial request. */
export interface DialRequest {
  /** `host:port`, forwarded to the agent unchanged. */
  readonly address: string;
  /** Explicit cluster (metadata / header `spokelink-cluster`); else routed by the address host. */
  readonly cluster?: string | undefined;
  /** Aborting cancels the dial (the agent gets DIAL_CLS); reason 'canceled'. */
  readonly signal?: AbortSignal | undefined;
  /** DIAL_RSP wait; default the server's agentDialTimeoutMs. */
  readonly timeoutMs?: number | undefined;
  readonly source: DialSource;
}

/** Options of {@link Dialer}. */
export interface DialerOptions {
  readonly registry: AgentRegistry<AgentSession>;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly agentDialTimeoutMs: number;
}

/**
 * Routes and dials. Concurrency: any number of dials at once; each settles exactly once, and
 * `pendingDials` counts those not yet settled (back to 0 when all settled). After `close()`
 * new dials fail with `SERVER_ERR_CLOSED`; dials already running settle on their own (their
 * agent sessions fail them when they close).
 */
export class Dialer {
  readonly #registry: AgentRegistry<AgentSession>;
  readonly #metrics: ServerMetrics;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  #pending = 0;
  #isClosed = false;

  constructor(options: DialerOptions) {
    this.#registry = options.registry;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#timeoutMs = options.agentDialTimeoutMs;
  }

  /** Dials started and not yet settled. */
  get pendingDials(): number {
    return this.#pending;
  }

  /** Refuse new dials from now on. Idempotent. */
  close(): void {
    this.#isClosed = true;
  }

  /**
   * Opens a stream to `request.address` through an agent. Resolves with the open stream (the
   * caller owns it and must end or destroy it). Rejects with ProtocolError
   * `PROTO_ERR_DIAL_FAILED` whose `reason` is the DialFailureReason: the agent session's error
   * as it is, or 'no-agent' / 'bad-request' from routing, 'canceled' when the signal aborted
   * first. After close() it rejects with ServerError `SERVER_ERR_CLOSED`. Every dial failure
   * is counted in the metrics by reason.
   */
  async dial(request: DialRequest): Promise<TunnelStreamApi> {
    if (this.#isClosed) throw new ServerError('SERVER_ERR_CLOSED', 'proxy-server is closed');
    const fields = { address: request.address, source: request.source };
    if (isAborted(request.signal)) {
      throw this.#failed('canceled', `dial ${request.address} canceled`, fields);
    }
    const route = this.#registry.route(request.address, request.cluster);
    if ('reason' in route) throw this.#failed(route.reason, route.message, fields);
    const agent = route.agent;
    const agentFields = { ...fields, clusterName: agent.cluster, agentId: agent.agentId };
    this.#pending += 1;
    const started = performance.now();
    try {
      const stream = await agent.dial(request.address, {
        timeoutMs: request.timeoutMs ?? this.#timeoutMs,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      });
      this.#metrics.observeDial((performance.now() - started) / 1000);
      this.#logger.debug('stream open', { ...agentFields, streamId: stream.streamId });
      return stream;
    } catch (err) {
      if (isProtocolError(err, 'PROTO_ERR_DIAL_FAILED') && err.reason !== undefined) {
        this.#metrics.dialFailed(err.reason);
        this.#logger.debug('dial failed', { ...agentFields, reason: err.reason, err });
        throw err;
      }
      const reason = isAborted(request.signal) ? 'canceled' : dialFailureReasonOf(err);
      throw this.#failed(reason, errorMessage(err), agentFields, err);
    } finally {
      this.#pending -= 1;
    }
  }

  #failed(
    reason: DialFailureReason,
    message: string,
    fields: Record<string, unknown>,
    cause?: unknown,
  ): ProtocolError {
    this.#metrics.dialFailed(reason);
    this.#logger.debug('dial failed', { ...fields, reason, message });
    return new ProtocolError('PROTO_ERR_DIAL_FAILED', message, {
      reason,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
