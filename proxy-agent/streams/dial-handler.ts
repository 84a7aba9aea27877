/**
 * Serves the dials a proxy-server sends this agent: policy check (deny by default), TCP
 * connect with a deadline, then the bridge; or, for `agent-api`, the stream goes to the
 * in-process agent API server. One DialHandler is shared by every tunnel of the
 * agent and keeps the counts that `stats()`, /metrics and drain read.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import { formatDialAddress } from '../../protocol/index.ts';
import type { DialFailureReason, IncomingDial, TunnelStreamApi } from '../../protocol/index.ts';
import { isAgentError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { bridgeStream } from './bridge-stream.ts';
import type { Bridge } from './bridge-stream.ts';
import { connectTarget } from './connect-target.ts';
import { resolveTarget } from './target-policy.ts';
import type { TargetPolicy } from './target-policy.ts';

/** Options of {@link DialHandler}. */
export interface DialHandlerOptions {
  readonly policy: TargetPolicy;
  /** TCP connect timeout per target, in ms. */
  readonly dialTimeoutMs: number;
  readonly logger: Logger;
  /** Called once per dial with its outcome: undefined = accepted, else the failure reason. */
  readonly onDialResult?: (reason: DialFailureReason | undefined) => void;
  /** Serves `agent-api` streams; required when `policy.agentApi` is set. */
  readonly agentApi?: { serve(stream: Duplex): void };
}

/** Tunnel-side context of a dial, for log fields. */
export interface DialContext {
  readonly serverId: string;
}

/**
 * Handles IncomingDials (wire it as the session's `onDial`).
 *
 * Concurrency: every dial runs independently; the counters are exact at every moment
 * (`pendingDials` = target connects in flight, `openStreams` = bridges not yet finished plus
 * agent-api streams not yet closed; agent-api streams are not in `bytes()`).
 * `whenIdle()` resolves once both are zero. The handler owns no socket after its bridge is
 * done, so there is nothing to close: a lost session aborts pending dials (`dial.signal`) and
 * resets open streams, which tears their sockets down.
 */
export class DialHandler {
  readonly #options: DialHandlerOptions;
  readonly #bridges = new Set<Bridge>();
  readonly #agentApiStreams = new Set<TunnelStreamApi>();
  #pendingDials = 0;
  #closedBytesToTarget = 0;
  #closedBytesFromTarget = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(options: DialHandlerOptions) {
    this.#options = options;
  }

  /** Target connects in flight (DIAL_REQ received, DIAL_RSP not yet sent). */
  get pendingDials(): number {
    return this.#pendingDials;
  }

  /** Streams bridged to a target socket or served by the agent API, and not yet finished. */
  get openStreams(): number {
    return this.#bridges.size + this.#agentApiStreams.size;
  }

  /** Bytes moved so far, finished and live streams together. */
  bytes(): { toTarget: number; fromTarget: number } {
    let toTarget = this.#closedBytesToTarget;
    let fromTarget = this.#closedBytesFromTarget;
    for (const bridge of this.#bridges) {
      toTarget += bridge.bytesToTarget;
      fromTarget += bridge.bytesFromTarget;
    }
    return { toTarget, fromTarget };
  }

  /** Resolves when no dial is pending and no stream is open (at once if already so). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Serves one dial. Never throws; the outcome goes to the dialer as DIAL_RSP. */
  handle(dial: IncomingDial, context: DialContext): void {
    const { logger, policy } = this.#options;
    const fields = { serverId: context.serverId, dialId: dial.dialId, address: dial.address };
    const decision = resolveTarget(dial.address, policy);
    if (!decision.isAllowed) {
      logger.debug('dial refused', { ...fields, reason: decision.reason });
      dial.reject(decision.reason, decision.message);
      this.#options.onDialResult?.(decision.reason);
      return;
    }
    if (decision.kind === 'agent-api') {
      this.#serveAgentApi(dial, fields);
      return;
    }
    const target = formatDialAddress(decision.target.host, decision.target.port);
    this.#pendingDials += 1;
    const startedAt = performance.now();
    connectTarget(decision.target, {
      timeoutMs: this.#options.dialTimeoutMs,
      signal: dial.signal,
    }).then(
      (socket) => {
        this.#pendingDials -= 1;
        this.#accept(dial, socket, { ...fields, target }, startedAt);
      },
      (err: unknown) => {
        this.#pendingDials -= 1;
        const reason: DialFailureReason =
          isAgentError(err) && err.reason !== undefined ? err.reason : 'internal';
        const message = err instanceof Error ? err.message : String(err);
        // After a cancel the session has answered the dialer already; reject() is then a no-op.
        dial.reject(reason, message);
        logger.debug('dial failed', { ...fields, target, reason, error: message });
        this.#options.onDialResult?.(reason);
        this.#checkIdle();
      },
    );
  }

  #accept(
    dial: IncomingDial,
    socket: Socket,
    fields: Record<string, unknown>,
    startedAt: number,
  ): void {
    const { logger } = this.#options;
    if (dial.signal.aborted) {
      // Canceled (DIAL_CLS or session loss) while connecting: the session already answered.
      socket.destroy();
      logger.debug('dial failed', { ...fields, reason: 'canceled' });
      this.#options.onDialResult?.('canceled');
      this.#checkIdle();
      return;
    }
    let stream: TunnelStreamApi;
    try {
      stream = dial.accept();
    } catch (err: unknown) {
      // Not expected by the session contract; keep the socket from leaking if it happens.
      socket.destroy();
      logger.warn('dial accept failed', {
        ...fields,
        error: err instanceof Error ? err.message : String(err),
      });
      this.#options.onDialResult?.('internal');
      this.#checkIdle();
      return;
    }
    const streamId = stream.streamId;
    const connectMs = Math.round(performance.now() - startedAt);
    logger.debug('stream open', { ...fields, streamId, connectMs });
    this.#options.onDialResult?.(undefined);
    const bridge = bridgeStream(socket, stream, (result) => {
      this.#bridges.delete(bridge);
      this.#closedBytesToTarget += result.bytesToTarget;
      this.#closedBytesFromTarget += result.bytesFromTarget;
      logger.debug('stream closed', {
        ...fields,
        streamId,
        bytesToTarget: result.bytesToTarget,
        bytesFromTarget: result.bytesFromTarget,
        resetCode: stream.resetCode,
        ...(result.error === undefined ? {} : { error: result.error.message }),
      });
      this.#checkIdle();
    });
    this.#bridges.add(bridge);
  }

  #serveAgentApi(dial: IncomingDial, fields: Record<string, unknown>): void {
    const { logger, agentApi } = this.#options;
    if (agentApi === undefined) {
      // A wiring bug (policy enabled, no server); refuse rather than hang the dial.
      dial.reject('internal', 'the agent API is not running');
      this.#options.onDialResult?.('internal');
      return;
    }
    let stream: TunnelStreamApi;
    try {
      stream = dial.accept();
    } catch (err: unknown) {
      logger.warn('dial accept failed', {
        ...fields,
        error: err instanceof Error ? err.message : String(err),
      });
      this.#options.onDialResult?.('internal');
      return;
    }
    const streamId = stream.streamId;
    this.#agentApiStreams.add(stream);
    this.#options.onDialResult?.(undefined);
    logger.debug('stream open', { ...fields, streamId, target: 'agent-api' });
    stream.on('error', (err: Error) => {
      logger.debug('agent api stream error', { ...fields, streamId, error: err.message });
    });
    stream.once('close', () => {
      this.#agentApiStreams.delete(stream);
      logger.debug('stream closed', { ...fields, streamId, resetCode: stream.resetCode });
      this.#checkIdle();
    });
    agentApi.serve(stream);
  }

  #isIdle(): boolean {
    return this.#pendingDials === 0 && this.openStreams === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle() || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
