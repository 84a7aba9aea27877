// kill -9 of the hub process (proxy-server + controllers) in the middle of ManifestWork delivery
// and of a kubectl watch through its cluster gateway: the hub and a `spokelink agent` run as
// real child processes against the shared hub and spoke1. The hub comes back on the same ports,
// the agent reconnects by itself, the work converges, and no status ever claimed more than was
// true on the spoke.
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
const CLUSTER = `fhk-${suffix}`;
const SPOKE_NS = `fhk-${suffix}`;
const WORK = `fhk-work-${suffix}`;
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

describe('kill -9 of the hub process', () => {
  it('mid-delivery and mid-watch: the watch ends with an error, the work converges after the restart, nothing false is claimed', async () => {
    // Watches through the gateway, running before the kill: kubectl, and a raw request that
    // tells a broken response from one the server ended.
    const watch = kit.gatewayWatch(hub.gateway, ['configmaps', '-n', 'default']);
    const raw = kit.rawWatch(hub.gateway, '/api/v1/namespaces/default/configmaps');
    await eventually('the watches to list', async () =>
      watch.stdout().includes('configmap/kube-root-ca.crt') && raw.events() > 0 ? true : undefined,
    );

    const work = configMapsWork(WORK, SPOKE_NS, CONFIG_MAPS);
    const applied = await kit.onHub(['apply', '-n', CLUSTER, '-f', '-'], stringify(work));
    expect(applied.stderr).toBe('');
    // Delivery has begun once the Namespace (applied first) is on the spoke: kill -9 then.
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
    await hub.kill9();

    // The watches do not hang: the gateway's connections are gone. The raw response ends with
    // an error (no terminal chunk). kubectl ends too; it reports a broken watch stream only at
    // higher verbosity and exits as if the server had closed the watch (client-go's
    // StreamWatcher ends on any read error), so only its end is asserted.
    expect(await raw.end).toMatchObject({ how: 'error' });
    await watch.exit;

    // Nothing is delivered while no hub runs; the cluster's status is frozen as written.
    await hub.start();
    await expectConverged(kit, WORK, SPOKE_NS, CONFIG_MAPS, () => hub.child.logTail());

    // A new watch through the restarted hub's gateway works.
    const again = kit.gatewayWatch(hub.gateway, ['configmaps', '-n', SPOKE_NS]);
    await eventually('the new watch to list', async () =>
      again.stdout().includes(`configmap/${WORK}-0`) ? true : undefined,
    );
    again.kill();

    // The cluster stayed or went back to Available; no claim was ever false.
    await kit.availableIs('True');
    expect(available.history.at(-1)?.status).toBe('True');
    await claims.stop();
    expect(claims.violations).toEqual([]);
    expect(claims.claims()).toBeGreaterThan(0);
  });
});
