// kill -9 of the agent process in the middle of ManifestWork delivery and of a watch through
// the cluster gateway: the hub (a child process) and a `spokelink agent` child against the
// shared hub and spoke1. The gateway's watches end with an error, the cluster turns Unknown and
// stays so while no agent runs, the restarted agent reconnects, the cluster is Available again,
// the work converges, and no status ever claimed more than was true on the spoke.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

import { eventually } from '../framework/kubectl.ts';
import { faultsKit, type Child, type HubChild } from './faults-kit.ts';
import {
  configMapsWork,
  expectConverged,
  monitorAvailable,
  monitorWorkClaims,
} from './faults-monitor.ts';

const suffix = Date.now().toString(36);
const CLUSTER = `fak-${suffix}`;
const SPOKE_NS = `fak-${suffix}`;
const WORK = `fak-work-${suffix}`;
const CONFIG_MAPS = 40;
const kit = faultsKit({ hubPlane: inject('hub'), spokePlane: inject('spoke1'), cluster: CLUSTER });
let hub: HubChild;
let agent: Child;
let claims: ReturnType<typeof monitorWorkClaims>;
let available: ReturnType<typeof monitorAvailable>;

beforeAll(async () => {
  await kit.prepare();
  hub = await kit.hubChild('faults-hub');
  await hub.start();
  agent = kit.agentChild([hub.agentAddress]);
  agent.start();
  await kit.availableIs('True');
  claims = monitorWorkClaims(kit, CLUSTER);
  available = monitorAvailable(kit);
});

afterAll(async () => {
  await claims?.stop();
  await available?.stop();
  await kit.cleanup([SPOKE_NS]);
});

describe('kill -9 of the agent', () => {
  it('mid-delivery and mid-watch: watches end with an error, Unknown while it is gone, then Available and converged', async () => {
    const watch = kit.gatewayWatch(hub.gateway, ['configmaps', '-n', 'default']);
    const raw = kit.rawWatch(hub.gateway, '/api/v1/namespaces/default/configmaps');
    await eventually('the watches to list', async () =>
      watch.stdout().includes('configmap/kube-root-ca.crt') && raw.events() > 0 ? true : undefined,
    );

    const work = configMapsWork(WORK, SPOKE_NS, CONFIG_MAPS);
    const applied = await kit.onHub(['apply', '-n', CLUSTER, '-f', '-'], stringify(work));
    expect(applied.stderr).toBe('');
    await eventually(
      'delivery to start',
      async () =>
        (await kit.onSpokeExists({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: SPOKE_NS },
        }))
          ? true
          : undefined,
      60_000,
      20,
    );
    await agent.kill9();

    // The gateway is up, the tunnel stream under each watch is gone: the response must end
    // broken, not as a watch the API server closed (a client would then just re-watch from a
    // resourceVersion it believes is current, and never learn the cluster was unreachable).
    expect(await raw.end).toMatchObject({ how: 'error' });
    await watch.exit;

    // Unknown once the hub sees no agent, and never True again until an agent is back.
    await kit.availableIs('Unknown');
    const unknownAt = Date.now();
    // A new watch through the gateway now fails at once (no agent), it does not hang.
    const refused = kit.rawWatch(hub.gateway, '/api/v1/namespaces/default/configmaps');
    expect(await refused.end).toMatchObject({ how: 'clean', status: 503 });
    expect(available.since(unknownAt)).not.toContain('True');

    agent.start();
    await kit.availableIs('True');
    await expectConverged(kit, WORK, SPOKE_NS, CONFIG_MAPS, () => agent.logTail());

    const again = kit.gatewayWatch(hub.gateway, ['configmaps', '-n', SPOKE_NS]);
    await eventually('the new watch to list', async () =>
      again.stdout().includes(`configmap/${WORK}-0`) ? true : undefined,
    );
    again.kill();

    const history = available.history.map((h) => h.status);
    expect(history.slice(history.lastIndexOf('Unknown'))).toEqual(['Unknown', 'True']);
    await claims.stop();
    expect(claims.violations).toEqual([]);
    expect(claims.claims()).toBeGreaterThan(0);
  });
});
