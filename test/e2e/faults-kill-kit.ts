// What the two kill -9 files share: a hub child and an agent child against the shared hub and
// spoke1, monitors of the work's claims and of the cluster's Available condition for the whole
// test, a ManifestWork of many ConfigMaps whose delivery is under way, watches through the
// gateway running across the kill, and the checks after convergence.
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { stringify } from 'yaml';

import { eventually } from '../framework/kubectl.ts';
import { faultsKit, type Child, type HubChild } from './faults-kit.ts';
import { configMapsWork, monitorAvailable, monitorWorkClaims } from './faults-monitor.ts';

/** ConfigMaps in the work: enough that a kill lands in the middle of its delivery. */
export const CONFIG_MAPS = 40;

/** Registers the set-up and clean-up hooks; names start with `prefix`. */
export function killScenario(prefix: string) {
  const suffix = Date.now().toString(36);
  const cluster = `${prefix}-${suffix}`;
  const spokeNamespace = `${prefix}-${suffix}`;
  const work = `${prefix}-work-${suffix}`;
  const kit = faultsKit({ hubPlane: inject('hub'), spokePlane: inject('spoke1'), cluster });
  let hub: HubChild | undefined;
  let agent: Child | undefined;
  let claims: ReturnType<typeof monitorWorkClaims> | undefined;
  let available: ReturnType<typeof monitorAvailable> | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started`);
    return value;
  };

  beforeAll(async () => {
    await kit.prepare();
    hub = await kit.hubChild('faults-hub');
    await hub.start();
    agent = kit.agentChild([hub.agentAddress]);
    agent.start();
    await kit.availableIs('True');
    claims = monitorWorkClaims(kit, cluster);
    available = monitorAvailable(kit);
  });

  afterAll(async () => {
    await claims?.stop();
    await available?.stop();
    await kit.cleanup([spokeNamespace]);
  });

  return {
    kit,
    cluster,
    spokeNamespace,
    work,
    get hub() {
      return started(hub, 'the hub');
    },
    get agent() {
      return started(agent, 'the agent');
    },
    get available() {
      return started(available, 'the Available monitor');
    },

    /**
     * Starts two watches through the gateway (kubectl, and a raw request that tells a broken
     * response from one the server ended), applies the work and resolves once its delivery has
     * begun (the Namespace, applied first, is on the spoke).
     */
    async deliverWhileWatching() {
      const gateway = started(hub, 'the hub').gateway;
      const watch = kit.gatewayWatch(gateway, ['configmaps', '-n', 'default']);
      const raw = kit.rawWatch(gateway, '/api/v1/namespaces/default/configmaps');
      await eventually('the watches to list', async () =>
        watch.stdout().includes('configmap/kube-root-ca.crt') && raw.events() > 0
          ? true
          : undefined,
      );
      const applied = await kit.onHub(
        ['apply', '-n', cluster, '-f', '-'],
        stringify(configMapsWork(work, spokeNamespace, CONFIG_MAPS)),
      );
      expect(applied.stderr).toBe('');
      await eventually(
        'delivery to start',
        async () =>
          (await kit.onSpokeExists({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: spokeNamespace },
          }))
            ? true
            : undefined,
        60_000,
        20,
      );
      return { watch, raw };
    },

    /** After convergence: a new watch through the gateway lists the work's objects, and no
     * claim of the work was ever false. */
    async expectWatchAgainAndTrueClaims() {
      const again = kit.gatewayWatch(started(hub, 'the hub').gateway, [
        'configmaps',
        '-n',
        spokeNamespace,
      ]);
      await eventually('the new watch to list', async () =>
        again.stdout().includes(`configmap/${work}-0`) ? true : undefined,
      );
      again.kill();
      const monitor = started(claims, 'the claims monitor');
      await monitor.stop();
      expect(monitor.violations).toEqual([]);
      expect(monitor.claims()).toBeGreaterThan(0);
    },
  };
}
