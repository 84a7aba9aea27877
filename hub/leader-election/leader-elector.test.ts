// The elector's lifecycle against a small in-memory Lease with the API server's optimistic
// concurrency (resourceVersion). The real API server is exercised in test/e2e/leader-election.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

import { SILENT_LOGGER } from '../../proxy-server/index.ts';
import { createLeaderElector, type LeaderElector } from './leader-elector.ts';
import { recordOf, withRecord, type LeaseObject, type LeaseRecord } from './lease-record.ts';
import type { LeaseStore } from './lease-store.ts';
import type { LeaderElectorOptions } from './options.ts';

const TIMING = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 200 };
const WAIT = { timeout: 5_000, interval: 20 };

/** How one replica reaches the Lease: `isCut` hangs its requests, `held` delays them. */
interface Link {
  isCut: boolean;
  held?: Promise<void>;
  /** Requests waiting on `held`. */
  waiting?: number;
  /** Called with each record this replica writes, as it is stored. */
  onWrite?: (record: LeaseRecord) => void;
}

/** One Lease in memory; each replica reaches it through its own store, which can be cut off. */
class MemoryLease {
  object: LeaseObject | undefined;
  #version = 0;
  readonly verbs: string[] = [];

  record(): LeaseRecord | undefined {
    return this.object === undefined ? undefined : recordOf(this.object);
  }

  #save(lease: LeaseObject): LeaseObject {
    this.#version += 1;
    this.object = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(this.#version) },
    });
    return structuredClone(this.object);
  }

  /** Writes `record` as another client would (a fresh resourceVersion). */
  writeByHand(record: LeaseRecord): void {
    this.#save(withRecord(this.object ?? { metadata: { name: 'l', namespace: 'ns' } }, record));
  }

  store(who: string, link: Link = { isCut: false }): LeaseStore {
    const call = async <T>(verb: string, signal: AbortSignal, run: () => T): Promise<T> => {
      signal.throwIfAborted();
      if (link.isCut) {
        // A partitioned replica: the request hangs until its deadline aborts it.
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      }
      // A slow request: answered once the test lets it through.
      if (link.held !== undefined) {
        link.waiting = (link.waiting ?? 0) + 1;
        await link.held;
      }
      await new Promise((r) => setImmediate(r));
      this.verbs.push(`${who}:${verb}`);
      return run();
    };
    return {
      get: (signal) => call('get', signal, () => structuredClone(this.object)),
      create: (lease, signal) =>
        call('create', signal, () => (this.object !== undefined ? undefined : this.#save(lease))),
      replace: (lease, signal) =>
        call('replace', signal, () => {
          if (this.object?.metadata?.resourceVersion !== lease.metadata?.resourceVersion) {
            return undefined;
          }
          link.onWrite?.(recordOf(lease));
          return this.#save(lease);
        }),
    };
  }
}

interface Replica {
  readonly elector: LeaderElector;
  readonly signals: AbortSignal[];
  readonly link: Link;
}

function replica(
  lease: MemoryLease,
  identity: string,
  events: string[],
  more: Partial<LeaderElectorOptions> = {},
): Replica {
  const signals: AbortSignal[] = [];
  const link: Link = { isCut: false };
  const elector = createLeaderElector({
    kubeConfig: new KubeConfig(),
    namespace: 'ns',
    name: 'l',
    identity,
    ...TIMING,
    logger: SILENT_LOGGER,
    leaseStore: lease.store(identity, link),
    onStartedLeading: (signal) => {
      signals.push(signal);
      events.push(`${identity}:started`);
    },
    onStoppedLeading: () => {
      events.push(`${identity}:stopped`);
    },
    onNewLeader: (leader) => events.push(`${identity}:sees ${leader}`),
    ...more,
  });
  onTestFinished(() => elector.destroy());
  return { elector, signals, link };
}

describe('LeaderElector', () => {
  it('one of two replicas leads; when it stops, it releases and the other takes over', async () => {
    const lease = new MemoryLease();
    const events: string[] = [];
    const a = replica(lease, 'a', events);
    const b = replica(lease, 'b', events);
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader()).toBe(true), WAIT);
    b.elector.start();
    await vi.waitFor(() => expect(b.elector.leader()).toBe('a'), WAIT);
    expect(b.elector.isLeader()).toBe(false);
    expect(lease.record()).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 1,
      leaseTransitions: 0,
    });

    await a.elector.stop();
    expect(a.signals[0]?.aborted).toBe(true);
    expect(a.signals[0]?.reason).toMatchObject({ code: 'HUB_ERR_LEADER_ELECTION_CLOSED' });
    expect(a.elector.isLeader()).toBe(false);
    await vi.waitFor(() => expect(b.elector.isLeader()).toBe(true), WAIT);
    expect(lease.record()).toMatchObject({
      holderIdentity: 'b',
      leaseDurationSeconds: 1,
      leaseTransitions: 1,
    });
    expect(events).toEqual([
      'a:started',
      'a:sees a',
      'b:sees a',
      'a:stopped',
      'b:started',
      'b:sees b',
    ]);
  });

  it('a leader cut off from the API server steps down at the renew deadline, before another starts', async () => {
    const lease = new MemoryLease();
    const events: string[] = [];
    const a = replica(lease, 'a', events);
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader()).toBe(true), WAIT);
    let aWasLeadingWhenBStarted: boolean | undefined;
    const b = replica(lease, 'b', events, {
      onStartedLeading: () => {
        aWasLeadingWhenBStarted = a.elector.isLeader() || a.signals.some((s) => !s.aborted);
        events.push('b:started');
      },
    });
    b.elector.start();
    await vi.waitFor(() => expect(b.elector.leader()).toBe('a'), WAIT);

    a.link.isCut = true;
    await vi.waitFor(() => expect(b.elector.isLeader()).toBe(true), WAIT);
    expect(aWasLeadingWhenBStarted).toBe(false);
    expect(a.signals[0]?.reason).toMatchObject({
      code: 'HUB_ERR_LEADERSHIP_LOST',
      message: 'lease ns/l not renewed within renewDeadlineMs (600)',
    });
    expect(events.indexOf('a:stopped')).toBeLessThan(events.indexOf('b:started'));
    expect(lease.record()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('a leader that sees another holder stops at once, then reports it', async () => {
    const lease = new MemoryLease();
    const events: string[] = [];
    const a = replica(lease, 'a', events);
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader()).toBe(true), WAIT);
    const taken = recordOf(lease.object as LeaseObject);
    lease.writeByHand({
      ...taken,
      holderIdentity: 'intruder',
      leaseTransitions: taken.leaseTransitions + 1,
    });

    await vi.waitFor(() => expect(a.elector.isLeader()).toBe(false), WAIT);
    expect(a.signals[0]?.reason).toMatchObject({
      code: 'HUB_ERR_LEADERSHIP_LOST',
      message: 'lease ns/l is held by intruder',
    });
    expect(a.elector.leader()).toBe('intruder');
    expect(events).toEqual(['a:started', 'a:sees a', 'a:stopped', 'a:sees intruder']);
    expect(lease.record()?.holderIdentity).toBe('intruder');
  });

  it('onStartedLeading failing gives leadership up and releases the lease', async () => {
    const lease = new MemoryLease();
    const events: string[] = [];
    const failure = new Error('controllers could not start');
    const a = replica(lease, 'a', events, {
      onStartedLeading: async () => {
        events.push('a:started');
        throw failure;
      },
    });
    a.elector.start();
    await vi.waitFor(() => expect(events).toContain('a:stopped'), WAIT);
    await vi.waitFor(() => expect(lease.record()?.holderIdentity).toBe(''), WAIT);
    expect(lease.record()?.leaseDurationSeconds).toBe(1);
  });

  it('when the work fails during a renewal, the lease is released before any new term', async () => {
    const lease = new MemoryLease();
    const events: string[] = [];
    let fail: (err: Error) => void = () => {};
    const signals: AbortSignal[] = [];
    const a = replica(lease, 'a', events, {
      onStartedLeading: (signal) =>
        new Promise<void>((_, reject) => {
          signals.push(signal);
          events.push('a:started');
          fail = reject;
        }),
    });
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader()).toBe(true), WAIT);
    let isLeaderAtRelease: boolean | undefined;
    a.link.onWrite = (record) => {
      if (record.holderIdentity !== '') return;
      isLeaderAtRelease = a.elector.isLeader();
      events.push('released');
    };
    let letThrough: () => void = () => {};
    a.link.held = new Promise<void>((resolve) => (letThrough = resolve));
    // A renewal is in flight; the work fails; then the renewal succeeds.
    await vi.waitFor(() => expect(a.link.waiting).toBe(1), WAIT);
    fail(new Error('controller crashed'));
    await vi.waitFor(() => expect(events).toContain('a:stopped'), WAIT);
    delete a.link.held;
    letThrough();
    await vi.waitFor(() => expect(events).toContain('released'), WAIT);
    expect(isLeaderAtRelease).toBe(false);
    expect(signals[0]?.reason).toMatchObject({
      code: 'HUB_ERR_LEADERSHIP_LOST',
      message: 'onStartedLeading failed for lease ns/l',
      cause: new Error('controller crashed'),
    });
    expect(events.slice(0, 4)).toEqual(['a:started', 'a:sees a', 'a:stopped', 'released']);
  });

  it('destroy() ends the term with its error and leaves the lease held (no release)', async () => {
    const lease = new MemoryLease();
    const events: string[] = [];
    const a = replica(lease, 'a', events);
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader()).toBe(true), WAIT);
    const writes = lease.verbs.length;
    const crash = new Error('process frozen');
    a.elector.destroy(crash);
    a.elector.destroy();
    expect(a.signals[0]?.reason).toBe(crash);
    expect(a.elector.isLeader()).toBe(false);
    await a.elector.stop();
    expect(events).toEqual(['a:started', 'a:sees a', 'a:stopped']);
    expect(lease.verbs.slice(writes).filter((v) => v !== 'a:get')).toEqual([]);
    expect(lease.record()?.holderIdentity).toBe('a');
  });

  it('stop() waits for onStoppedLeading before releasing, and is idempotent', async () => {
    const lease = new MemoryLease();
    const events: string[] = [];
    let finish: () => void = () => {};
    const a = replica(lease, 'a', events, {
      onStoppedLeading: () =>
        new Promise<void>((resolve) => {
          events.push('a:stopping');
          finish = () => {
            events.push(`a:stopped, lease held by ${lease.record()?.holderIdentity}`);
            resolve();
          };
        }),
    });
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader()).toBe(true), WAIT);
    const first = a.elector.stop();
    expect(a.elector.stop()).toBe(first);
    await vi.waitFor(() => expect(events).toContain('a:stopping'), WAIT);
    finish();
    await first;
    expect(events).toEqual(['a:started', 'a:sees a', 'a:stopping', 'a:stopped, lease held by a']);
    expect(lease.record()?.holderIdentity).toBe('');
    expect(() => a.elector.start()).toThrow(
      expect.objectContaining({ code: 'HUB_ERR_LEADER_ELECTION_CLOSED' }),
    );
  });

  it('stop() before start() resolves at once and never touches the lease', async () => {
    const lease = new MemoryLease();
    const a = replica(lease, 'a', []);
    await a.elector.stop();
    expect(() => a.elector.start()).toThrow(
      'leader elector for lease ns/l was stopped; create a new one',
    );
    expect(lease.verbs).toEqual([]);
  });

  it('rejects bad timings when created', () => {
    expect(() => replica(new MemoryLease(), 'a', [], { renewDeadlineMs: 1_000 })).toThrow(
      expect.objectContaining({
        code: 'HUB_ERR_LEADER_ELECTION_INVALID_OPTIONS',
        message: 'leaseDurationMs (1000) must be greater than renewDeadlineMs (1000)',
      }),
    );
  });
});
