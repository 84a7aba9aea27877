// The governance policy framework against the real hub and spoke1: OCM-shaped Policy,
// PlacementBinding and Placement YAML applied with the real kubectl on the hub; the cluster-set,
// placement and policy propagator controllers on the hub; the policy evaluator and the policy
// add-ons reaching spoke1 only through a tunnel rig's agent API as the hub controllers. A
// namespace policy, an enforced namespace + Role policy, a mustnothave policy and an RBAC policy,
// in inform and in enforce; spoke changes flip compliance on the hub; bad templates are
// NonCompliant with a clear message; disabling and deleting remove the replicas.
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import { POLICY_GROUP, type ConfigurationPolicy, type Policy } from '../../hub/api/index.ts';
import { createClusterSetController } from '../../hub/controllers/cluster-set/index.ts';
import { createPlacementController } from '../../hub/controllers/placement/index.ts';
import {
  CONFIG_POLICY_ADDON_NAME,
  createPolicyAddOnControllers,
  createPolicyEvaluator,
  createPolicyPropagator,
  POLICY_FRAMEWORK_ADDON_NAME,
} from '../../hub/controllers/policy/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import { addOnProbe } from './addon-kit.ts';
import {
  controllerRig,
  failOnReconcileErrors,
  grantSpoke,
  type SpokeGrants,
} from './controller-rig.ts';

const hubPlane = inject('hub');
const spokePlane = inject('spoke1');
const suffix = Date.now().toString(36);
const CLUSTER = `policy-${suffix}`;
const NAMESPACE = `policies-${suffix}`; // root policies, bindings, the placement
const SET = `policy-set-${suffix}`;
const OWNER = `e2e-policy-${suffix}`;
const POLICIES = { group: POLICY_GROUP, version: 'v1', plural: 'policies' };
const CONFIG_POLICIES = { group: POLICY_GROUP, version: 'v1', plural: 'configurationpolicies' };

const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const objects = hub.makeApiClient(CustomObjectsApi);
const onHub = (args: string[], input?: string) =>
  kubectl(hubPlane.binaries.kubectl, args, {
    kubeconfig: hubPlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
const onSpoke = (args: string[], input?: string) =>
  kubectl(spokePlane.binaries.kubectl, args, {
    kubeconfig: spokePlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
const spokeNamespaces: string[] = [];
const errors: string[] = [];
const hubControllers: { start(): void; stop(): Promise<void>; synced: Promise<void> }[] = [];
let grants: SpokeGrants | undefined;

async function apply(yaml: string, run = onHub): Promise<void> {
  const res = await run(['apply', '-f', '-'], yaml);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
}

/** A Policy with ConfigurationPolicy templates (YAML lists, already indented), and its binding. */
function policyYaml(name: string, action: string, templates: string): string {
  return `apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
  annotations:
    policy.open-cluster-management.io/standards: NIST SP 800-53
spec:
  remediationAction: ${action}
  disabled: false
  policy-templates:
${templates}
---
apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
placementRef:
  apiGroup: cluster.open-cluster-management.io
  kind: Placement
  name: here
subjects:
  - apiGroup: policy.open-cluster-management.io
    kind: Policy
    name: ${name}
`;
}

/** One ConfigurationPolicy template named `name` with `objectTemplates` (YAML, indented). */
function template(name: string, objectTemplates: string, extra = ''): string {
  return `    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata:
          name: ${name}
        spec:
          remediationAction: inform
          severity: low
${extra}          object-templates:
${objectTemplates}`;
}

async function replica(name: string): Promise<Policy | undefined> {
  return (await objects
    .getNamespacedCustomObject({ ...POLICIES, namespace: CLUSTER, name: `${NAMESPACE}.${name}` })
    .catch(() => undefined)) as Policy | undefined;
}

async function root(name: string): Promise<Policy | undefined> {
  return (await objects
    .getNamespacedCustomObject({ ...POLICIES, namespace: NAMESPACE, name })
    .catch(() => undefined)) as Policy | undefined;
}

/** The replica's newest message for its first template once `check` holds for it. */
function replicaWhere(
  name: string,
  what: string,
  check: (message: string, policy: Policy) => boolean,
  timeoutMs = 10_000,
): Promise<Policy> {
  let last: unknown;
  return eventually(
    `${name}: ${what}`,
    async () => {
      const policy = await replica(name);
      last = policy?.status;
      const message = policy?.status?.details?.[0]?.history?.[0]?.message;
      return policy !== undefined && message !== undefined && check(message, policy)
        ? policy
        : undefined;
    },
    timeoutMs,
    100,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last status: ${JSON.stringify(last)}`);
  });
}

/** The rig for the cluster with the evaluator and the add-ons, stopped after the test. */
async function startEvaluation() {
  if (grants === undefined) throw new Error('beforeAll did not prepare the spoke');
  const rig = await controllerRig(hubPlane, [
    { name: CLUSTER, kubeApiserver: new URL(spokePlane.server).host, agentApi: grants.agentApi },
  ]);
  const spokeKubeConfig = (name: string) =>
    rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY);
  const onError = failOnReconcileErrors();
  const evaluator = createPolicyEvaluator({ hub, spokeKubeConfig, onError });
  const addOns = createPolicyAddOnControllers({
    hub,
    server: rig.server,
    spokeKubeConfig,
    intervalMs: 3_600_000,
    // Other files' clusters (without agents or namespaces here) are not ours.
    onError: (cluster, err) =>
      cluster === CLUSTER ? onError(cluster, err) : console.warn(describeError(err)),
  });
  evaluator.start();
  for (const a of addOns) a.start();
  onTestFinished(async () => {
    await evaluator.stop();
    await Promise.all(addOns.map((a) => a.stop()));
  });
  return rig;
}

async function spokeNamespace(name: string, create = true): Promise<string> {
  spokeNamespaces.push(name);
  if (create) expect((await onSpoke(['create', 'namespace', name])).code).toBe(0);
  return name;
}

beforeAll(async () => {
  grants = await grantSpoke(spokePlane, `policy-${suffix}`);
  const onError = (what: string, err: unknown) => {
    // Other files' objects (in their own, possibly terminating, namespaces) are not ours.
    const foreign = what.includes('/') && !what.includes(`${NAMESPACE}/`);
    if (what.endsWith(' watch') || foreign) console.warn(`${what}: ${describeError(err)}`);
    else errors.push(`${what}: ${describeError(err)}`);
  };
  hubControllers.push(
    createClusterSetController({ hub, onError }),
    createPlacementController({ hub, onError }),
    createPolicyPropagator({ hub, onError }),
  );
  for (const c of hubControllers) c.start();
  await Promise.all(hubControllers.map((c) => c.synced));
  expect((await onHub(['create', 'namespace', NAMESPACE])).code).toBe(0);
  await apply(`apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata:
  name: ${CLUSTER}
  labels:
    ${OWNER}: "true"
    cluster.open-cluster-management.io/clusterset: ${SET}
spec:
  hubAcceptsClient: true
`);
  expect((await onHub(['create', 'namespace', CLUSTER])).code).toBe(0);
  const available = {
    type: 'ManagedClusterConditionAvailable',
    status: 'True',
    reason: 'ManagedClusterAvailable',
    message: `set by ${OWNER}`,
    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  const patch = JSON.stringify({ status: { conditions: [available] } });
  const patched = await onHub([
    'patch',
    'managedcluster',
    CLUSTER,
    '--subresource=status',
    '--type=merge',
    '-p',
    patch,
  ]);
  expect(patched.code).toBe(0);
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
  name: here
  namespace: ${NAMESPACE}
spec:
  clusterSets: [${SET}]
`);
  await eventually(
    'the placement to select the cluster',
    async () => {
      const res = await onHub(['get', 'placement', 'here', '-n', NAMESPACE, '-o', 'json']);
      const p = JSON.parse(res.stdout || '{}') as {
        status?: { numberOfSelectedClusters?: number };
      };
      return p.status?.numberOfSelectedClusters === 1 ? true : undefined;
    },
    30_000,
    200,
  );
});

afterAll(async () => {
  await Promise.all(hubControllers.map((c) => c.stop()));
  await onHub(['delete', 'namespace', NAMESPACE, CLUSTER, '--wait=false']);
  await onHub(['delete', 'managedclusters', '-l', OWNER, '--wait=false']);
  await onHub(['delete', 'managedclusterset', SET, '--wait=false']);
  for (const name of [POLICY_FRAMEWORK_ADDON_NAME, CONFIG_POLICY_ADDON_NAME]) {
    await onHub(['delete', 'clustermanagementaddon', name, '--ignore-not-found', '--wait=false']);
  }
  for (const ns of spokeNamespaces) {
    await onSpoke(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  }
  await grants?.remove();
  expect(errors).toEqual([]);
});

describe('the policy framework through the tunnel', () => {
  it('propagates a namespace policy (inform) with OCM labels; a spoke change flips it Compliant; add-ons Available', async () => {
    await startEvaluation();
    const ns = await spokeNamespace(`pol-ns-${suffix}`, false);
    await apply(
      policyYaml(
        'ns-must-exist',
        'inform',
        template(
          'ns-must-exist',
          `            - complianceType: musthave
              objectDefinition:
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: ${ns}
`,
        ),
      ),
    );
    const noncompliant = await replicaWhere(
      'ns-must-exist',
      'NonCompliant',
      (m) => m === `NonCompliant; violation - namespaces [${ns}] not found`,
      20_000,
    );
    expect(noncompliant.metadata?.labels).toMatchObject({
      'policy.open-cluster-management.io/cluster-name': CLUSTER,
      'policy.open-cluster-management.io/cluster-namespace': CLUSTER,
      'policy.open-cluster-management.io/root-policy': `${NAMESPACE}.ns-must-exist`,
    });
    expect(noncompliant.metadata?.annotations).toMatchObject({
      'policy.open-cluster-management.io/standards': 'NIST SP 800-53',
      'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
    });
    expect(noncompliant.status?.compliant).toBe('NonCompliant');
    expect(noncompliant.status?.details?.[0]?.templateMeta).toEqual({ name: 'ns-must-exist' });
    expect(noncompliant.status?.details?.[0]?.history?.[0]?.eventName).toMatch(
      new RegExp(`^${NAMESPACE}\\.ns-must-exist\\.[0-9a-f]+$`),
    );
    await eventually('the root status', async () => {
      const r = await root('ns-must-exist');
      return r?.status?.compliant === 'NonCompliant' ? r : undefined;
    }).then((r) => {
      expect(r.status?.placement).toEqual([
        { placementBinding: 'ns-must-exist', placement: 'here' },
      ]);
      expect(r.status?.status).toEqual([
        { clustername: CLUSTER, clusternamespace: CLUSTER, compliant: 'NonCompliant' },
      ]);
    });

    // The namespace appears on the spoke: the watch through the tunnel re-evaluates.
    expect((await onSpoke(['create', 'namespace', ns])).code).toBe(0);
    const compliant = await replicaWhere(
      'ns-must-exist',
      'Compliant within 10 s',
      (m) => m === `Compliant; notification - namespaces [${ns}] found as specified`,
    );
    expect(compliant.status?.details?.[0]?.history?.map((h) => h.message)).toEqual([
      `Compliant; notification - namespaces [${ns}] found as specified`,
      `NonCompliant; violation - namespaces [${ns}] not found`,
    ]);
    await eventually('the root to be Compliant', async () =>
      (await root('ns-must-exist'))?.status?.compliant === 'Compliant' ? true : undefined,
    );
    // The template as a ConfigurationPolicy in the cluster namespace, with OCM's status.
    const cp = (await objects.getNamespacedCustomObject({
      ...CONFIG_POLICIES,
      namespace: CLUSTER,
      name: 'ns-must-exist',
    })) as ConfigurationPolicy;
    expect(cp.status?.compliant).toBe('Compliant');
    expect(cp.status?.relatedObjects).toEqual([
      {
        object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
        compliant: 'Compliant',
        reason: 'Resource found as expected',
      },
    ]);
    expect(cp.status?.compliancyDetails?.[0]?.conditions?.[0]).toMatchObject({
      type: 'notification',
      reason: 'K8s `must have` object already exists',
      message: `namespaces [${ns}] found as specified`,
    });

    for (const name of [POLICY_FRAMEWORK_ADDON_NAME, CONFIG_POLICY_ADDON_NAME]) {
      await addOnProbe(hub, name).availableBecomes(CLUSTER, 'True', 'ProbeAvailable');
    }
  });

  it('enforce: creates a namespace and a Role, and puts the Role back when it is changed on the spoke', async () => {
    await startEvaluation();
    const ns = await spokeNamespace(`pol-enf-${suffix}`, false);
    await apply(
      policyYaml(
        'rbac-enforced',
        'enforce',
        template(
          'rbac-enforced',
          `            - complianceType: musthave
              objectDefinition:
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: ${ns}
            - complianceType: mustonlyhave
              objectDefinition:
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                metadata:
                  name: pod-reader
                  namespace: ${ns}
                rules:
                  - apiGroups: [""]
                    resources: [pods]
                    verbs: [get, list]
`,
        ),
      ),
    );
    const created = await replicaWhere(
      'rbac-enforced',
      'Compliant',
      (_m, p) => p.status?.compliant === 'Compliant',
      20_000,
    );
    const messages = created.status?.details?.[0]?.history?.map((h) => h.message) ?? [];
    expect(messages.at(-1)).toBe(
      `Compliant; notification - namespaces [${ns}] was created successfully; notification - roles [pod-reader] was created successfully in namespace ${ns}`,
    );
    const role = await onSpoke(['get', 'role', 'pod-reader', '-n', ns, '-o', 'json']);
    expect(JSON.parse(role.stdout).rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    ]);

    // Someone widens the Role on the spoke: enforce puts it back (mustonlyhave).
    const widened = await onSpoke([
      'patch',
      'role',
      'pod-reader',
      '-n',
      ns,
      '--type=json',
      '-p',
      JSON.stringify([
        {
          op: 'add',
          path: '/rules/-',
          value: { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        },
      ]),
    ]);
    expect(widened.code, widened.stderr).toBe(0);
    // The newest entry moves on to "found as specified" at once: look through the history.
    await replicaWhere('rbac-enforced', 'the Role updated back', (_m, p) =>
      (p.status?.details?.[0]?.history ?? []).some((h) =>
        h.message?.includes(`roles [pod-reader] was updated successfully in namespace ${ns}`),
      ),
    );
    await eventually('the Role to hold one rule again', async () => {
      const res = await onSpoke(['get', 'role', 'pod-reader', '-n', ns, '-o', 'json']);
      return (JSON.parse(res.stdout) as { rules: unknown[] }).rules.length === 1 ? true : undefined;
    });
  });

  it('mustnothave: inform reports the object, enforce deletes it; an RBAC policy flips on a spoke change', async () => {
    await startEvaluation();
    const ns = await spokeNamespace(`pol-not-${suffix}`);
    const made = await onSpoke([
      'create',
      'configmap',
      'forbidden',
      '-n',
      ns,
      '--from-literal=a=b',
    ]);
    expect(made.code).toBe(0);
    await apply(
      policyYaml(
        'no-forbidden',
        'inform',
        template(
          'no-forbidden',
          `            - complianceType: mustnothave
              objectDefinition:
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: forbidden
`,
          `          namespaceSelector:
            include: ["${ns}"]
`,
        ),
      ),
    );
    await replicaWhere(
      'no-forbidden',
      'NonCompliant',
      (m) => m === `NonCompliant; violation - configmaps [forbidden] found in namespace ${ns}`,
      20_000,
    );
    const patched = await onHub([
      'patch',
      'policy',
      'no-forbidden',
      '-n',
      NAMESPACE,
      '--type=merge',
      '-p',
      '{"spec":{"remediationAction":"enforce"}}',
    ]);
    expect(patched.code).toBe(0);
    await replicaWhere('no-forbidden', 'deleted', (m) =>
      m.startsWith('Compliant; notification - configmaps [forbidden] '),
    );
    const gone = await onSpoke([
      'get',
      'configmap',
      'forbidden',
      '-n',
      ns,
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    expect(gone.stdout).toBe('');
    const history = (await replica('no-forbidden'))?.status?.details?.[0]?.history ?? [];
    expect(history.map((h) => h.message)).toContain(
      `Compliant; notification - configmaps [forbidden] was deleted successfully in namespace ${ns}`,
    );

    // An RBAC policy (inform, unnamed): no Role may grant everything in the namespace.
    await apply(
      policyYaml(
        'no-wildcard-roles',
        'inform',
        template(
          'no-wildcard-roles',
          `            - complianceType: mustnothave
              objectDefinition:
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                rules:
                  - apiGroups: ["*"]
                    resources: ["*"]
                    verbs: ["*"]
`,
          `          namespaceSelector:
            include: ["${ns}"]
`,
        ),
      ),
    );
    await replicaWhere(
      'no-wildcard-roles',
      'Compliant',
      (m) => m === `Compliant; notification - roles missing as expected in namespace ${ns}`,
      20_000,
    );
    await apply(
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: everything
  namespace: ${ns}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
`,
      onSpoke,
    );
    await replicaWhere(
      'no-wildcard-roles',
      'NonCompliant within 10 s',
      (m) => m === `NonCompliant; violation - roles [everything] found in namespace ${ns}`,
    );
  });

  it('bad templates are NonCompliant with a clear message; disabling and deleting remove the replica', async () => {
    await startEvaluation();
    await apply(
      policyYaml(
        'bad-input',
        'inform',
        `${template(
          'unknown-kind',
          `            - complianceType: musthave
              objectDefinition:
                apiVersion: example.com/v1
                kind: Widget
                metadata:
                  name: w
`,
        )}${template(
          'malformed',
          `            - complianceType: mayhave
              objectDefinition:
                apiVersion: v1
                kind: ConfigMap
`,
        )}`,
      ),
    );
    const bad = await replicaWhere(
      'bad-input',
      'NonCompliant',
      (_m, p) => (p.status?.details ?? []).every((d) => (d.history ?? []).length > 0),
      20_000,
    );
    expect(bad.status?.compliant).toBe('NonCompliant');
    expect(bad.status?.details?.map((d) => d.history?.[0]?.message)).toEqual([
      "NonCompliant; violation - couldn't find mapping resource with kind Widget in API version example.com/v1, please check if you have CRD deployed",
      'NonCompliant; violation - Decoding error, please check your policy file! Aborting handling the object template at index [0] in policy `malformed` with error = `complianceType "mayhave" is not musthave, mustonlyhave or mustnothave`',
    ]);

    const disable = '{"spec":{"disabled":true}}';
    expect(
      (
        await onHub([
          'patch',
          'policy',
          'bad-input',
          '-n',
          NAMESPACE,
          '--type=merge',
          '-p',
          disable,
        ])
      ).code,
    ).toBe(0);
    await eventually('the replica to go when disabled', async () =>
      (await replica('bad-input')) === undefined ? true : undefined,
    );
    const enable = '{"spec":{"disabled":false}}';
    expect(
      (await onHub(['patch', 'policy', 'bad-input', '-n', NAMESPACE, '--type=merge', '-p', enable]))
        .code,
    ).toBe(0);
    await eventually('the replica to come back', async () =>
      (await replica('bad-input')) === undefined ? undefined : true,
    );
    expect((await onHub(['delete', 'policy', 'bad-input', '-n', NAMESPACE])).code).toBe(0);
    await eventually('the replica to go with its root', async () =>
      (await replica('bad-input')) === undefined ? true : undefined,
    );
  });
});
