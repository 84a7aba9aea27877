import { describe, expect, it } from 'vitest';

import {
  allCrds,
  validateResource,
  type ManagedCluster,
  type ManifestWork,
  type Placement,
  type ResourceProblem,
  type Taint,
} from './index.ts';
import { EXAMPLES } from './testing/examples.ts';
import { withField } from './testing/set-field.ts';

/** A copy of the `kind` example with the field at `path` set to `value` (deleted if undefined). */
function broken(kind: keyof typeof EXAMPLES, path: string, value?: unknown): unknown {
  return withField(EXAMPLES[kind], path, value);
}

describe('OCM-shaped examples', () => {
  it('cover every kind we define', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(
      allCrds()
        .map((d) => d.kind)
        .sort(),
    );
  });

  it.each(Object.entries(EXAMPLES))('%s is valid', (_kind, example) => {
    expect(validateResource(example)).toEqual([]);
  });
});

describe('validateResource rejects', () => {
  const cases: { name: string; object: unknown; problems: ResourceProblem[] }[] = [
    {
      name: 'a ManagedCluster taint effect outside the enum',
      object: broken('ManagedCluster', 'spec.taints.0.effect', 'NoSchedule'),
      problems: [
        {
          path: 'spec.taints[0].effect',
          message:
            'unsupported value; supported values: "NoSelect", "PreferNoSelect", "NoSelectIfNew"',
        },
      ],
    },
    {
      name: 'a capacity that is not a quantity',
      object: broken('ManagedCluster', 'status.capacity.cpu', '8 cores'),
      problems: [
        { path: 'status.capacity.cpu', message: expect.stringMatching(/^must match pattern/) },
      ],
    },
    {
      name: 'a Channel type outside the enum',
      object: broken('Channel', 'spec.type', 'Bucket'),
      problems: [
        {
          path: 'spec.type',
          message: expect.stringMatching(
            /^unsupported value; supported values: "Namespace", "HelmRepo"/,
          ),
        },
      ],
    },
    {
      name: 'a SubscriptionReport result outside the enum',
      object: broken('SubscriptionReport', 'results.0.result', 'ok'),
      problems: [
        {
          path: 'results[0].result',
          message: 'unsupported value; supported values: "deployed", "failed", "propagationFailed"',
        },
      ],
    },
    {
      name: 'a caBundle that is not base64',
      object: broken('ManagedCluster', 'spec.managedClusterClientConfigs.0.caBundle', 'pem!'),
      problems: [
        {
          path: 'spec.managedClusterClientConfigs[0].caBundle',
          message: 'must match format "byte"',
        },
      ],
    },
    {
      name: 'a condition time that is not RFC 3339',
      object: broken('ManagedCluster', 'status.conditions.0.lastTransitionTime', 'now'),
      problems: [
        {
          path: 'status.conditions[0].lastTransitionTime',
          message: 'must match format "date-time"',
        },
      ],
    },
    {
      name: 'an empty ClusterClaim value',
      object: broken('ClusterClaim', 'spec.value', ''),
      problems: [{ path: 'spec.value', message: 'must not have fewer than 1 characters' }],
    },
    {
      name: 'an unknown cluster-set selector type',
      object: broken('ManagedClusterSet', 'spec.clusterSelector.selectorType', 'Label'),
      problems: [
        {
          path: 'spec.clusterSelector.selectorType',
          message:
            'unsupported value; supported values: "ExclusiveClusterSetLabel", "LabelSelector"',
        },
      ],
    },
    {
      name: 'a Placement without spec',
      object: broken('Placement', 'spec'),
      problems: [{ path: 'spec', message: 'required field missing' }],
    },
    {
      name: 'a prioritizer weight above 10',
      object: broken('Placement', 'spec.prioritizerPolicy.configurations.0.weight', 11),
      problems: [
        { path: 'spec.prioritizerPolicy.configurations[0].weight', message: 'must be <= 10' },
      ],
    },
    {
      name: 'a PlacementDecision status without decisions',
      object: broken('PlacementDecision', 'status.decisions'),
      problems: [{ path: 'status.decisions', message: 'required field missing' }],
    },
    {
      name: 'a ManifestWork manifest without kind',
      object: broken('ManifestWork', 'spec.workload.manifests.0.kind'),
      problems: [{ path: 'spec.workload.manifests[0].kind', message: 'required field missing' }],
    },
    {
      name: 'an unknown delete propagation policy',
      object: broken('ManifestWork', 'spec.deleteOption.propagationPolicy', 'Background'),
      problems: [
        {
          path: 'spec.deleteOption.propagationPolicy',
          message:
            'unsupported value; supported values: "Foreground", "Orphan", "SelectivelyOrphan"',
        },
      ],
    },
    {
      name: 'an AppliedManifestWork without hubHash',
      object: broken('AppliedManifestWork', 'spec.hubHash'),
      problems: [{ path: 'spec.hubHash', message: 'required field missing' }],
    },
    {
      name: 'a ManifestWorkReplicaSet without placements',
      object: broken('ManifestWorkReplicaSet', 'spec.placementRefs', []),
      problems: [{ path: 'spec.placementRefs', message: 'must not have fewer than 1 items' }],
    },
    {
      name: 'a ManagedServiceAccount TTL of zero',
      object: broken('ManagedServiceAccount', 'spec.ttlSecondsAfterCreation', 0),
      problems: [{ path: 'spec.ttlSecondsAfterCreation', message: 'must be > 0' }],
    },
    {
      name: 'a Policy without metadata',
      object: broken('Policy', 'metadata'),
      problems: [{ path: 'metadata', message: 'required field missing' }],
    },
    {
      name: 'a Policy remediation action outside the enum',
      object: broken('Policy', 'spec.remediationAction', 'warn'),
      problems: [
        {
          path: 'spec.remediationAction',
          message: 'unsupported value; supported values: "Inform", "inform", "Enforce", "enforce"',
        },
      ],
    },
    {
      name: 'a ConfigurationPolicy dependency that names a namespace',
      object: broken('Policy', 'spec.dependencies.0.kind', 'ConfigurationPolicy'),
      problems: [
        { path: 'spec.dependencies[0].namespace', message: 'must not have more than 0 characters' },
        { path: 'spec.dependencies[0]', message: 'must not be valid' },
        { path: 'spec.dependencies[0]', message: 'must match exactly one schema in oneOf' },
      ],
    },
    {
      name: 'a PlacementBinding pairing the Placement group with kind PlacementRule',
      object: broken('PlacementBinding', 'placementRef.kind', 'PlacementRule'),
      problems: [
        {
          path: 'placementRef.kind',
          message: 'unsupported value; supported values: "Placement"',
        },
        {
          path: 'placementRef.apiGroup',
          message: 'unsupported value; supported values: "apps.open-cluster-management.io"',
        },
        { path: 'placementRef', message: 'must match exactly one schema in oneOf' },
      ],
    },
    {
      name: 'a PolicySet without policies',
      object: broken('PolicySet', 'spec.policies'),
      problems: [{ path: 'spec.policies', message: 'required field missing' }],
    },
    {
      name: 'a ConfigurationPolicy with both object-templates and object-templates-raw',
      object: broken('ConfigurationPolicy', 'spec.object-templates-raw', '- {}'),
      problems: [{ path: 'spec', message: 'must match exactly one schema in oneOf' }],
    },
    {
      name: 'a misspelled compliance type',
      object: broken('ConfigurationPolicy', 'spec.object-templates.0.complianceType', 'musthaves'),
      problems: [
        {
          path: 'spec.object-templates[0].complianceType',
          message: expect.stringMatching(/^unsupported value; supported values: "MustHave", /),
        },
      ],
    },
    {
      name: 'an unknown add-on install strategy',
      object: broken('ClusterManagementAddOn', 'spec.installStrategy.type', 'Auto'),
      problems: [
        {
          path: 'spec.installStrategy.type',
          message: 'unsupported value; supported values: "Manual", "Placements"',
        },
      ],
    },
    {
      name: 'an add-on install namespace that is not a DNS label',
      object: broken('ManagedClusterAddOn', 'spec.installNamespace', 'Agent_NS'),
      problems: [
        {
          path: 'spec.installNamespace',
          message: 'must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"',
        },
      ],
    },
  ];

  it.each(cases)('$name', ({ object, problems }) => {
    expect(validateResource(object)).toEqual(problems);
  });
});

describe('validateResource', () => {
  it('reports unknown fields at any depth, as kubectl --validate=strict does', () => {
    const typo = withField(
      withField(
        broken('ManagedCluster', 'spec.hubAcceptClient', true),
        'status.version.kube',
        'v1',
      ),
      'extra',
      1,
    );
    expect(validateResource(typo)).toEqual([
      { path: 'spec.hubAcceptClient', message: 'unknown field' },
      { path: 'status.version.kube', message: 'unknown field' },
      { path: 'extra', message: 'unknown field' },
    ]);
    expect(validateResource(typo, { unknownFields: 'ignore' })).toEqual([]);
  });

  it('keeps free-form content free: manifests and objectDefinitions take any field', () => {
    const work = broken('ManifestWork', 'spec.workload.manifests.0.anything', { x: [1] });
    const policy = broken('Policy', 'spec.policy-templates.0.objectDefinition.x', 1);
    expect([...validateResource(work), ...validateResource(policy)]).toEqual([]);
  });

  it('refuses kinds and versions we do not serve', () => {
    const old = broken(
      'ManagedCluster',
      'apiVersion',
      'cluster.open-cluster-management.io/v1beta1',
    );
    expect(validateResource(old)).toEqual([
      {
        path: 'apiVersion',
        message: 'no served kind ManagedCluster in cluster.open-cluster-management.io/v1beta1',
      },
    ]);
    expect(validateResource({ apiVersion: 'v1', kind: 'Pod' })).toEqual([
      { path: 'apiVersion', message: 'no served kind Pod in v1' },
    ]);
    expect(validateResource('x')).toEqual([{ path: '', message: 'must be an object' }]);
  });

  it('fills in defaults before checking required fields, as the API server does, on a copy', () => {
    const mwrs = broken('ManifestWorkReplicaSet', 'spec.cascadeDeletionPolicy');
    const before = structuredClone(mwrs);
    expect(validateResource(mwrs)).toEqual([]);
    expect(mwrs).toEqual(before);
    const placement = broken(
      'Placement',
      'spec.prioritizerPolicy.configurations.0.scoreCoordinate.type',
    );
    expect(validateResource(placement)).toEqual([]);
  });

  it('accepts the deprecated ManagedServiceAccount v1alpha1 with the same fields', () => {
    const alpha = broken(
      'ManagedServiceAccount',
      'apiVersion',
      'authentication.open-cluster-management.io/v1alpha1',
    );
    expect(validateResource(alpha)).toEqual([]);
  });
});

describe('the TS types', () => {
  it('reject at compile time what the schemas reject at run time', () => {
    // Each line below must fail to compile (tsc runs before the tests); at run time the
    // schema says the same.
    // @ts-expect-error: not a taint effect
    const taint: Taint = { key: 'k', effect: 'NoSchedule' };
    // @ts-expect-error: leaseDurationSeconds is a number
    const spec: ManagedCluster['spec'] = { leaseDurationSeconds: '60' };
    // @ts-expect-error: Placement requires spec
    const placement: Placement = {
      apiVersion: 'cluster.open-cluster-management.io/v1beta1',
      kind: 'Placement',
    };
    const work: ManifestWork = {
      apiVersion: 'work.open-cluster-management.io/v1',
      kind: 'ManifestWork',
      // @ts-expect-error: not a propagation policy
      spec: { deleteOption: { propagationPolicy: 'Background' } },
    };
    expect([taint, spec, placement, work]).toHaveLength(4);
    expect(
      validateResource({ ...EXAMPLES.ManagedCluster, spec: { taints: [taint] } }),
    ).toHaveLength(1);
  });
});
