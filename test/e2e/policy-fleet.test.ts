// The governance policy framework over two real spokes (policy-kit.ts: the hub controllers, a
// Placement selecting a cluster on spoke1 and one on spoke2, the evaluator reaching both through
// a tunnel rig's agent API as the hub controllers): OCM-shaped Policy, PolicySet and
// PlacementBinding YAML applied with the real kubectl on the hub. OCM's webhook rules refuse bad
// Policies in the hub API server; a pod-security policy (namespace labels, mustonlyhave) placed
// on both clusters through a PolicySet is Compliant on one and NonCompliant on the other, which
// the root, the PolicySet and the compliance Events show, until enforce makes both Compliant.
import { CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { POLICY_GROUP } from '../../hub/api/index.ts';
import {
  POLICY_NAME_TOO_LONG_MESSAGE,
  POLICY_REMEDIATION_UNSET_MESSAGE,
  POLICY_STATUS_SYNC_REASON,
} from '../../hub/controllers/policy/index.ts';
import { eventually } from '../framework/kubectl.ts';
import {
  everyClusterReported,
  historyOf,
  PLACEMENT,
  policyFleet,
  template,
  until,
} from './policy-kit.ts';

const fleet = policyFleet('fleet');
const { namespace: NAMESPACE, suffix, clusters } = fleet;
const [spoke1, spoke2] = clusters;
const PSA_NAMESPACE = `psa-${suffix}`; // on both spokes
const RESTRICTED = {
  'kubernetes.io/metadata.name': PSA_NAMESPACE,
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};
const core = fleet.hub.makeApiClient(CoreV1Api);

/** The template of a Policy that requires the pod-security labels (and only them). */
function psaTemplate(name: string): string {
  const labels = Object.entries(RESTRICTED)
    .map(([k, v]) => `                    ${k}: ${v}`)
    .join('\n');
  return template(
    name,
    `            - complianceType: musthave
              metadataComplianceType: mustonlyhave
              objectDefinition:
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: ${PSA_NAMESPACE}
                  labels:
${labels}
`,
  );
}

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
    const templates = (action: string) => `  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata:
          name: t
        spec:
${action}          object-templates: []
`;
    const dryRun = (yaml: string) => fleet.onHub(['apply', '--dry-run=server', '-f', '-'], yaml);
    // Namespace + name at 63 characters: the replica `<namespace>.<name>` would not fit.
    const tooLong = 'p'.repeat(63 - NAMESPACE.length);
    const refused = await eventually('the admission policy to take effect', async () => {
      const res = await dryRun(policy(tooLong, `  remediationAction: inform\n${templates('')}`));
      return res.code === 0 ? undefined : res;
    });
    expect(refused.stderr).toContain(`denied request: ${POLICY_NAME_TOO_LONG_MESSAGE}`);
    const fits = await dryRun(
      policy(tooLong.slice(1), `  remediationAction: inform\n${templates('')}`),
    );
    expect(fits.stderr).toBe('');
    expect(fits.code).toBe(0);

    // No remediationAction on the Policy: every ConfigurationPolicy template needs one.
    const unset = await dryRun(policy('unset', templates('')));
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(`denied request: ${POLICY_REMEDIATION_UNSET_MESSAGE}`);
    const onTemplate = await dryRun(
      policy('on-template', templates('          remediationAction: enforce\n')),
    );
    expect(onTemplate.stderr).toBe('');

    // The CRDs: remediationAction's values, a binding's placementRef pairing and subjects.
    const audit = await dryRun(policy('audit', `  remediationAction: audit\n${templates('')}`));
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
      binding(`placementRef: {apiGroup: cluster.open-cluster-management.io, kind: Placement, name: ${PLACEMENT}}
subjects: []
`),
    );
    expect(noSubjects.stderr).toContain('subjects in body should have at least 1 items');
    const mismatched = await dryRun(
      binding(`placementRef: {apiGroup: apps.open-cluster-management.io, kind: Placement, name: ${PLACEMENT}}
subjects: [{apiGroup: policy.open-cluster-management.io, kind: Policy, name: p}]
`),
    );
    expect(mismatched.stderr).toContain('"placementRef" must validate one and only one schema');
  });

  it('a pod-security policy in a PolicySet: NonCompliant on one cluster shows on the root, the set and in Events; enforce fixes it', async () => {
    await fleet.startEvaluation();

    // spoke1 is restricted already; spoke2's namespace is privileged and carries a warn label.
    await fleet.spokeNamespace(PSA_NAMESPACE, clusters);
    const restrict = await spoke1.kubectl([
      'label',
      'namespace',
      PSA_NAMESPACE,
      ...Object.entries(RESTRICTED)
        .filter(([k]) => k !== 'kubernetes.io/metadata.name')
        .map(([k, v]) => `${k}=${v}`),
    ]);
    expect(restrict.code, restrict.stderr).toBe(0);
    const loosen = await spoke2.kubectl([
      'label',
      'namespace',
      PSA_NAMESPACE,
      'pod-security.kubernetes.io/enforce=privileged',
      'pod-security.kubernetes.io/warn=baseline',
    ]);
    expect(loosen.code, loosen.stderr).toBe(0);

    const name = 'psa-restricted';
    await fleet.apply(`${fleet.unboundPolicyYaml(name, 'inform', psaTemplate(name))}---
apiVersion: policy.open-cluster-management.io/v1beta1
kind: PolicySet
metadata:
  name: pod-security
  namespace: ${NAMESPACE}
spec:
  description: Pod security admission labels on every cluster.
  policies: [${name}]
---
${fleet.bindingYaml('pod-security', 'PolicySet')}`);
    const replicaName = `${NAMESPACE}.${name}`;
    const compliantMessage = `Compliant; notification - namespaces [${PSA_NAMESPACE}] found as specified`;
    const violation = `NonCompliant; violation - namespaces [${PSA_NAMESPACE}] found but not as specified`;
    const updated = `Compliant; notification - namespaces [${PSA_NAMESPACE}] was updated successfully`;
    // A replica once its newest message is `message`; it then says `compliant` too.
    const replicaSays = async (c: typeof spoke1, compliant: string, message: string) => {
      const p = await fleet.replicaWhere(c, name, compliant, (m) => m === message, 20_000);
      expect(p.status?.compliant).toBe(compliant);
      return p;
    };
    await replicaSays(spoke1, 'Compliant', compliantMessage);
    const onFleet2 = await replicaSays(spoke2, 'NonCompliant', violation);

    // The root sums the clusters up: one NonCompliant makes it NonCompliant.
    const root = await fleet.rootWhere(
      name,
      'NonCompliant with both clusters reported',
      // The replicas' statuses reach the root one at a time: fleet2's may arrive first.
      (p) => everyClusterReported(p) && p.status?.compliant === 'NonCompliant',
    );
    expect(root.status).toEqual({
      compliant: 'NonCompliant',
      placement: [
        { placementBinding: 'pod-security', placement: PLACEMENT, policySet: 'pod-security' },
      ],
      status: fleet.perCluster('Compliant', 'NonCompliant'),
    });
    // ... and so does the PolicySet.
    await until(
      'the PolicySet to be NonCompliant',
      () => fleet.policySet('pod-security'),
      (s) => s.status?.compliant === 'NonCompliant',
    ).then((s) =>
      expect(s.status).toEqual({
        compliant: 'NonCompliant',
        placement: [{ placementBinding: 'pod-security', placement: PLACEMENT }],
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
      () => events(spoke2.name),
      (list: CoreV1Event[]) => list.some((e) => e.metadata.name === eventName),
    );
    expect(ofFleet2.find((e) => e.metadata.name === eventName)).toMatchObject({
      involvedObject: {
        apiVersion: `${POLICY_GROUP}/v1`,
        kind: 'Policy',
        name: replicaName,
        namespace: spoke2.name,
        uid: onFleet2.metadata?.uid,
      },
      reason: `policy: ${spoke2.name}/${name}`,
      message: violation,
      type: 'Warning',
    });
    expect(ofFleet2.map((e) => [e.reason, e.message])).toContainEqual([
      POLICY_STATUS_SYNC_REASON,
      `Policy ${replicaName} status was updated to NonCompliant in cluster namespace ${spoke2.name}`,
    ]);
    const ofFleet1 = await until(
      'the compliance event on spoke1’s replica',
      () => events(spoke1.name),
      (list: CoreV1Event[]) => list.some((e) => e.reason === `policy: ${spoke1.name}/${name}`),
    );
    expect(ofFleet1.find((e) => e.reason === `policy: ${spoke1.name}/${name}`)).toMatchObject({
      message: compliantMessage,
      type: 'Normal',
    });

    // Enforce: spoke2's labels become exactly the template's (mustonlyhave drops `warn`).
    const patched = await fleet.onHub([
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
    await fleet.replicaWhere(
      spoke2,
      name,
      'updated to Compliant',
      (_m, p) => p.status?.compliant === 'Compliant' && historyOf(p).includes(updated),
      20_000,
    );
    const labels = await spoke2.kubectl(['get', 'namespace', PSA_NAMESPACE, '-o', 'json']);
    expect(
      (JSON.parse(labels.stdout) as { metadata: { labels: unknown } }).metadata.labels,
    ).toEqual(RESTRICTED);
    await until(
      'the root and the set to be Compliant',
      async () => ({ root: await fleet.root(name), set: await fleet.policySet('pod-security') }),
      (v) => v.root?.status?.compliant === 'Compliant' && v.set?.status?.compliant === 'Compliant',
    );

    // A change on spoke1 is put back as well.
    const relaxed = await spoke1.kubectl([
      'label',
      'namespace',
      PSA_NAMESPACE,
      'pod-security.kubernetes.io/enforce=baseline',
      '--overwrite',
    ]);
    expect(relaxed.code, relaxed.stderr).toBe(0);
    await fleet.replicaWhere(
      spoke1,
      name,
      'put back',
      (_m, p) => historyOf(p).includes(updated),
      20_000,
    );
    await eventually('spoke1 to be restricted again', async () => {
      const res = await spoke1.kubectl(['get', 'namespace', PSA_NAMESPACE, '-o', 'json']);
      const got = (JSON.parse(res.stdout) as { metadata: { labels: Record<string, string> } })
        .metadata.labels;
      return got['pod-security.kubernetes.io/enforce'] === 'restricted' ? true : undefined;
    });
  });
});
