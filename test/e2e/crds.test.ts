// Our OCM CRDs on a real API server: they install and become Established, OCM-shaped YAML
// (test/fixtures/ocm/) applies with OCM's defaults, kubectl prints OCM's columns, status goes
// through the status subresource, and the server refuses what OCM's schemas refuse.
// Cluster kinds here; work, policy, service-account and add-on kinds in crds-workloads.test.ts.
import { describe, expect, inject, it } from 'vitest';

import {
  allCrds,
  crdName,
  CRD_PART_OF_LABEL,
  validateResource,
  type ClusterClaim,
  type ManagedCluster,
  type ManagedClusterSet,
  type ManagedClusterSetBinding,
  type Placement,
} from '../../hub/api/index.ts';
import { condition, fixture, kube, unique, useOcmCrds, withField } from './crds-kit.ts';

const hub = kube(inject('hub'));
const spoke = kube(inject('spoke1'));
useOcmCrds(hub, spoke);

/** A CRD as the API server returns it (the parts read here). */
interface InstalledCrd {
  metadata: { name: string; labels?: Record<string, string> };
  status: {
    conditions: { type: string; status: string }[];
    acceptedNames: { shortNames?: string[] };
    storedVersions: string[];
  };
}

describe('our OCM CRDs on a real API server', () => {
  it('are all Established with the names, short names and versions we define', async () => {
    const list = await hub.json<{ items: InstalledCrd[] }>([
      'crd',
      '-l',
      `${CRD_PART_OF_LABEL}=spokelink`,
    ]);
    const byName = new Map(list.items.map((crd) => [crd.metadata.name, crd]));
    for (const def of allCrds()) {
      const crd = byName.get(crdName(def));
      const status = (type: string) => crd?.status.conditions.find((c) => c.type === type)?.status;
      expect([status('Established'), status('NamesAccepted')], crdName(def)).toEqual([
        'True',
        'True',
      ]);
      expect(crd?.status.acceptedNames.shortNames ?? []).toEqual(def.shortNames);
      expect(crd?.status.storedVersions).toEqual([def.versions.find((v) => v.storage)?.name]);
    }
    expect(
      byName.get('configurationpolicies.policy.open-cluster-management.io')?.metadata.labels,
    ).toMatchObject({
      'policy.open-cluster-management.io/policy-type': 'template',
    });
  });

  it.each([
    'managed-cluster.yaml',
    'clusterset.yaml',
    'placement.yaml',
    'manifestwork.yaml',
    'manifestworkreplicaset.yaml',
    'managed-serviceaccount.yaml',
    'policy.yaml',
    'addon.yaml',
    'cluster-claim.yaml',
  ])('take fixture %s as valid by our own schemas too', (file) => {
    for (const object of fixture<{ kind: string }[]>(file)) {
      expect(validateResource(object), `${file} ${object.kind}`).toEqual([]);
    }
  });
});

describe('ManagedCluster', () => {
  /** The fixture cluster under a name of its own, deleted when the test ends. */
  function freshCluster(): ManagedCluster & { metadata: { name: string } } {
    const [cluster] = fixture<[ManagedCluster]>('managed-cluster.yaml');
    const named = { ...cluster, metadata: { ...cluster.metadata, name: unique('cluster1') } };
    hub.cleanup('managedcluster', named.metadata.name);
    return named;
  }

  it('defaults hubAcceptsClient and leaseDurationSeconds, and prints OCM columns for mcl', async () => {
    const cluster = freshCluster();
    const name = cluster.metadata.name;
    await hub.apply([cluster]);
    const spec = '{.spec.hubAcceptsClient} {.spec.leaseDurationSeconds}';
    expect(await hub.jsonpath(['managedcluster', name], spec)).toBe('false 60');

    await hub.patchStatus(['mcl', name], {
      conditions: [
        condition('HubAcceptedManagedCluster', 'True', 'HubClusterAdminAccepted'),
        condition('ManagedClusterJoined', 'True', 'ManagedClusterJoined'),
        condition('ManagedClusterConditionAvailable', 'True', 'ManagedClusterAvailable'),
      ],
      version: { kubernetes: 'v1.36.3' },
      capacity: { cpu: '4', memory: '16Gi' },
      clusterClaims: [{ name: 'id.k8s.io', value: name }],
    } satisfies ManagedCluster['status']);
    const rows = await hub.table(['mcl', name]);
    expect(rows[0]).toEqual([
      'NAME',
      'HUB ACCEPTED',
      'MANAGED CLUSTER URLS',
      'JOINED',
      'AVAILABLE',
      'AGE',
    ]);
    expect(rows[1]?.slice(0, 5)).toEqual([
      name,
      'false',
      'https://cluster1.example.com:6443',
      'True',
      'True',
    ]);
    expect(await hub.jsonpath(['mcls', name], '{.status.version.kubernetes}')).toBe('v1.36.3');

    // A write to the object itself leaves status alone: status is a subresource.
    const patch = { spec: { hubAcceptsClient: true }, status: { version: { kubernetes: 'v0' } } };
    await hub.ok(['patch', 'mcl', name, '--type=merge', '-p', JSON.stringify(patch)]);
    const after = await hub.json<ManagedCluster>(['managedcluster', name]);
    expect([after.spec?.hubAcceptsClient, after.status?.version?.kubernetes]).toEqual([
      true,
      'v1.36.3',
    ]);
    expect(validateResource(after)).toEqual([]);
  });

  it('is refused by the API server with a bad taint effect, as our schema refuses it', async () => {
    const cluster = withField(freshCluster(), 'spec.taints', [
      { key: 'gpu', effect: 'NoSchedule' },
    ]);
    const supported = 'supported values: "NoSelect", "PreferNoSelect", "NoSelectIfNew"';
    expect(await hub.refused([cluster])).toContain(
      `spec.taints[0].effect: Unsupported value: "NoSchedule": ${supported}`,
    );
    expect(validateResource(cluster)).toEqual([
      { path: 'spec.taints[0].effect', message: `unsupported value; ${supported}` },
    ]);
  });

  it('is refused with an unknown field, as our schema refuses it', async () => {
    const cluster = withField(freshCluster(), 'spec.hubAcceptClient', true);
    expect(await hub.refused([cluster])).toContain('unknown field "spec.hubAcceptClient"');
    expect(validateResource(cluster)).toEqual([
      { path: 'spec.hubAcceptClient', message: 'unknown field' },
    ]);
  });
});

describe('ManagedClusterSet and ManagedClusterSetBinding', () => {
  it('default the selector to the clusterset label and bind into a namespace', async () => {
    const namespace = await hub.namespace();
    const [set, binding] =
      fixture<[ManagedClusterSet, ManagedClusterSetBinding]>('clusterset.yaml');
    const name = unique('dev');
    await hub.apply([{ ...set, metadata: { name } }]);
    hub.cleanup('managedclusterset', name);
    await hub.apply([{ ...binding, metadata: { name }, spec: { clusterSet: name } }], namespace);

    const selectorType = '{.spec.clusterSelector.selectorType}';
    expect(await hub.jsonpath(['mclset', name], selectorType)).toBe('ExclusiveClusterSetLabel');
    expect((await hub.table(['mclset', name]))[0]).toEqual(['NAME', 'EMPTY', 'AGE']);
    expect(await hub.jsonpath(['mclsetbinding', name, '-n', namespace], '{.spec.clusterSet}')).toBe(
      name,
    );

    const otherSet = { ...binding, metadata: { name: 'other' }, spec: { clusterSet: name } };
    expect(await hub.refused([otherSet], namespace)).toContain(
      'spec.clusterSet must equal metadata.name',
    );
    const bad = {
      ...set,
      metadata: { name },
      spec: { clusterSelector: { selectorType: 'Label' } },
    };
    expect(await hub.refused([bad])).toContain(
      'spec.clusterSelector.selectorType: Unsupported value: "Label"',
    );
  });
});

describe('Placement and PlacementDecision', () => {
  it('keep predicates and tolerations, apply defaults, and take decisions through status', async () => {
    const namespace = await hub.namespace();
    await hub.apply(fixture('placement.yaml'), namespace);

    const { spec } = await hub.json<Placement>(['placement', 'placement1', '-n', namespace]);
    const selector = spec.predicates?.[0]?.requiredClusterSelector;
    expect(selector?.claimSelector?.matchExpressions?.[0]?.values).toEqual([
      'us-east-1',
      'eu-west-1',
    ]);
    expect(selector?.celSelector?.celExpressions).toEqual([
      'managedCluster.status.version.kubernetes != ""',
    ]);
    expect(spec.tolerations).toEqual([
      {
        key: 'cluster.open-cluster-management.io/unreachable',
        operator: 'Exists',
        tolerationSeconds: 300,
      },
      { key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSelect' },
    ]);
    expect(spec.prioritizerPolicy).toEqual({
      mode: 'Additive',
      configurations: [
        { scoreCoordinate: { type: 'BuiltIn', builtIn: 'ResourceAllocatableMemory' }, weight: 2 },
      ],
    });
    expect(spec.spreadPolicy?.spreadConstraints?.[0]).toMatchObject({
      maxSkew: 1,
      whenUnsatisfiable: 'ScheduleAnyway',
    });
    expect([spec.sortBy, spec.scoreRateLimit]).toEqual(['ClusterName', '1m']);

    await hub.patchStatus(['placement', 'placement1', '-n', namespace], {
      numberOfSelectedClusters: 1,
      conditions: [condition('PlacementSatisfied', 'True', 'AllDecisionsScheduled')],
    } satisfies Placement['status']);
    expect(await hub.table(['placement', 'placement1', '-n', namespace])).toEqual([
      ['NAME', 'SUCCEEDED', 'REASON', 'SELECTEDCLUSTERS'],
      ['placement1', 'True', 'AllDecisionsScheduled', '1'],
    ]);

    const label = 'cluster.open-cluster-management.io/placement';
    await hub.apply(
      [
        {
          apiVersion: 'cluster.open-cluster-management.io/v1beta1',
          kind: 'PlacementDecision',
          metadata: { name: 'placement1-decision-1', labels: { [label]: 'placement1' } },
        },
      ],
      namespace,
    );
    await hub.patchStatus(['placementdecision', 'placement1-decision-1', '-n', namespace], {
      decisions: [{ clusterName: 'cluster1', reason: '' }],
    });
    const decided = '{.items[0].status.decisions[0].clusterName}';
    expect(
      await hub.jsonpath(
        ['placementdecisions', '-n', namespace, '-l', `${label}=placement1`],
        decided,
      ),
    ).toBe('cluster1');

    const [heavy] = fixture<[Placement]>('placement.yaml');
    const tooHeavy = withField(
      { ...heavy, metadata: { name: 'too-heavy' } },
      'spec.prioritizerPolicy.configurations.0.weight',
      11,
    );
    expect(await hub.refused([tooHeavy], namespace)).toContain(
      'spec.prioritizerPolicy.configurations[0].weight: Invalid value: 11',
    );
  });
});

describe('ClusterClaim on a spoke', () => {
  it('installs with the spoke CRDs and keeps its value within 1–1024 characters', async () => {
    const [claim] = fixture<[ClusterClaim]>('cluster-claim.yaml');
    const name = unique('region.open-cluster-management.io');
    await spoke.apply([{ ...claim, metadata: { name } }]);
    spoke.cleanup('clusterclaim', name);
    expect(await spoke.jsonpath(['clusterclaims', name], '{.spec.value}')).toBe('eu-west-1');

    const tooLong = { ...claim, metadata: { name }, spec: { value: 'x'.repeat(1025) } };
    expect(await spoke.refused([tooLong])).toContain(
      'spec.value: Too long: may not be more than 1024',
    );
  });
});
