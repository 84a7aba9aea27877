// A restart of the hub API server while two hub processes (serverCount 2, Lease leader
// election) and an agent run: a private hub control plane (restarting the shared one would break
// the other files), kube-apiserver stopped for a few seconds and started again on the same etcd
// (sandbox `restartApiServer()`). Objects and credentials survive, the hubs' informers and
// watches recover (a work created after the restart applies), the Lease is re-acquired with
// never two leaders at once, and the cluster is Available again.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

import { allCrds } from '../../hub/api/index.ts';
import { installCrds } from '../../hub/kube/index.ts';
import { HUB_NAMESPACE } from '../../hub/registration/constants.ts';
import { type ControlPlane, startControlPlane } from '../../sandbox/index.ts';
import { eventually } from '../framework/kubectl.ts';
import {
  faultsKit,
  kubeConfigOf,
  overlappingLeaders,
  type Child,
  type FaultsKit,
  type HubChild,
} from './faults-kit.ts';
import {
  configMapsWork,
  expectConverged,
  monitorAvailable,
  monitorWorkClaims,
} from './faults-monitor.ts';

const suffix = Date.now().toString(36);
const CLUSTER = `fapi-${suffix}`;
const CONFIG_MAPS = 10;
const namespaces = ['before', 'after'].map((p) => `fapi-${p}-${suffix}`);
const LEASE_NAME = 'spokelink-hub-controllers';
let plane: ControlPlane;
let kit: FaultsKit;
let hubs: [HubChild, HubChild];
let agent: Child;
let claims: ReturnType<typeof monitorWorkClaims>;
let available: ReturnType<typeof monitorAvailable>;

beforeAll(async () => {
  plane = await startControlPlane({ name: 'faults-hub', binaries: inject('hub').binaries });
  await installCrds(kubeConfigOf(plane.kubeconfigPath), allCrds());
  kit = faultsKit({ hubPlane: plane, spokePlane: inject('spoke1'), cluster: CLUSTER });
  await kit.prepare();
  hubs = [await kit.hubChild('replica-a', 2), await kit.hubChild('replica-b', 2)];
  await Promise.all(hubs.map((h) => h.start()));
  agent = kit.agentChild(hubs.map((h) => h.agentAddress));
  agent.start();
  await kit.availableIs('True');
  claims = monitorWorkClaims(kit, CLUSTER);
  available = monitorAvailable(kit);
}, 240_000);

afterAll(async () => {
  await claims?.stop();
  await available?.stop();
  await kit?.cleanup(namespaces);
  await plane?.stop();
});

describe('a restart of the hub API server', () => {
  it('keeps every object, the hubs recover their watches and the Lease, and a new work applies', async () => {
    const leases = kit.hub.makeApiClient(CoordinationV1Api);
    const core = kit.hub.makeApiClient(CoreV1Api);
    const ns0 = namespaces[0] ?? '';
    const ns1 = namespaces[1] ?? '';
    const before = `fapi-before-${suffix}`;
    await kit.onHub(
      ['apply', '-n', CLUSTER, '-f', '-'],
      stringify(configMapsWork(before, ns0, CONFIG_MAPS)),
    );
    await expectConverged(kit, before, ns0, CONFIG_MAPS);
    await eventually('one leader', async () =>
      hubs.filter((h) => h.isLeader).length === 1 ? true : undefined,
    );
    const marker = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: `marker-${suffix}` }, data: { kept: 'yes' } },
    });

    // Down for longer than the renew deadline (2 s): the leader must stop leading.
    const server = plane.server;
    await plane.restartApiServer({ downtimeMs: 5_000 });
    expect(plane.server).toBe(server);
    // Same etcd, same certificates: what was there is there, the admin still authenticates.
    const kept = await core.readNamespacedConfigMap({
      namespace: 'default',
      name: `marker-${suffix}`,
    });
    expect(kept.metadata?.uid).toBe(marker.metadata?.uid);
    expect(kept.data).toEqual({ kept: 'yes' });

    // A work created now: the controllers' watches must have come back to see it.
    const after = `fapi-after-${suffix}`;
    await kit.onHub(
      ['apply', '-n', CLUSTER, '-f', '-'],
      stringify(configMapsWork(after, ns1, CONFIG_MAPS)),
    );
    await expectConverged(kit, after, ns1, CONFIG_MAPS, () =>
      hubs.map((h) => h.child.logTail(20)).join('\n'),
    );

    // Exactly one leader again, renewing the Lease; never two at once.
    const leader = await eventually('one leader after the restart', async () => {
      const leading = hubs.filter((h) => h.isLeader);
      return leading.length === 1 ? leading[0] : undefined;
    });
    const lease = await leases.readNamespacedLease({ name: LEASE_NAME, namespace: HUB_NAMESPACE });
    await eventually('the Lease to be renewed', async () => {
      const now = await leases.readNamespacedLease({ name: LEASE_NAME, namespace: HUB_NAMESPACE });
      return String(now.spec?.renewTime) !== String(lease.spec?.renewTime) ? true : undefined;
    });
    expect(leader.isLeader).toBe(true);
    expect(overlappingLeaders(hubs)).toEqual([]);
    // The leader's term ended during the outage (no renewal within the deadline): leadership
    // was given up and acquired again, not carried blindly across the outage.
    const lost = hubs.flatMap((h) => h.leaderEvents).filter((e) => !e.isLeader);
    expect(lost.length).toBeGreaterThan(0);

    await kit.availableIs('True');
    expect(available.history.at(-1)?.status).toBe('True');
    await claims.stop();
    expect(claims.violations).toEqual([]);
    expect(claims.claims()).toBeGreaterThan(0);
  });
});
