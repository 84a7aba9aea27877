// The governance policy framework against the real hub and two spokes (policy-kit.ts: the hub
// controllers, a Placement selecting a cluster on spoke1 and one on spoke2, the evaluator
// through a tunnel rig): a mustnothave policy whose object exists on spoke1 only, NonCompliant
// there and Compliant on spoke2 until enforce deletes it on spoke1; an RBAC policy (no wildcard
// Role) that a change on spoke2 flips there and on the root only; bad templates NonCompliant on
// both clusters with a clear message; disabling and deleting remove both replicas.
import { describe, expect, it } from 'vitest';

import { eventually } from '../framework/kubectl.ts';
import { everyClusterReported, historyOf, policyFleet, template } from './policy-kit.ts';

const fleet = policyFleet('policy-not');
const { namespace: NAMESPACE, suffix, clusters } = fleet;
const [spoke1, spoke2] = clusters;

/** Patches the root Policy `name` on the hub with a JSON merge patch. */
async function patchRoot(name: string, patch: object): Promise<void> {
  const args = ['patch', 'policy', name, '-n', NAMESPACE, '--type=merge'];
  const res = await fleet.onHub([...args, '-p', JSON.stringify(patch)]);
  expect(res.code, res.stderr).toBe(0);
}

describe('mustnothave, RBAC and bad policies through the tunnel, on two spokes', () => {
  it('mustnothave: inform reports the object where it exists, enforce deletes it there; an RBAC policy flips on a change on one spoke', async () => {
    await fleet.startEvaluation();
    const ns = await fleet.spokeNamespace(`pol-not-${suffix}`, clusters);
    const made = await spoke1.kubectl([
      'create',
      'configmap',
      'forbidden',
      '-n',
      ns,
      '--from-literal=a=b',
    ]);
    expect(made.code).toBe(0);
    await fleet.apply(
      fleet.policyYaml(
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
    const missing = `Compliant; notification - configmaps [forbidden] missing as expected in namespace ${ns}`;
    await fleet.replicaWhere(
      spoke1,
      'no-forbidden',
      'NonCompliant',
      (m) => m === `NonCompliant; violation - configmaps [forbidden] found in namespace ${ns}`,
      20_000,
    );
    await fleet.replicaWhere(spoke2, 'no-forbidden', 'Compliant', (m) => m === missing, 20_000);
    const root = await fleet.rootWhere(
      'no-forbidden',
      'NonCompliant on spoke1 only',
      everyClusterReported,
    );
    expect(root.status?.compliant).toBe('NonCompliant');
    expect(root.status?.status).toEqual(fleet.perCluster('NonCompliant', 'Compliant'));

    await patchRoot('no-forbidden', { spec: { remediationAction: 'enforce' } });
    await fleet.replicaWhere(spoke1, 'no-forbidden', 'deleted', (m) =>
      m.startsWith('Compliant; notification - configmaps [forbidden] '),
    );
    const gone = await spoke1.kubectl([
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
    expect(historyOf(await fleet.replica(spoke1, 'no-forbidden'))).toContain(
      `Compliant; notification - configmaps [forbidden] was deleted successfully in namespace ${ns}`,
    );
    await fleet.rootWhere('no-forbidden', 'Compliant', (r) => r.status?.compliant === 'Compliant');
    // Nothing to delete on spoke2: its history never left "missing as expected".
    expect(historyOf(await fleet.replica(spoke2, 'no-forbidden'))).toEqual([missing]);

    // An RBAC policy (inform, unnamed): no Role may grant everything in the namespace.
    await fleet.apply(
      fleet.policyYaml(
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
    const noRoles = `Compliant; notification - roles missing as expected in namespace ${ns}`;
    for (const c of clusters) {
      await fleet.replicaWhere(c, 'no-wildcard-roles', 'Compliant', (m) => m === noRoles, 20_000);
    }
    await fleet.rootWhere(
      'no-wildcard-roles',
      'Compliant on both clusters',
      (r) => r.status?.compliant === 'Compliant' && r.status.status?.length === 2,
    );
    await fleet.apply(
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
      spoke2.kubectl,
    );
    await fleet.replicaWhere(
      spoke2,
      'no-wildcard-roles',
      'NonCompliant within 10 s',
      (m) => m === `NonCompliant; violation - roles [everything] found in namespace ${ns}`,
    );
    const flipped = await fleet.rootWhere(
      'no-wildcard-roles',
      'NonCompliant',
      (r) => r.status?.compliant === 'NonCompliant',
    );
    expect(flipped.status?.status).toEqual(fleet.perCluster('Compliant', 'NonCompliant'));
    expect(historyOf(await fleet.replica(spoke1, 'no-wildcard-roles'))).toEqual([noRoles]);
  });

  it('bad templates are NonCompliant with a clear message on both clusters; disabling and deleting remove the replicas', async () => {
    await fleet.startEvaluation();
    await fleet.apply(
      fleet.policyYaml(
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
    for (const c of clusters) {
      const bad = await fleet.replicaWhere(
        c,
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
    }

    const replicas = async () =>
      Promise.all(clusters.map(async (c) => (await fleet.replica(c, 'bad-input')) !== undefined));
    const replicasAre = (what: string, present: boolean) =>
      eventually(what, async () =>
        (await replicas()).every((p) => p === present) ? true : undefined,
      );
    await patchRoot('bad-input', { spec: { disabled: true } });
    await replicasAre('both replicas to go when disabled', false);
    await patchRoot('bad-input', { spec: { disabled: false } });
    await replicasAre('both replicas to come back', true);
    expect((await fleet.onHub(['delete', 'policy', 'bad-input', '-n', NAMESPACE])).code).toBe(0);
    await replicasAre('both replicas to go with their root', false);
  });
});
