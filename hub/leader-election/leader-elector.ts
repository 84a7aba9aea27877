import { performance } from 'node:perf_hooks';

import { createJsonLogger, type Logger } from '../../proxy-server/index.ts';
import { acquireDelayMs, isLeaseValid } from './election-decision.ts';
import { describeError, LeaderElectionError } from './errors.ts';
import { LeaseKeeper, type Outcome } from './lease-keeper.ts';
import { kubeLeaseStore } from './lease-store.ts';
import { resolveSettings, type ElectionSettings, type LeaderElectorOptions } from './options.ts';

interface Term {
  readonly controller: AbortController;
  deadlineAtMs: number;
  timer: NodeJS.Timeout;
}

const now = (): number => performance.now();

/**
 * A Lease-based leader elector with client-go's semantics. See README.md for the contract.
 *
 * Lifecycle: `start()` begins trying to acquire the Lease (every retryPeriod, jittered); once
 * acquired, `onStartedLeading(signal)` runs and the Lease is renewed every retryPeriod. A term
 * ends when a renewal has not succeeded within renewDeadline of the last successful one being
 * sent, when another holder is seen, when `onStartedLeading` fails, or on `stop()`/`destroy()`:
 * the signal aborts first, then `onStoppedLeading()` runs; the elector then tries again (a lost
 * leader is a candidate like any other) until stopped. `stop()` is idempotent: it waits for an
 * in-flight request, ends the term, awaits `onStoppedLeading()`, releases the Lease if held, and
 * resolves. `destroy(err)` does the same at once without waiting and without releasing (the
 * others take over after leaseDuration).
 *
 * Concurrency: one request at a time; terms never overlap — a new term starts only after the
 * previous one's `onStoppedLeading()` has resolved. Callbacks run on the elector's own loop.
 */
export class LeaderElector {
  readonly #settings: ElectionSettings;
  readonly #options: LeaderElectorOptions;
  readonly #keeper: LeaseKeeper;
  readonly #log: Logger;
  readonly #where: string;
  #state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  #isDestroyed = false;
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #request: AbortController | undefined;
  #term: Term | undefined;
  #ending: Promise<void> | undefined;
  #shouldRelease = false;
  #reportedLeader: string | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#settings = resolveSettings(options);
    this.#options = options;
    const { namespace, name } = this.#settings;
    const store = options.leaseStore ?? kubeLeaseStore(options.kubeConfig, namespace, name);
    this.#log = options.logger ?? createJsonLogger({ component: 'leader-election' });
    this.#keeper = new LeaseKeeper(store, this.#settings, this.#log);
    this.#where = `${namespace}/${name}`;
  }

  /**
   * Starts campaigning. Safe to repeat while running; throws `HUB_ERR_LEADER_ELECTION_CLOSED`
   * after `stop()` or `destroy()` (an elector runs once).
   */
  start(): void {
    if (this.#state === 'running') return;
    if (this.#state !== 'idle') {
      throw new LeaderElectionError(
        'HUB_ERR_LEADER_ELECTION_CLOSED',
        `leader elector for lease ${this.#where} was stopped; create a new one`,
      );
    }
    this.#state = 'running';
    this.#loop = this.#run();
  }

  /**
   * Whether this replica is leading: between `onStartedLeading` and the abort of its signal.
   * Checks the renew deadline against the clock, so it turns false at the deadline even when
   * the event loop delayed the deadline timer (the term is ended right here in that case).
   */
  isLeader(): boolean {
    const term = this.#term;
    if (term !== undefined && now() >= term.deadlineAtMs) this.#onDeadline(term);
    return this.#term !== undefined;
  }

  /**
   * The identity leading as this replica last saw the Lease: ours exactly while `isLeader()`,
   * another holder's while its lease has not expired by the local clock, else undefined (no
   * Lease yet, released, expired, or our own stale record after a lost term).
   */
  leader(): string | undefined {
    if (this.isLeader()) return this.#settings.identity;
    const observation = this.#keeper.observation;
    if (observation === undefined || !isLeaseValid(observation, now())) return undefined;
    const holder = observation.record.holderIdentity;
    return holder === this.#settings.identity ? undefined : holder;
  }

  /**
   * Stops campaigning and gives leadership up. Idempotent (every call returns the same
   * promise); never rejects. Resolves after `onStoppedLeading()` has run (when a term was
   * active) and the Lease has been released (when this replica held it; a failed release is
   * logged, and the others then take over after leaseDuration).
   */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    if (this.#state === 'idle') this.#state = 'closed';
    if (this.#state === 'closed') {
      this.#stopping = Promise.resolve();
      return this.#stopping;
    }
    this.#state = 'closing';
    this.#wake?.();
    this.#stopping = (async () => {
      await this.#loop;
      this.#endTerm(
        new LeaderElectionError(
          'HUB_ERR_LEADER_ELECTION_CLOSED',
          `leader elector for lease ${this.#where} stopped`,
        ),
      );
      await this.#ending;
      if (!this.#isDestroyed) await this.#release();
      this.#state = 'closed';
    })();
    return this.#stopping;
  }

  /**
   * Stops at once without releasing the Lease: aborts the in-flight request, ends the term
   * (the signal aborts with `err`, or `HUB_ERR_LEADER_ELECTION_CLOSED`) and calls
   * `onStoppedLeading()` without waiting for it. Idempotent. A pending `stop()` resolves once
   * `onStoppedLeading()` has run.
   */
  destroy(err?: Error): void {
    if (this.#isDestroyed) return;
    this.#isDestroyed = true;
    if (this.#state === 'idle') this.#state = 'closed';
    if (this.#state === 'running') this.#state = 'closing';
    this.#request?.abort();
    this.#wake?.();
    this.#endTerm(
      err ??
        new LeaderElectionError(
          'HUB_ERR_LEADER_ELECTION_CLOSED',
          `leader elector for lease ${this.#where} destroyed`,
        ),
    );
    if (this.#stopping === undefined) void this.stop();
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      // A new term never starts before the last one's onStoppedLeading has resolved.
      if (this.#ending !== undefined) await this.#ending;
      if (this.#state !== 'running') break;
      if (this.#shouldRelease) {
        this.#shouldRelease = false;
        await this.#release();
      } else {
        const outcome = await this.#tryAcquireOrRenew();
        if (this.#state !== 'running') break;
        this.#apply(outcome);
      }
      const { retryPeriodMs } = this.#settings;
      await this.#sleep(
        this.#term !== undefined ? retryPeriodMs : acquireDelayMs(retryPeriodMs, Math.random()),
      );
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** One try at the Lease, bounded by renewDeadline; failures are logged and count as none. */
  async #tryAcquireOrRenew(): Promise<Outcome | undefined> {
    const request = new AbortController();
    this.#request = request;
    const signal = AbortSignal.any([
      request.signal,
      AbortSignal.timeout(this.#settings.renewDeadlineMs),
    ]);
    try {
      return await this.#keeper.tryAcquireOrRenew(this.#term !== undefined, signal);
    } catch (err: unknown) {
      // Aborted by us (the renew deadline or destroy()) is logged there.
      if (!request.signal.aborted) {
        this.#log.warn('lease request failed', {
          lease: this.#where,
          identity: this.#settings.identity,
          ...describeError(err),
        });
      }
      return undefined;
    } finally {
      if (this.#request === request) this.#request = undefined;
    }
  }

  #apply(outcome: Outcome | undefined): void {
    const term = this.#term;
    if (outcome?.kind === 'held') {
      const deadlineAtMs = outcome.sentAtMs + this.#settings.renewDeadlineMs;
      if (term !== undefined) {
        // The deadline passed while the request was in flight and its timer has not run yet.
        if (now() >= term.deadlineAtMs) this.#onDeadline(term);
        else this.#extend(term, deadlineAtMs);
      } else if (this.#ending === undefined && !this.#shouldRelease && now() < deadlineAtMs) {
        // Not while the last term's onStoppedLeading runs, nor when its work failed and the
        // Lease is to be given up first.
        this.#beginTerm(deadlineAtMs);
      }
    } else if (outcome?.kind === 'other' && term !== undefined) {
      this.#endTerm(
        new LeaderElectionError(
          'HUB_ERR_LEADERSHIP_LOST',
          `lease ${this.#where} is held by ${outcome.holder}`,
        ),
      );
    }
    this.#reportLeader();
  }

  #reportLeader(): void {
    const observed = this.#keeper.observation?.record.holderIdentity;
    if (observed === undefined || observed === '') {
      this.#reportedLeader = undefined;
      return;
    }
    // Our own identity is reported only once we act on it.
    if (observed === this.#settings.identity && this.#term === undefined) return;
    if (observed === this.#reportedLeader) return;
    this.#reportedLeader = observed;
    this.#log.info('new leader', { lease: this.#where, leader: observed });
    try {
      this.#options.onNewLeader?.(observed);
    } catch (err: unknown) {
      this.#log.error('onNewLeader failed', { lease: this.#where, ...describeError(err) });
    }
  }

  #beginTerm(deadlineAtMs: number): void {
    const controller = new AbortController();
    const term: Term = {
      controller,
      deadlineAtMs,
      timer: setTimeout(() => this.#onDeadline(term), Math.max(0, deadlineAtMs - now())),
    };
    this.#term = term;
    this.#log.info('started leading', { lease: this.#where, identity: this.#settings.identity });
    const failed = (err: unknown) => {
      if (this.#term !== term) return; // the work ended with its term (e.g. rejected with the abort reason)
      this.#log.error('leader work failed; giving leadership up', {
        lease: this.#where,
        ...describeError(err),
      });
      this.#shouldRelease = true;
      this.#endTerm(
        new LeaderElectionError(
          'HUB_ERR_LEADERSHIP_LOST',
          `onStartedLeading failed for lease ${this.#where}`,
          {
            cause: err,
          },
        ),
      );
    };
    try {
      void Promise.resolve(this.#options.onStartedLeading(controller.signal)).then(
        undefined,
        failed,
      );
    } catch (err: unknown) {
      failed(err);
    }
    this.#reportLeader();
  }

  #extend(term: Term, deadlineAtMs: number): void {
    term.deadlineAtMs = deadlineAtMs;
    clearTimeout(term.timer);
    term.timer = setTimeout(() => this.#onDeadline(term), Math.max(0, deadlineAtMs - now()));
  }

  #onDeadline(term: Term): void {
    if (this.#term !== term) return;
    this.#request?.abort();
    const { renewDeadlineMs } = this.#settings;
    this.#log.warn('lease not renewed within the renew deadline', {
      lease: this.#where,
      renewDeadlineMs,
    });
    this.#endTerm(
      new LeaderElectionError(
        'HUB_ERR_LEADERSHIP_LOST',
        `lease ${this.#where} not renewed within renewDeadlineMs (${renewDeadlineMs})`,
      ),
    );
  }

  /** Ends the current term, if any: aborts its signal, then runs onStoppedLeading. */
  #endTerm(reason: Error): void {
    const term = this.#term;
    if (term === undefined) return;
    this.#term = undefined;
    clearTimeout(term.timer);
    term.controller.abort(reason);
    this.#log.info('stopped leading', {
      lease: this.#where,
      identity: this.#settings.identity,
      reason: reason.message,
    });
    const ending = (async () => {
      try {
        await this.#options.onStoppedLeading();
      } catch (err: unknown) {
        this.#log.error('onStoppedLeading failed', { lease: this.#where, ...describeError(err) });
      }
    })();
    this.#ending = ending;
    void ending.then(() => {
      if (this.#ending === ending) this.#ending = undefined;
    });
  }

  /** Gives the Lease up when the record as last seen names us. Never throws. */
  async #release(): Promise<void> {
    if (!this.#keeper.isHeldByUs()) return;
    const request = new AbortController();
    this.#request = request;
    const signal = AbortSignal.any([
      request.signal,
      AbortSignal.timeout(this.#settings.renewDeadlineMs),
    ]);
    try {
      if (await this.#keeper.release(signal)) {
        this.#reportedLeader = undefined;
        this.#log.info('lease released', { lease: this.#where, identity: this.#settings.identity });
      } else {
        this.#log.info('lease not released: written by another replica', { lease: this.#where });
      }
    } catch (err: unknown) {
      this.#log.warn('lease release failed', { lease: this.#where, ...describeError(err) });
    } finally {
      if (this.#request === request) this.#request = undefined;
    }
  }
}

/**
 * Creates a {@link LeaderElector} for the Lease `namespace/name`; throws
 * `HUB_ERR_LEADER_ELECTION_INVALID_OPTIONS` on bad options. Nothing happens before `start()`.
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  return new LeaderElector(options);
}
