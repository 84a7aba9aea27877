// The governance policy framework over two real spokes: OCM-shaped Policy, PolicySet,
// PlacementBinding and Placement YAML applied with the real kubectl on the hub; the cluster-set,
// placement and policy propagator controllers on the hub; the policy evaluator reaching spoke1 and
// spoke2 through one tunnel rig's agent API as the hub controllers. OCM's webhook rules refuse bad
// Policies in the hub API server; a pod-security policy (namespace labels, mustonlyhave) placed
// on both clusters through a PolicySet is Compliant on one and NonCompliant on the other, which
// the root, the PolicySet and the compliance Events show, until enforce makes both Compliant.
import { CoreV1Api, type CoreV1Event, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import { POLICY_GROUP, type Policy, type PolicySet } from '../../hub/api/index.ts';
import { createClusterSetController } from '../../hub/controllers/cluster-set/index.ts';
import { createPlacementController } from '../../hub/controllers/placement/index.ts';
import {
  createPolicyEvaluator,
  createPolicyPropagator,
  POLICY_NAME_TOO_LONG_MESSAGE,
  POLICY_REMEDIATION_UNSET_MESSAGE,
  POLICY_STATUS_SYNC_REASON,
} from '../../hub/controllers/policy/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';
import {
  controllerRig,
  failOnReconcileErrors,
  grantSpoke,
  type SpokeGrants,
} from './controller-rig.ts';

const hubPlane = inject('hub');
const spokes = [inject('spoke1'), inject('spoke2')] as const;
const suffix = Date.now().toString(36);
const CLUSTERS = [`fleet1-${suffix}`, `fleet2-${suffix}`] as const;
const NAMESPACE = `fleet-policies-${suffix}`; // root policies, the set, bindings, the placement
const SET = `fleet-set-${suffix}`; // the ManagedClusterSet
const OWNER = `e2e-policy-fleet-${suffix}`;
const PSA_NAMESPACE = `psa-${suffix}`; // on both spokes
const POLICIES = { group: POLICY_GROUP, version: 'v1', plural: 'policies' };
const POLICY_SETS = { group: POLICY_GROUP, version: 'v1beta1', plural: 'policysets' };
const RESTRICTED = {
  'kubernetes.io/metadata.name': PSA_NAMESPACE,
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};

const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const objects = hub.makeApiClient(CustomObjectsApi);
const core = hub.makeApiClient(CoreV1Api);
const onHub = (args: string[], input?: string) =>
  kubectl(hubPlane.binaries.kubectl, args, {
    kubeconfig: hubPlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
const on = (spoke: SharedControlPlane) => (args: string[], input?: string) =>
  kubectl(spoke.binaries.kubectl, args, {
    kubeconfig: spoke.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
const errors: string[] = [];
const hubControllers: { start(): void; stop(): Promise<void>; synced: Promise<void> }[] = [];
const grants: SpokeGrants[] = [];

async function apply(yaml: string): Promise<void> {
  const res = await onHub(['apply', '-f', '-'], yaml);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
}

async function get<T>(
  resource: typeof POLICIES | typeof POLICY_SETS,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  return (await objects
    .getNamespacedCustomObject({ ...resource, namespace, name })
    .catch(() => undefined)) as T | undefined;
}

/** Polls `read` until `check` holds; the last value read is in the failure. */
async function until<T>(
  what: string,
  read: () => Promise<T | undefined>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  let last: T | undefined;
  return eventually(
    what,
    async () => {
      last = await read();
      return last !== undefined && check(last) ? last : undefined;
    },
    timeoutMs,
    100,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify(last)}`);
  });
}

/** A Policy whose template requires the pod-security labels (and only them) on the namespace. */
function psaPolicyYaml(name: string): string {
  const labels = Object.entries(RESTRICTED)
    .map(([k, v]) => `                    ${k}: ${v}`)
    .join('\n');
  return `apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
  annotations:
    policy.open-cluster-management.io/standards: NIST SP 800-53
    policy.open-cluster-management.io/controls: CM-6 Configuration Settings
spec:
  remediationAction: inform
  disabled: false
  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata:
          name: ${name}
        spec:
          remediationAction: inform
          severity: high
          object-templates:
            - complianceType: musthave
              metadataComplianceType: mustonlyhave
              objectDefinition:
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: ${PSA_NAMESPACE}
                  labels:
${labels}
`;
}

beforeAll(async () => {
  grants.push(
    await grantSpoke(spokes[0], `fleet1-${suffix}`),
    await grantSpoke(spokes[1], `fleet2-${suffix}`),
  );
  const onError = (what: string, err: unknown) => {
    // Other files' objects (in their own, possibly terminating, namespaces) are not ours.
    const foreign = what.includes('/') && !what.includes(`${NAMESPACE}/`);
    if (what.endsWith(' watch') || foreign) console.warn(`${what}: ${describeError(err)}`);
    else errors.push(`${what}: ${describeError(err)}`);
  };
  hubControllers.push(
    createClusterSetController({ hub, onError }),
    createPlacementController({ hub, onError }),
    // Installs the Policy admission policy, as `spokelink init` does for a real hub.
    createPolicyPropagator({ hub, onError }),
  );
  for (const c of hubControllers) c.start();
  await Promise.all(hubControllers.map((c) => c.synced));
  expect((await onHub(['create', 'namespace', NAMESPACE])).code).toBe(0);
  for (const cluster of CLUSTERS) {
    await apply(`apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata:
  name: ${cluster}
  labels:
    ${OWNER}: "true"
    cluster.open-cluster-management.io/clusterset: ${SET}
spec:
  hubAcceptsClient: true
`);
    expect((await onHub(['create', 'namespace', cluster])).code).toBe(0);
    const available = {
      type: 'ManagedClusterConditionAvailable',
      status: 'True',
      reason: 'ManagedClusterAvailable',
      message: `set by ${OWNER}`,
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    const patched = await onHub([
      'patch',
      'managedcluster',
      cluster,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { conditions: [available] } }),
    ]);
    expect(patched.code).toBe(0);
  }
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
  namespace: ${NAMESPACE}
spec:
  clusterSet: ${SET}
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: fleet
  namespace: ${NAMESPACE}
spec:
  clusterSets: [${SET}]
`);
  await eventually(
    'the placement to select both clusters',
    async () => {
      const res = await onHub(['get', 'placement', 'fleet', '-n', NAMESPACE, '-o', 'json']);
      const p = JSON.parse(res.stdout || '{}') as {
        status?: { numberOfSelectedClusters?: number };
      };
      return p.status?.numberOfSelectedClusters === 2 ? true : undefined;
    },
    30_000,
    200,
  );
});

afterAll(async () => {
  await Promise.all(hubControllers.map((c) => c.stop()));
  await onHub(['delete', 'namespace', NAMESPACE, ...CLUSTERS, '--wait=false']);
  await onHub(['delete', 'managedclusters', '-l', OWNER, '--wait=false']);
  await onHub(['delete', 'managedclusterset', SET, '--wait=false']);
  for (const spoke of spokes) {
    await on(spoke)(['delete', 'namespace', PSA_NAMESPACE, '--ignore-not-found', '--wait=false']);
  }
  for (const g of grants) await g.remove();
  expect(errors).toEqual([]);
});

describe('policies on a fleet of two spokes', () => {
  it("refuses what OCM's webhook and CRDs refuse", async () => {
    const policy = (name: string, spec: string) => `apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
spec:
  disabled: false
${spec}`;
    const template = (action: string) => `  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata:
          name: t
        spec:
${action}          object-templates: []
`;
    const dryRun = (yaml: string) => onHub(['apply', '--dry-run=server', '-f', '-'], yaml);
    // Namespace + name at 63 characters: the replica `<namespace>.<name>` would not fit.
    const tooLong = 'p'.repeat(63 - NAMESPACE.length);
    const refused = await eventually('the admission policy to take effect', async () => {
      const res = await dryRun(policy(tooLong, `  remediationAction: inform\n${template('')}`));
      return res.code === 0 ? undefined : res;
    });
    expect(refused.stderr).toContain(`denied request: ${POLICY_NAME_TOO_LONG_MESSAGE}`);
    const fits = await dryRun(
      policy(tooLong.slice(1), `  remediationAction: inform\n${template('')}`),
    );
    expect(fits.stderr).toBe('');
    expect(fits.code).toBe(0);

    // No remediationAction on the Policy: every ConfigurationPolicy template needs one.
    const unset = await dryRun(policy('unset', template('')));
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(`denied request: ${POLICY_REMEDIATION_UNSET_MESSAGE}`);
    const onTemplate = await dryRun(
      policy('on-template', template('          remediationAction: enforce\n')),
    );
    expect(onTemplate.stderr).toBe('');

    // The CRDs: remediationAction's values, a binding's placementRef pairing and subjects.
    const audit = await dryRun(policy('audit', `  remediationAction: audit\n${template('')}`));
    expect(audit.stderr).toContain(
      'spec.remediationAction: Unsupported value: "audit": supported values: "Inform", "inform", "Enforce", "enforce"',
    );
    const binding = (body: string) => `apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata:
  name: bad
  namespace: ${NAMESPACE}
${body}`;
    const noSubjects = await dryRun(
      binding(`placementRef: {apiGroup: cluster.open-cluster-management.io, kind: Placement, name: fleet}
subjects: []
`),
    );
    expect(noSubjects.stderr).toContain('subjects in body should have at least 1 items');
    const mismatched = await dryRun(
      binding(`placementRef: {apiGroup: apps.open-cluster-management.io, kind: Placement, name: fleet}
subjects: [{apiGroup: policy.open-cluster-management.io, kind: Policy, name: p}]
`),
    );
    expect(mismatched.stderr).toContain('"placementRef" must validate one and only one schema');
  });

  it('a pod-security policy in a PolicySet: NonCompliant on one cluster shows on the root, the set and in Events; enforce fixes it', async () => {
    if (grants.length !== 2) throw new Error('beforeAll did not prepare the spokes');
    const rig = await controllerRig(
      hubPlane,
      CLUSTERS.map((name, i) => ({
        name,
        kubeApiserver: new URL(spokes[i]!.server).host,
        agentApi: grants[i]!.agentApi,
      })),
    );
    const failOn = failOnReconcileErrors();
    const evaluator = createPolicyEvaluator({
      hub,
      spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
      // Replicas of other files' clusters (still terminating) are not ours.
      onError: (cluster, err) =>
        cluster === undefined || (CLUSTERS as readonly string[]).includes(cluster)
          ? failOn(cluster, err)
          : console.warn(describeError(err)),
    });
    evaluator.start();
    onTestFinished(() => evaluator.stop());

    // spoke1 is restricted already; spoke2's namespace is privileged and carries a warn label.
    const [spoke1, spoke2] = spokes.map(on);
    expect((await spoke1!(['create', 'namespace', PSA_NAMESPACE])).code).toBe(0);
    const restrict = await spoke1!([
      'label',
      'namespace',
      PSA_NAMESPACE,
      ...Object.entries(RESTRICTED)
        .filter(([k]) => k !== 'kubernetes.io/metadata.name')
        .map(([k, v]) => `${k}=${v}`),
    ]);
    expect(restrict.code, restrict.stderr).toBe(0);
    expect((await spoke2!(['create', 'namespace', PSA_NAMESPACE])).code).toBe(0);
    const loosen = await spoke2!([
      'label',
      'namespace',
      PSA_NAMESPACE,
      'pod-security.kubernetes.io/enforce=privileged',
      'pod-security.kubernetes.io/warn=baseline',
    ]);
    expect(loosen.code, loosen.stderr).toBe(0);

    const name = 'psa-restricted';
    await apply(`${psaPolicyYaml(name)}---
apiVersion: policy.open-cluster-management.io/v1beta1
kind: PolicySet
metadata:
  name: pod-security
  namespace: ${NAMESPACE}
spec:
  description: Pod security admission labels on every cluster.
  policies: [${name}]
---
apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata:
  name: pod-security
  namespace: ${NAMESPACE}
placementRef:
  apiGroup: cluster.open-cluster-management.io
  kind: Placement
  name: fleet
subjects:
  - apiGroup: policy.open-cluster-management.io
    kind: PolicySet
    name: pod-security
`);
    const replicaName = `${NAMESPACE}.${name}`;
    const replica = (cluster: string) => get<Policy>(POLICIES, cluster, replicaName);
    const compliantMessage = `Compliant; notification - namespaces [${PSA_NAMESPACE}] found as specified`;
    const violation = `NonCompliant; violation - namespaces [${PSA_NAMESPACE}] found but not as specified`;
    const onFleet1 = await until(
      'Compliant on spoke1',
      () => replica(CLUSTERS[0]),
      (p) => p.status?.details?.[0]?.history?.[0]?.message === compliantMessage,
    );
    expect(onFleet1.status?.compliant).toBe('Compliant');
    const onFleet2 = await until(
      'NonCompliant on spoke2',
      () => replica(CLUSTERS[1]),
      (p) => p.status?.details?.[0]?.history?.[0]?.message === violation,
    );
    expect(onFleet2.status?.compliant).toBe('NonCompliant');

    // The root sums the clusters up: one NonCompliant makes it NonCompliant.
    const root = await until(
      'the root to be NonCompliant with both clusters',
      () => get<Policy>(POLICIES, NAMESPACE, name),
      (p) => p.status?.status?.length === 2 && p.status.compliant === 'NonCompliant',
    );
    expect(root.status).toEqual({
      compliant: 'NonCompliant',
      placement: [
        { placementBinding: 'pod-security', placement: 'fleet', policySet: 'pod-security' },
      ],
      status: [
        { clustername: CLUSTERS[0], clusternamespace: CLUSTERS[0], compliant: 'Compliant' },
        { clustername: CLUSTERS[1], clusternamespace: CLUSTERS[1], compliant: 'NonCompliant' },
      ],
    });
    // ... and so does the PolicySet.
    await until(
      'the PolicySet to be NonCompliant',
      () => get<PolicySet>(POLICY_SETS, NAMESPACE, 'pod-security'),
      (s) => s.status?.compliant === 'NonCompliant',
    ).then((s) =>
      expect(s.status).toEqual({
        compliant: 'NonCompliant',
        placement: [{ placementBinding: 'pod-security', placement: 'fleet' }],
        statusMessage: 'All policies are reporting status',
      }),
    );

    // Compliance events on the replica, in the cluster namespace, named as its history says.
    const events = (cluster: string) =>
      core
        .listNamespacedEvent({
          namespace: cluster,
          fieldSelector: `involvedObject.name=${replicaName}`,
        })
        .then((list) => list.items);
    const eventName = onFleet2.status?.details?.[0]?.history?.[0]?.eventName ?? '';
    const ofFleet2 = await until(
      'the compliance event on spoke2’s replica',
      () => events(CLUSTERS[1]),
      (list: CoreV1Event[]) => list.some((e) => e.metadata.name === eventName),
    );
    expect(ofFleet2.find((e) => e.metadata.name === eventName)).toMatchObject({
      involvedObject: {
        apiVersion: `${POLICY_GROUP}/v1`,
        kind: 'Policy',
        name: replicaName,
        namespace: CLUSTERS[1],
        uid: onFleet2.metadata?.uid,
      },
      reason: `policy: ${CLUSTERS[1]}/${name}`,
      message: violation,
      type: 'Warning',
    });
    expect(ofFleet2.map((e) => [e.reason, e.message])).toContainEqual([
      POLICY_STATUS_SYNC_REASON,
      `Policy ${replicaName} status was updated to NonCompliant in cluster namespace ${CLUSTERS[1]}`,
    ]);
    const ofFleet1 = await until(
      'the compliance event on spoke1’s replica',
      () => events(CLUSTERS[0]),
      (list: CoreV1Event[]) => list.some((e) => e.reason === `policy: ${CLUSTERS[0]}/${name}`),
    );
    expect(ofFleet1.find((e) => e.reason === `policy: ${CLUSTERS[0]}/${name}`)).toMatchObject({
      message: compliantMessage,
      type: 'Normal',
    });

    // Enforce: spoke2's labels become exactly the template's (mustonlyhave drops `warn`).
    const patched = await onHub([
      'patch',
      'policy',
      name,
      '-n',
      NAMESPACE,
      '--type=merge',
      '-p',
      '{"spec":{"remediationAction":"enforce"}}',
    ]);
    expect(patched.code).toBe(0);
    await until(
      'spoke2 updated to Compliant',
      () => replica(CLUSTERS[1]),
      (p) =>
        p.status?.compliant === 'Compliant' &&
        (p.status.details?.[0]?.history ?? []).some(
          (h) =>
            h.message ===
            `Compliant; notification - namespaces [${PSA_NAMESPACE}] was updated successfully`,
        ),
    );
    const labels = await spoke2!(['get', 'namespace', PSA_NAMESPACE, '-o', 'json']);
    expect(
      (JSON.parse(labels.stdout) as { metadata: { labels: unknown } }).metadata.labels,
    ).toEqual(RESTRICTED);
    await until(
      'the root and the set to be Compliant',
      async () => ({
        root: await get<Policy>(POLICIES, NAMESPACE, name),
        set: await get<PolicySet>(POLICY_SETS, NAMESPACE, 'pod-security'),
      }),
      (v) => v.root?.status?.compliant === 'Compliant' && v.set?.status?.compliant === 'Compliant',
    );

    // A change on spoke1 is put back as well.
    const relaxed = await spoke1!([
      'label',
      'namespace',
      PSA_NAMESPACE,
      'pod-security.kubernetes.io/enforce=baseline',
      '--overwrite',
    ]);
    expect(relaxed.code, relaxed.stderr).toBe(0);
    await until(
      'spoke1 put back',
      () => replica(CLUSTERS[0]),
      (p) =>
        (p.status?.details?.[0]?.history ?? []).some(
          (h) =>
            h.message ===
            `Compliant; notification - namespaces [${PSA_NAMESPACE}] was updated successfully`,
        ),
    );
    await eventually('spoke1 to be restricted again', async () => {
      const res = await spoke1!(['get', 'namespace', PSA_NAMESPACE, '-o', 'json']);
      const got = (JSON.parse(res.stdout) as { metadata: { labels: Record<string, string> } })
        .metadata.labels;
      return got['pod-security.kubernetes.io/enforce'] === 'restricted' ? true : undefined;
    });
  });
});
