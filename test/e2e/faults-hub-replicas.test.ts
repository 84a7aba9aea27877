// Two hub processes (proxy-server + controllers, Lease leader election) against the shared hub
// API server, serverCount 2, and a `spokelink agent` child holding a tunnel to each. kill -9 of
// the leader in the middle of delivery: the other replica takes over within the Lease time and
// the work converges. kill -9 of the follower: a stream of requests through the surviving
// replica's gateway never fails (only what was in flight on the killed one: its watch ends with
// an error), and leadership never overlapped. (test/e2e/hub-replicas.test.ts covers the graceful
// handover and registration through either replica.)
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

import { eventually } from '../framework/kubectl.ts';
import { faultsKit, overlappingLeaders, type Child, type HubChild } from './faults-kit.ts';
import { configMapsWork, expectConverged, monitorWorkClaims } from './faults-monitor.ts';

const suffix = Date.now().toString(36);
const CLUSTER = `frep-${suffix}`;
const CONFIG_MAPS = 30;
const namespaces = ['leader', 'follower'].map((p) => `frep-${p}-${suffix}`);
const kit = faultsKit({ hubPlane: inject('hub'), spokePlane: inject('spoke1'), cluster: CLUSTER });
const PATH = '/api/v1/namespaces/default/configmaps';
let hubs: [HubChild, HubChild];
let agent: Child;
let claims: ReturnType<typeof monitorWorkClaims>;

/** The one replica that leads (eventually), and the other. */
async function roles(): Promise<{ leader: HubChild; follower: HubChild }> {
  const leader = await eventually('exactly one leader', async () => {
    const leading = hubs.filter((h) => h.isLeader);
    return leading.length === 1 ? leading[0] : undefined;
  });
  return { leader, follower: leader === hubs[0] ? hubs[1] : hubs[0] };
}

/** Both replicas reach the cluster through their own tunnel from the agent. */
async function bothServe(): Promise<void> {
  for (const hub of hubs) {
    await eventually(`${hub.config.serverId} to reach the cluster`, async () =>
      (await kit.gatewayGet(hub.gateway, PATH)).status === 200 ? true : undefined,
    );
  }
}

beforeAll(async () => {
  await kit.prepare();
  hubs = [await kit.hubChild('replica-a', 2), await kit.hubChild('replica-b', 2)];
  await Promise.all(hubs.map((h) => h.start()));
  agent = kit.agentChild(hubs.map((h) => h.agentAddress));
  agent.start();
  await kit.availableIs('True');
  await bothServe();
  claims = monitorWorkClaims(kit, CLUSTER);
});

afterAll(async () => {
  await claims?.stop();
  await kit.cleanup(namespaces);
});

describe('two hub replicas under kill -9', () => {
  it('the leader killed mid-delivery: the other takes over and the work converges', async () => {
    const { leader, follower } = await roles();
    const name = `frep-leader-${suffix}`;
    const ns = namespaces[0] ?? '';
    await kit.onHub(
      ['apply', '-n', CLUSTER, '-f', '-'],
      stringify(configMapsWork(name, ns, CONFIG_MAPS)),
    );
    await eventually(
      'delivery to start',
      async () =>
        (await kit.onSpokeExists({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))
          ? true
          : undefined,
      60_000,
      20,
    );
    await leader.kill9();
    // The Lease is not released: the follower takes over once it expires (3 s here).
    await eventually('the follower to lead', async () => (follower.isLeader ? true : undefined));
    await expectConverged(kit, name, ns, CONFIG_MAPS, () => follower.child.logTail());
    // The killed replica comes back as a follower and serves its gateway again.
    await leader.start();
    await bothServe();
    expect(leader.isLeader).toBe(false);
    expect(follower.isLeader).toBe(true);
  });

  it('the follower killed: requests through the surviving gateway never fail, in-flight ones on the killed one end with an error', async () => {
    const { leader, follower } = await roles();
    // In flight on the replica about to die: a watch.
    const doomed = kit.rawWatch(follower.gateway, PATH);
    await eventually('the watch to list', async () => (doomed.events() > 0 ? true : undefined));
    // A stream of requests through the surviving gateway, two at a time, across the kill.
    const results: { status: number; error?: string }[] = [];
    let isStreaming = true;
    const stream = async () => {
      while (isStreaming) results.push(await kit.gatewayGet(leader.gateway, PATH));
    };
    const streams = [stream(), stream()];
    await eventually('requests before the kill', async () =>
      results.length >= 10 ? true : undefined,
    );
    await follower.kill9();
    const atKill = results.length;
    expect(await doomed.end).toMatchObject({ how: 'error' });
    await eventually('requests after the kill', async () =>
      results.length >= atKill + 20 ? true : undefined,
    );
    isStreaming = false;
    await Promise.all(streams);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);

    // The leader kept leading; work still converges through it.
    expect(leader.isLeader).toBe(true);
    const name = `frep-follower-${suffix}`;
    const ns = namespaces[1] ?? '';
    await kit.onHub(
      ['apply', '-n', CLUSTER, '-f', '-'],
      stringify(configMapsWork(name, ns, CONFIG_MAPS)),
    );
    await expectConverged(kit, name, ns, CONFIG_MAPS, () => leader.child.logTail());

    expect(overlappingLeaders(hubs)).toEqual([]);
    await claims.stop();
    expect(claims.violations).toEqual([]);
    expect(claims.claims()).toBeGreaterThan(0);
  });
});
