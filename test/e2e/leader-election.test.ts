// Lease-based leader election against the real hub API server: several electors in this
// process play the hub replicas, each with its own identity; one Lease per test.
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';

import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, inject, it, onTestFinished } from 'vitest';

import {
  createLeaderElector,
  type LeaderElector,
  type LeaderElectorOptions,
} from '../../hub/leader-election/index.ts';
import { SILENT_LOGGER } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import { startTarget } from '../framework/targets.ts';

const hubPlane = inject('hub');
const NAMESPACE = 'default';
// Short timings (2 s lease, 1.5 s renew deadline, 0.5 s retry) keep each test within seconds.
const TIMING = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 500 };
const WAIT_MS = 30_000;

const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const leases = hub.makeApiClient(CoordinationV1Api);

/** Every replica of the running test, stopped after it. */
const replicas = new Set<Replica>();

/**
 * A Lease name no other test uses. After the test, its electors stop first (so none re-creates
 * the Lease), then the Lease is deleted.
 */
function leaseName(): string {
  const name = `le-${randomUUID().slice(0, 8)}`;
  onTestFinished(async () => {
    await Promise.all([...replicas].map((r) => r.elector.stop()));
    replicas.clear();
    await leases.deleteNamespacedLease({ name, namespace: NAMESPACE }).catch(() => {});
  });
  return name;
}

/** The Lease's spec as the API server returns it (times are strings on the wire). */
async function leaseSpec(name: string): Promise<Record<string, unknown>> {
  const lease = await leases.readNamespacedLease({ name, namespace: NAMESPACE });
  return (lease.spec ?? {}) as Record<string, unknown>;
}

interface Replica {
  readonly identity: string;
  readonly elector: LeaderElector;
  /** One signal per term, in order. */
  readonly signals: AbortSignal[];
  readonly newLeaders: string[];
  /** Set at each onStartedLeading: whether any other replica was leading at that moment. */
  readonly othersLeadingAtStart: boolean[];
}

function replica(
  name: string,
  identity: string,
  more: Partial<LeaderElectorOptions> = {},
): Replica {
  const signals: AbortSignal[] = [];
  const newLeaders: string[] = [];
  const othersLeadingAtStart: boolean[] = [];
  const self: Replica = {
    identity,
    signals,
    newLeaders,
    othersLeadingAtStart,
    elector: createLeaderElector({
      kubeConfig: hub,
      namespace: NAMESPACE,
      name,
      identity,
      ...TIMING,
      logger: SILENT_LOGGER,
      onStartedLeading: (signal) => {
        const others = [...replicas].filter((r) => r !== self);
        othersLeadingAtStart.push(
          others.some((r) => r.elector.isLeader() || r.signals.some((s) => !s.aborted)),
        );
        signals.push(signal);
      },
      onStoppedLeading: () => {},
      onNewLeader: (leader) => newLeaders.push(leader),
      ...more,
    }),
  };
  replicas.add(self);
  return self;
}

const leaderOf = (group: Replica[]) => group.filter((r) => r.elector.isLeader());

function waitForLeader(group: Replica[], what: string): Promise<Replica> {
  return eventually(
    what,
    async () => {
      const leading = leaderOf(group);
      return leading.length === 1 ? leading[0] : undefined;
    },
    WAIT_MS,
    50,
  );
}

/**
 * A loopback TCP relay to the hub API server that can be cut: open connections are dropped
 * and new ones are accepted but never forwarded, as in a network partition.
 */
async function cuttableKubeConfig(): Promise<{ kubeConfig: KubeConfig; cut: () => void }> {
  const upstream = new URL(hubPlane.server);
  let isCut = false;
  const upstreams = new Set<Socket>();
  const relay = await startTarget((client) => {
    if (isCut) return; // held open, silent, until the test ends
    const server = connect(Number(upstream.port), upstream.hostname);
    upstreams.add(server);
    server.on('error', () => client.destroy());
    server.on('close', () => upstreams.delete(server));
    client.on('close', () => server.destroy());
    client.pipe(server);
    server.pipe(client);
  });
  onTestFinished(() => {
    for (const s of upstreams) s.destroy();
  });
  const cluster = hub.getCurrentCluster();
  const user = hub.getCurrentUser();
  if (cluster === null || user === null) throw new Error('hub kubeconfig has no current context');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ ...cluster, server: `https://127.0.0.1:${relay.port}` }],
    users: [user],
    contexts: [{ name: 'relayed', cluster: cluster.name, user: user.name }],
    currentContext: 'relayed',
  });
  return {
    kubeConfig,
    cut: () => {
      isCut = true;
      for (const s of relay.sockets) s.destroy();
      for (const s of upstreams) s.destroy();
    },
  };
}

describe('leader election on a real Lease', () => {
  it('of two electors exactly one leads, and both agree who', async () => {
    const name = leaseName();
    const a = replica(name, 'replica-a');
    const b = replica(name, 'replica-b');
    a.elector.start();
    b.elector.start();
    const leader = await waitForLeader([a, b], 'one leader');
    const follower = leader === a ? b : a;
    await eventually('the follower to see the leader', async () =>
      follower.elector.leader() === leader.identity ? true : undefined,
    );
    // A few renewals later: still that leader, alone, with no transition.
    const first = await leaseSpec(name);
    await eventually('a renewal', async () =>
      (await leaseSpec(name)).renewTime !== first.renewTime ? true : undefined,
    );
    expect(leaderOf([a, b])).toEqual([leader]);
    expect(await leaseSpec(name)).toMatchObject({
      holderIdentity: leader.identity,
      leaseDurationSeconds: 2,
      leaseTransitions: 0,
      acquireTime: first.acquireTime,
    });
    expect(follower.signals).toEqual([]);
    expect(follower.newLeaders).toEqual([leader.identity]);
    expect(leader.othersLeadingAtStart).toEqual([false]);
  });

  it('when the leader stops it releases the Lease and the other takes over', async () => {
    const name = leaseName();
    const a = replica(name, 'replica-a');
    a.elector.start();
    await waitForLeader([a], 'a to lead');
    const b = replica(name, 'replica-b');
    b.elector.start();
    await eventually('b to see a', async () =>
      b.elector.leader() === 'replica-a' ? true : undefined,
    );

    await a.elector.stop();
    expect(a.signals[0]?.aborted).toBe(true);
    expect(a.signals[0]?.reason).toMatchObject({ code: 'HUB_ERR_LEADER_ELECTION_CLOSED' });
    const released = await leaseSpec(name);
    // Released (no holder, 1 s) unless b has already taken it in the meantime.
    if (released.holderIdentity !== 'replica-b') {
      expect(released).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    }
    await waitForLeader([a, b], 'b to lead');
    expect(b.elector.isLeader()).toBe(true);
    expect(b.othersLeadingAtStart).toEqual([false]);
    expect(await leaseSpec(name)).toMatchObject({
      holderIdentity: 'replica-b',
      leaseTransitions: 1,
    });
  });

  it('a leader destroyed without release is replaced once its lease expires', async () => {
    const name = leaseName();
    const a = replica(name, 'replica-a');
    a.elector.start();
    await waitForLeader([a], 'a to lead');
    const b = replica(name, 'replica-b');
    b.elector.start();
    await eventually('b to see a', async () =>
      b.elector.leader() === 'replica-a' ? true : undefined,
    );

    a.elector.destroy(new Error('frozen'));
    expect(a.signals[0]?.reason).toEqual(new Error('frozen'));
    // Not released: the record still names a until b takes over after leaseDuration.
    expect((await leaseSpec(name)).holderIdentity).toMatch(/^replica-[ab]$/);
    await waitForLeader([a, b], 'b to lead');
    expect(await leaseSpec(name)).toMatchObject({
      holderIdentity: 'replica-b',
      leaseTransitions: 1,
    });
  });

  it('a leader cut off from the API server stops leading before the other starts', async () => {
    const name = leaseName();
    const partition = await cuttableKubeConfig();
    const a = replica(name, 'replica-a', { kubeConfig: partition.kubeConfig });
    a.elector.start();
    await waitForLeader([a], 'a to lead through the relay');
    const b = replica(name, 'replica-b');
    b.elector.start();
    await eventually('b to see a', async () =>
      b.elector.leader() === 'replica-a' ? true : undefined,
    );

    partition.cut();
    await eventually(
      'b to lead',
      async () => (b.elector.isLeader() ? true : undefined),
      WAIT_MS,
      50,
    );
    expect(leaderOf([a, b])).toEqual([b]);
    expect(a.signals[0]?.aborted).toBe(true);
    expect(a.signals[0]?.reason).toMatchObject({
      code: 'HUB_ERR_LEADERSHIP_LOST',
      message: `lease ${NAMESPACE}/${name} not renewed within renewDeadlineMs (1500)`,
    });
    expect(b.othersLeadingAtStart).toEqual([false]);
    expect(await leaseSpec(name)).toMatchObject({
      holderIdentity: 'replica-b',
      leaseTransitions: 1,
    });
  });

  it('respects a Lease someone else holds, and takes it once they release it', async () => {
    const name = leaseName();
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    const manifest = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        holderIdentity: 'someone-else',
        leaseDurationSeconds: 3600,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 7,
      },
    };
    const created = await kubectl(hubPlane.binaries.kubectl, ['create', '-f', '-'], {
      kubeconfig: hubPlane.kubeconfigPath,
      input: JSON.stringify(manifest),
    });
    expect(created, created.stderr).toMatchObject({ code: 0 });
    const a = replica(name, 'replica-a');
    a.elector.start();
    await eventually('a to see the holder', async () =>
      a.elector.leader() === 'someone-else' ? true : undefined,
    );
    // Well past a's own 2 s lease duration: the record's hour is what counts.
    await new Promise((r) => setTimeout(r, 3 * TIMING.leaseDurationMs));
    expect(a.elector.isLeader()).toBe(false);
    expect(a.newLeaders).toEqual(['someone-else']);
    expect(await leaseSpec(name)).toMatchObject({
      holderIdentity: 'someone-else',
      leaseTransitions: 7,
    });

    const patched = await kubectl(
      hubPlane.binaries.kubectl,
      [
        'patch',
        'lease',
        name,
        '-n',
        NAMESPACE,
        '--type=merge',
        '-p',
        '{"spec":{"holderIdentity":""}}',
      ],
      { kubeconfig: hubPlane.kubeconfigPath },
    );
    expect(patched, patched.stderr).toMatchObject({ code: 0 });
    await waitForLeader([a], 'a to lead');
    expect(await leaseSpec(name)).toMatchObject({
      holderIdentity: 'replica-a',
      leaseTransitions: 8,
    });
    expect(a.newLeaders).toEqual(['someone-else', 'replica-a']);
  });

  it('leaseTransitions counts each change of holder, and renewals keep acquireTime', async () => {
    const name = leaseName();
    const seen: { holder: unknown; transitions: unknown; acquireTime: unknown }[] = [];
    const record = async () => {
      const spec = await leaseSpec(name);
      seen.push({
        holder: spec.holderIdentity,
        transitions: spec.leaseTransitions,
        acquireTime: spec.acquireTime,
      });
    };
    for (const identity of ['replica-a', 'replica-b', 'replica-c']) {
      const r = replica(name, identity);
      r.elector.start();
      await waitForLeader([r], `${identity} to lead`);
      const acquired = await leaseSpec(name);
      await eventually(`${identity} to renew`, async () =>
        (await leaseSpec(name)).renewTime !== acquired.renewTime ? true : undefined,
      );
      expect((await leaseSpec(name)).acquireTime).toBe(acquired.acquireTime);
      await record();
      await r.elector.stop();
    }
    expect(seen.map(({ holder, transitions }) => [holder, transitions])).toEqual([
      ['replica-a', 0],
      ['replica-b', 1],
      ['replica-c', 2],
    ]);
    expect(new Set(seen.map((s) => s.acquireTime)).size).toBe(3);
  });
});
