/**
 * AgentSession: the server's view of one connected agent, after authentication. It wraps the
 * agent tunnel's TunnelSession (the server is the dialer on it) with the agent's identity and
 * retires exactly once, when that session closes (ANP backend_manager's backend wrapper).
 */
import { Extension } from '../../protocol/index.ts';
import type {
  DialOptions,
  SessionStats,
  TunnelSessionApi,
  TunnelStreamApi,
} from '../../protocol/index.ts';

import type { Logger } from '../logger.ts';
import type { RoutableAgent } from './agent-registry.ts';

/** Which listener the agent came in through. */
export type AgentTransportKind = 'grpc' | 'websocket';

/** Who an authenticated agent is: read from its certificate, cross-checked with its metadata. */
export interface AgentIdentity {
  /** Cluster name, from the certificate CN. */
  readonly cluster: string;
  /** Agent name, from the certificate CN. */
  readonly agentName: string;
  /** `<cluster>/<agentName>`, equal to the agentID it sent. */
  readonly agentId: string;
  /** Lowercase identifier hosts: the cluster name first, then its `<cluster>.…` aliases. */
  readonly hosts: readonly string[];
}

/** A snapshot of one agent, for `ProxyServer.agents()`. */
export interface AgentInfo {
  readonly cluster: string;
  readonly agentId: string;
  readonly transport: AgentTransportKind;
  readonly isDraining: boolean;
  readonly openStreams: number;
  readonly connectedAt: Date;
}

/** Options of {@link AgentSession}. */
export interface AgentSessionOptions {
  readonly identity: AgentIdentity;
  readonly transport: AgentTransportKind;
  /** The tunnel session, role 'dialer', already constructed over the agent's transport. */
  readonly session: TunnelSessionApi;
  readonly logger: Logger;
  /** Called once, when the session has closed (unregister here). */
  readonly onRetire?: (agent: AgentSession, err: Error | undefined) => void;
}

/**
 * One connected agent. Lifecycle: created when the agent's transport is accepted; retired once,
 * when its TunnelSession emits 'close' (peer gone, close() finished, or destroy()); `done`
 * resolves then. `close()` stops new dials and waits for open streams to end; `destroy(err)`
 * resets them. Both are idempotent and both settle `done`.
 */
export class AgentSession implements RoutableAgent {
  readonly cluster: string;
  readonly agentName: string;
  readonly agentId: string;
  readonly hosts: readonly string[];
  readonly transport: AgentTransportKind;
  readonly connectedAt = new Date();
  /** Resolves (never rejects) once the agent is retired; carries the session's close error. */
  readonly done: Promise<Error | undefined>;
  readonly #session: TunnelSessionApi;
  readonly #logger: Logger;
  readonly #onRetire: AgentSessionOptions['onRetire'];
  #isRetired = false;
  #resolveDone!: (err: Error | undefined) => void;
  /** Stats at retirement, so totals survive the session. */
  #finalStats: SessionStats | undefined;

  constructor(options: AgentSessionOptions) {
    this.cluster = options.identity.cluster;
    this.agentName = options.identity.agentName;
    this.agentId = options.identity.agentId;
    this.hosts = options.identity.hosts;
    this.transport = options.transport;
    this.#session = options.session;
    this.#logger = options.logger;
    this.#onRetire = options.onRetire;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#session.on('peer-drain', () => {
      this.#logger.info('agent draining', this.#fields());
    });
    this.#session.once('close', (err?: Error) => this.#retire(err));
    if (this.#session.isClosed) this.#retire(undefined);
  }

  /** The agent sent DRAIN: it wants no new dials. */
  get isDraining(): boolean {
    return this.#session.isPeerDraining;
  }

  /** Open streams plus pending dials: what routing balances on. */
  get load(): number {
    const stats = this.stats();
    return stats.openStreams + stats.pendingDials;
  }

  /** Streams open on this agent's tunnel. */
  get openStreams(): number {
    return this.stats().openStreams;
  }

  /** True once the session closed. */
  get isRetired(): boolean {
    return this.#isRetired;
  }

  /** The session's counters (frozen at retirement). */
  stats(): SessionStats {
    return this.#finalStats ?? this.#session.stats();
  }

  /**
   * Opens a stream to `address` through this agent. Rejects with the session's error
   * (ProtocolError `PROTO_ERR_DIAL_FAILED` with `reason`) on failure.
   */
  dial(address: string, options: DialOptions = {}): Promise<TunnelStreamApi> {
    return this.#session.dial(address, options);
  }

  /** Whether the agent negotiated the `ping` extension (a stock ANP agent does not). */
  get canPing(): boolean {
    return this.#session.extensions.has(Extension.PING);
  }

  /**
   * A tunnel-level ping (EXT_PING): resolves with the round trip in ms; rejects with ProtocolError
   * `PROTO_ERR_PING_FAILED` (no `ping` extension, no pong within `timeoutMs`, session closed).
   */
  ping(timeoutMs: number): Promise<number> {
    return this.#session.ping(timeoutMs);
  }

  /** A snapshot for `ProxyServer.agents()`. */
  info(): AgentInfo {
    return {
      cluster: this.cluster,
      agentId: this.agentId,
      transport: this.transport,
      isDraining: this.isDraining,
      openStreams: this.openStreams,
      connectedAt: this.connectedAt,
    };
  }

  /** Graceful: no new dials, open streams finish, then the tunnel ends. Resolves when retired. */
  async close(): Promise<void> {
    if (!this.#isRetired) {
      await this.#session.close().catch(() => {});
    }
    await this.done;
  }

  /** Abort: resets every stream with 'tunnel-closed' and drops the tunnel. Idempotent. */
  destroy(err?: Error): void {
    this.#session.destroy(err);
  }

  #retire(err: Error | undefined): void {
    if (this.#isRetired) return;
    this.#isRetired = true;
    this.#finalStats = this.#session.stats();
    const fields = { ...this.#fields(), ...(err === undefined ? {} : { err }) };
    this.#logger.info('agent disconnected', fields);
    this.#onRetire?.(this, err);
    this.#resolveDone(err);
  }

  #fields(): Record<string, unknown> {
    return { clusterName: this.cluster, agentId: this.agentId, transport: this.transport };
  }
}
