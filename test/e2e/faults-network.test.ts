// Network faults between the agent and the proxy-server: a fault-injecting TCP proxy on
// loopback (test/framework/fault-proxy.ts) sits between a `spokelink agent` child and the agent
// port of the hub child, against the shared hub and spoke1. Added latency (delivery still
// converges), a blackhole (the cluster turns Unknown from the probe through the tunnel; what is
// created meanwhile converges once it heals) and resets (the agent reconnects). Throughout, no
// status claims more than is true: a ManifestWork Applied/Available, a ManagedServiceAccount's
// TokenReported, a Policy's Compliant.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

import {
  AUTHENTICATION_GROUP,
  POLICY_GROUP,
  type ManagedServiceAccount,
  type Policy,
} from '../../hub/api/index.ts';
import { startFaultProxy, type FaultProxy } from '../framework/fault-proxy.ts';
import { eventually } from '../framework/kubectl.ts';
import { faultsKit, type Child, type HubChild } from './faults-kit.ts';
import {
  configMapsWork,
  expectConverged,
  monitorAvailable,
  monitorWorkClaims,
} from './faults-monitor.ts';

const suffix = Date.now().toString(36);
const CLUSTER = `fnet-${suffix}`;
const POLICY_NS = `fnet-policies-${suffix}`;
const SET = `fnet-set-${suffix}`;
const ENFORCED_NS = `fnet-enforced-${suffix}`;
const MSA_NAME = `fnet-sa-${suffix}`;
const CONFIG_MAPS = 10;
const spokeNamespaces = ['delay', 'blackhole', 'reset'].map((p) => `fnet-${p}-${suffix}`);
const kit = faultsKit({ hubPlane: inject('hub'), spokePlane: inject('spoke1'), cluster: CLUSTER });
const hubObjects = kit.hub.makeApiClient(CustomObjectsApi);
const hubCore = kit.hub.makeApiClient(CoreV1Api);
let hub: HubChild;
let agent: Child;
let proxy: FaultProxy;
let claims: ReturnType<typeof monitorWorkClaims>;
let available: ReturnType<typeof monitorAvailable>;
const falseClaims: string[] = [];
let isWatching = true;
let watching: Promise<void> = Promise.resolve();

async function apply(yaml: string): Promise<void> {
  const res = await kit.onHub(['apply', '-f', '-'], yaml);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
}

const account = async () =>
  (await hubObjects
    .getNamespacedCustomObject({
      group: AUTHENTICATION_GROUP,
      version: 'v1beta1',
      plural: 'managedserviceaccounts',
      namespace: CLUSTER,
      name: MSA_NAME,
    })
    .catch(() => undefined)) as ManagedServiceAccount | undefined;

const replica = async () =>
  (await hubObjects
    .getNamespacedCustomObject({
      group: POLICY_GROUP,
      version: 'v1',
      plural: 'policies',
      namespace: CLUSTER,
      name: `${POLICY_NS}.enforced`,
    })
    .catch(() => undefined)) as Policy | undefined;

const isReported = (msa: ManagedServiceAccount | undefined) =>
  msa?.status?.conditions?.some((c) => c.type === 'TokenReported' && c.status === 'True') === true;

const spokeNamespaceExists = (name: string) =>
  kit.onSpokeExists({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

/** TokenReported must have a token Secret behind it; Compliant must have the namespace. */
async function checkClaims(): Promise<void> {
  const msa = await account();
  if (isReported(msa)) {
    const secret = await hubCore.readNamespacedSecret({ namespace: CLUSTER, name: MSA_NAME });
    if ((secret.data?.token ?? '') === '') falseClaims.push('TokenReported without a token');
  }
  const policy = await replica();
  if (policy?.status?.compliant === 'Compliant' && !(await spokeNamespaceExists(ENFORCED_NS)))
    falseClaims.push(`Compliant while namespace ${ENFORCED_NS} is missing`);
}

beforeAll(async () => {
  await kit.prepare();
  hub = await kit.hubChild('faults-hub');
  await hub.start();
  proxy = await startFaultProxy({ target: hub.agentAddress, delayMs: 100 });
  agent = kit.agentChild([proxy.address]);
  agent.start();
  await kit.availableIs('True');
  // A cluster set holding the cluster, bound to the policies' namespace, and a Placement there.
  await kit.onHub(['create', 'namespace', POLICY_NS]);
  const labeled = await kit.onHub([
    'label',
    '--overwrite',
    'managedcluster',
    CLUSTER,
    `cluster.open-cluster-management.io/clusterset=${SET}`,
  ]);
  expect(labeled.code, labeled.stderr).toBe(0);
  await apply(`apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSet
metadata:
  name: ${SET}
spec:
  clusterSelector:
    selectorType: ExclusiveClusterSetLabel
---
apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSetBinding
metadata:
  name: ${SET}
  namespace: ${POLICY_NS}
spec:
  clusterSet: ${SET}
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: here
  namespace: ${POLICY_NS}
spec:
  clusterSets: [${SET}]
`);
  claims = monitorWorkClaims(kit, CLUSTER);
  available = monitorAvailable(kit);
  watching = (async () => {
    while (isWatching) {
      await checkClaims().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
});

afterAll(async () => {
  isWatching = false;
  await watching;
  await claims?.stop();
  await available?.stop();
  await proxy?.close();
  await kit.onHub(['delete', 'namespace', POLICY_NS, '--ignore-not-found', '--wait=false']);
  await kit.onHub(['delete', 'managedclusterset', SET, '--ignore-not-found', '--wait=false']);
  await kit.cleanup([...spokeNamespaces, ENFORCED_NS]);
});

describe('network faults between agent and proxy-server', () => {
  it('added latency: delivery converges through the slow tunnel', async () => {
    proxy.setMode('delay');
    const name = `fnet-delay-${suffix}`;
    await kit.onHub(
      ['apply', '-n', CLUSTER, '-f', '-'],
      stringify(configMapsWork(name, spokeNamespaces[0] ?? '', CONFIG_MAPS)),
    );
    await expectConverged(kit, name, spokeNamespaces[0] ?? '', CONFIG_MAPS, () => agent.logTail());
    proxy.setMode('pass');
    await kit.availableIs('True');
  });

  it('blackhole: Unknown from the probe through the tunnel; work, MSA and Policy made meanwhile converge once it heals', async () => {
    proxy.setMode('blackhole');
    const cutAt = Date.now();
    // Nothing is closed: the hub notices at its next status pass (30 s), when the tunnel ping
    // and then the /readyz probe through the tunnel time out (3 s each), or at the tunnel's ping
    // deadline (30–45 s).
    // Meanwhile a request through the gateway fails, it does not hang: its dial times out
    // (agentDialTimeoutMs, 30 s) or the tunnel's ping deadline ends the session.
    const [during] = await Promise.all([
      kit.gatewayGet(hub.gateway, '/api/v1/namespaces/default/configmaps', 90_000),
      kit.availableIs('Unknown', 90_000),
    ]);
    expect(during.status, during.error).toBeGreaterThanOrEqual(500);

    const name = `fnet-blackhole-${suffix}`;
    await kit.onHub(
      ['apply', '-n', CLUSTER, '-f', '-'],
      stringify(configMapsWork(name, spokeNamespaces[1] ?? '', CONFIG_MAPS)),
    );
    await apply(
      stringify({
        apiVersion: `${AUTHENTICATION_GROUP}/v1beta1`,
        kind: 'ManagedServiceAccount',
        metadata: { name: MSA_NAME, namespace: CLUSTER },
        spec: { rotation: {} },
      }),
    );
    await apply(`apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata:
  name: enforced
  namespace: ${POLICY_NS}
spec:
  remediationAction: enforce
  disabled: false
  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata:
          name: enforced-namespace
        spec:
          remediationAction: inform
          severity: low
          object-templates:
            - complianceType: musthave
              objectDefinition:
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: ${ENFORCED_NS}
---
apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata:
  name: enforced
  namespace: ${POLICY_NS}
placementRef:
  apiGroup: cluster.open-cluster-management.io
  kind: Placement
  name: here
subjects:
  - apiGroup: policy.open-cluster-management.io
    kind: Policy
    name: enforced
`);
    // While cut off: nothing of it reached the spoke, and nothing claims it did.
    expect(await spokeNamespaceExists(spokeNamespaces[1] ?? '')).toBe(false);
    expect(isReported(await account())).toBe(false);
    expect(await spokeNamespaceExists(ENFORCED_NS)).toBe(false);
    expect(available.since(cutAt)).not.toContain('True');

    proxy.setMode('pass');
    await kit.availableIs('True');
    await expectConverged(kit, name, spokeNamespaces[1] ?? '', CONFIG_MAPS, () => agent.logTail());
    await eventually('the MSA to report its token', async () =>
      isReported(await account()) ? true : undefined,
    );
    await eventually(
      'the policy to be enforced and Compliant',
      async () => ((await replica())?.status?.compliant === 'Compliant' ? true : undefined),
      90_000,
    );
    expect(await spokeNamespaceExists(ENFORCED_NS)).toBe(true);
    const secret = await hubCore.readNamespacedSecret({ namespace: CLUSTER, name: MSA_NAME });
    expect(secret.data?.token).toBeTruthy();
  });

  it('resets: the agent reconnects, delivery converges', async () => {
    const before = proxy.accepted();
    proxy.setMode('reset');
    const resetAt = Date.now();
    await kit.availableIs('Unknown');
    const name = `fnet-reset-${suffix}`;
    await kit.onHub(
      ['apply', '-n', CLUSTER, '-f', '-'],
      stringify(configMapsWork(name, spokeNamespaces[2] ?? '', CONFIG_MAPS)),
    );
    expect(available.since(resetAt)).not.toContain('True');
    proxy.setMode('pass');
    await kit.availableIs('True');
    expect(proxy.accepted()).toBeGreaterThan(before);
    await expectConverged(kit, name, spokeNamespaces[2] ?? '', CONFIG_MAPS, () => agent.logTail());

    // Every claim seen during the three faults was true; the monitors did see claims.
    isWatching = false;
    await watching;
    await claims.stop();
    expect(claims.violations).toEqual([]);
    expect(claims.claims()).toBeGreaterThan(0);
    expect(falseClaims).toEqual([]);
  });
});
