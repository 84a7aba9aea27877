// The governance policy framework against the real hub and two spokes: OCM-shaped Policy,
// PlacementBinding and Placement YAML applied with the real kubectl on the hub; the cluster-set,
// placement and policy propagator controllers on the hub; the policy evaluator and the policy
// add-ons reaching spoke1 and spoke2 only through a tunnel rig's agent API as the hub
// controllers (policy-kit.ts). A namespace policy (inform) that holds on one spoke and not the
// other, where a change on one spoke flips only that cluster and the root; an enforced namespace
// + Role policy that creates what each spoke lacks and puts back a change on one spoke. The
// mustnothave and RBAC policies and bad templates: policy-mustnothave.test.ts.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import type { ConfigurationPolicy } from '../../hub/api/index.ts';
import {
  CONFIG_POLICY_ADDON_NAME,
  POLICY_FRAMEWORK_ADDON_NAME,
} from '../../hub/controllers/policy/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { addOnProbe } from './addon-kit.ts';
import {
  CONFIG_POLICIES,
  everyClusterReported,
  type FleetCluster,
  historyOf,
  PLACEMENT,
  policyFleet,
  template,
} from './policy-kit.ts';

const fleet = policyFleet('policy');
const { namespace: NAMESPACE, suffix, clusters } = fleet;
const [spoke1, spoke2] = clusters;
const objects = fleet.hub.makeApiClient(CustomObjectsApi);

describe('the policy framework through the tunnel, on two spokes', () => {
  it('a namespace policy (inform) with OCM labels; a change on one spoke flips only that cluster and the root; add-ons Available', async () => {
    await fleet.startEvaluation({ addOns: true });
    const ns = await fleet.spokeNamespace(`pol-ns-${suffix}`);
    await fleet.apply(
      fleet.policyYaml(
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
    const notFound = `NonCompliant; violation - namespaces [${ns}] not found`;
    const found = `Compliant; notification - namespaces [${ns}] found as specified`;
    const noncompliant = async (c: FleetCluster) => {
      const p = await fleet.replicaWhere(
        c,
        'ns-must-exist',
        'NonCompliant',
        (m) => m === notFound,
        20_000,
      );
      expect(p.metadata?.labels).toMatchObject({
        'policy.open-cluster-management.io/cluster-name': c.name,
        'policy.open-cluster-management.io/cluster-namespace': c.name,
        'policy.open-cluster-management.io/root-policy': `${NAMESPACE}.ns-must-exist`,
      });
      expect(p.metadata?.annotations).toMatchObject({
        'policy.open-cluster-management.io/standards': 'NIST SP 800-53',
        'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
      });
      expect(p.status?.compliant).toBe('NonCompliant');
      expect(p.status?.details?.[0]?.templateMeta).toEqual({ name: 'ns-must-exist' });
      expect(p.status?.details?.[0]?.history?.[0]?.eventName).toMatch(
        new RegExp(`^${NAMESPACE}\\.ns-must-exist\\.[0-9a-f]+$`),
      );
    };
    await noncompliant(spoke1);
    await noncompliant(spoke2);
    const both = await fleet.rootWhere(
      'ns-must-exist',
      'NonCompliant on both clusters',
      everyClusterReported,
    );
    expect(both.status).toEqual({
      compliant: 'NonCompliant',
      placement: [{ placementBinding: 'ns-must-exist', placement: PLACEMENT }],
      status: fleet.perCluster('NonCompliant', 'NonCompliant'),
    });

    // The namespace appears on spoke1: the watch through the tunnel re-evaluates that cluster
    // only; the root stays NonCompliant because of spoke2.
    expect((await spoke1.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const compliant = await fleet.replicaWhere(
      spoke1,
      'ns-must-exist',
      'Compliant within 10 s',
      (m) => m === found,
    );
    expect(historyOf(compliant)).toEqual([found, notFound]);
    const one = await fleet.rootWhere(
      'ns-must-exist',
      'spoke1 Compliant, spoke2 NonCompliant',
      (r) => r.status?.status?.[0]?.compliant === 'Compliant',
    );
    expect(one.status?.compliant).toBe('NonCompliant');
    expect(one.status?.status).toEqual(fleet.perCluster('Compliant', 'NonCompliant'));
    expect(historyOf(await fleet.replica(spoke2, 'ns-must-exist'))).toEqual([notFound]);

    // The template as a ConfigurationPolicy in each cluster namespace, with OCM's status.
    const configPolicy = async (c: FleetCluster) =>
      (await objects.getNamespacedCustomObject({
        ...CONFIG_POLICIES,
        namespace: c.name,
        name: 'ns-must-exist',
      })) as ConfigurationPolicy;
    const cp1 = await configPolicy(spoke1);
    expect(cp1.status?.compliant).toBe('Compliant');
    expect(cp1.status?.relatedObjects).toEqual([
      {
        object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
        compliant: 'Compliant',
        reason: 'Resource found as expected',
      },
    ]);
    expect(cp1.status?.compliancyDetails?.[0]?.conditions?.[0]).toMatchObject({
      type: 'notification',
      reason: 'K8s `must have` object already exists',
      message: `namespaces [${ns}] found as specified`,
    });
    const cp2 = await configPolicy(spoke2);
    expect(cp2.status?.compliant).toBe('NonCompliant');
    expect(cp2.status?.compliancyDetails?.[0]?.conditions?.[0]).toMatchObject({
      type: 'violation',
      message: `namespaces [${ns}] not found`,
    });

    // Then on spoke2 too: that cluster flips, and the root with it.
    expect((await spoke2.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const compliant2 = await fleet.replicaWhere(
      spoke2,
      'ns-must-exist',
      'Compliant within 10 s',
      (m) => m === found,
    );
    expect(historyOf(compliant2)).toEqual([found, notFound]);
    const all = await fleet.rootWhere(
      'ns-must-exist',
      'Compliant',
      (r) => r.status?.compliant === 'Compliant',
    );
    expect(all.status?.status).toEqual(fleet.perCluster('Compliant', 'Compliant'));
    expect(historyOf(await fleet.replica(spoke1, 'ns-must-exist'))).toEqual([found, notFound]);

    for (const name of [POLICY_FRAMEWORK_ADDON_NAME, CONFIG_POLICY_ADDON_NAME]) {
      for (const c of clusters) {
        await addOnProbe(fleet.hub, name).availableBecomes(c.name, 'True', 'ProbeAvailable');
      }
    }
  });

  it('enforce: creates what each spoke lacks (a namespace, a Role), and puts the Role back when it is changed on one spoke', async () => {
    await fleet.startEvaluation();
    // The namespace is on spoke1 already: only the Role is created there.
    const ns = await fleet.spokeNamespace(`pol-enf-${suffix}`, [spoke1]);
    await fleet.apply(
      fleet.policyYaml(
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
    const roleCreated = `notification - roles [pod-reader] was created successfully in namespace ${ns}`;
    const created = {
      [spoke1.name]: `Compliant; notification - namespaces [${ns}] found as specified; ${roleCreated}`,
      [spoke2.name]: `Compliant; notification - namespaces [${ns}] was created successfully; ${roleCreated}`,
    };
    for (const c of clusters) {
      const p = await fleet.replicaWhere(
        c,
        'rbac-enforced',
        'Compliant',
        (_m, p) => p.status?.compliant === 'Compliant',
        20_000,
      );
      expect(historyOf(p).at(-1)).toBe(created[c.name]);
      const role = await c.kubectl(['get', 'role', 'pod-reader', '-n', ns, '-o', 'json']);
      expect(JSON.parse(role.stdout).rules).toEqual([
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      ]);
    }
    await fleet.rootWhere(
      'rbac-enforced',
      'Compliant on both clusters',
      (r) => r.status?.compliant === 'Compliant' && r.status.status?.length === 2,
    );

    // Someone widens the Role on spoke2: enforce puts it back there (mustonlyhave).
    const widened = await spoke2.kubectl([
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
    const updated = `roles [pod-reader] was updated successfully in namespace ${ns}`;
    // The newest entry moves on to "found as specified" at once: look through the history.
    await fleet.replicaWhere(spoke2, 'rbac-enforced', 'the Role updated back', (_m, p) =>
      historyOf(p).some((m) => m?.includes(updated)),
    );
    await eventually('the Role on spoke2 to hold one rule again', async () => {
      const res = await spoke2.kubectl(['get', 'role', 'pod-reader', '-n', ns, '-o', 'json']);
      return (JSON.parse(res.stdout) as { rules: unknown[] }).rules.length === 1 ? true : undefined;
    });
    // spoke1's Role was not touched: nothing was updated there.
    expect(historyOf(await fleet.replica(spoke1, 'rbac-enforced'))).not.toContainEqual(
      expect.stringContaining(updated),
    );
    const root = await fleet.root('rbac-enforced');
    expect(root?.status?.status).toEqual(fleet.perCluster('Compliant', 'Compliant'));
  });
});
