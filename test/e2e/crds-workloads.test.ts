// OCM work, service-account, policy and add-on kinds on a real API server (see crds.test.ts):
// defaults, free-form content kept, printer columns, status through the subresource, refusals.
import { describe, expect, inject, it } from 'vitest';

import {
  validateResource,
  type ClusterManagementAddOn,
  type ConfigurationPolicy,
  type ManagedClusterAddOn,
  type ManagedServiceAccount,
  type ManifestWork,
  type ManifestWorkReplicaSet,
  type PlacementBinding,
} from '../../hub/api/index.ts';
import { condition, fixture, kube, unique, useOcmCrds, withField } from './crds-kit.ts';

const hub = kube(inject('hub'));
const spoke = kube(inject('spoke1'));
useOcmCrds(hub, spoke);

describe('ManifestWork and ManifestWorkReplicaSet', () => {
  it('keep whole manifests, default options, and carry feedback through status', async () => {
    const namespace = await hub.namespace();
    await hub.apply(fixture('manifestwork.yaml'), namespace);
    const work = await hub.json<ManifestWork>(['manifestwork', 'hello-work', '-n', namespace]);
    const [deployment, configMap] = work.spec?.workload?.manifests ?? [];
    expect(deployment).toMatchObject({
      spec: {
        template: { spec: { containers: [{ command: ['sh', '-c', 'echo hello && sleep 3600'] }] } },
      },
    });
    expect(configMap?.['data']).toEqual({ greeting: 'hello' });
    expect(work.spec?.deleteOption).toEqual({
      propagationPolicy: 'Foreground',
      ttlSecondsAfterFinished: 3600,
    });
    expect(work.spec?.manifestConfigs?.[0]?.feedbackScrapeType).toBe('Poll');
    expect(work.spec?.manifestConfigs?.[1]?.updateStrategy).toEqual({
      type: 'ServerSideApply',
      serverSideApply: { force: true, fieldManager: 'work-agent' },
    });

    const meta = {
      ordinal: 0,
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      resource: 'deployments',
    };
    await hub.patchStatus(['manifestwork', 'hello-work', '-n', namespace], {
      conditions: [condition('Applied', 'True', 'AppliedManifestWorkComplete')],
      resourceStatus: {
        manifests: [
          {
            resourceMeta: { ...meta, name: 'hello', namespace: 'default' },
            statusFeedback: {
              values: [
                { name: 'ReadyReplicas', fieldValue: { type: 'Integer', integer: 1 } },
                { name: 'isAvailable', fieldValue: { type: 'String', string: 'True' } },
              ],
            },
            conditions: [condition('Available', 'True', 'ResourceAvailable')],
          },
        ],
      },
    } satisfies ManifestWork['status']);
    const feedback =
      '{.status.resourceStatus.manifests[0].statusFeedback.values[0].fieldValue.integer}';
    expect(await hub.jsonpath(['manifestwork', 'hello-work', '-n', namespace], feedback)).toBe('1');
    expect(
      validateResource(await hub.json(['manifestwork', 'hello-work', '-n', namespace])),
    ).toEqual([]);

    const [noKind] = fixture<[ManifestWork]>('manifestwork.yaml');
    const broken = withField(
      { ...noKind, metadata: { name: 'no-kind' } },
      'spec.workload.manifests.1.kind',
      undefined,
    );
    expect(await hub.refused([broken], namespace)).toContain(
      'spec.workload.manifests[1].kind: Required value',
    );

    await hub.apply(fixture('manifestworkreplicaset.yaml'), namespace);
    const mwrs = await hub.json<ManifestWorkReplicaSet>(['mwrs', 'hello-mwrs', '-n', namespace]);
    expect(mwrs.spec?.cascadeDeletionPolicy).toBe('Background');
    expect(mwrs.spec?.placementRefs[0]?.rolloutStrategy?.progressive).toEqual({
      maxConcurrency: '50%',
      maxFailures: 0,
      minSuccessTime: '0',
      progressDeadline: 'None',
    });
  });
});

describe('ManagedServiceAccount', () => {
  it('defaults rotation, serves the deprecated v1alpha1 with a warning, and refuses a zero TTL', async () => {
    const namespace = await hub.namespace();
    const [msa] = fixture<[ManagedServiceAccount]>('managed-serviceaccount.yaml');
    await hub.apply([msa], namespace);
    const stored = await hub.json<ManagedServiceAccount>([
      'managedserviceaccount',
      'my-sample',
      '-n',
      namespace,
    ]);
    expect(stored.spec?.rotation).toEqual({ enabled: true, validity: '8640h0m0s' });

    const alpha = 'managedserviceaccounts.v1alpha1.authentication.open-cluster-management.io';
    const res = await hub.run(['get', alpha, 'my-sample', '-n', namespace, '-o', 'name']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('v1alpha1 ManagedServiceAccount is deprecated');

    const ephemeral = withField(
      { ...msa, metadata: { name: 'ephemeral' } },
      'spec.ttlSecondsAfterCreation',
      0,
    );
    expect(await hub.refused([ephemeral], namespace)).toContain(
      'spec.ttlSecondsAfterCreation: Invalid value: 0',
    );
  });
});

describe('Policy, PlacementBinding, PolicySet and ConfigurationPolicy', () => {
  it('keep the free-form object templates and print the policy columns', async () => {
    const namespace = await hub.namespace();
    const docs =
      fixture<
        [
          { spec: { 'policy-templates': { objectDefinition: ConfigurationPolicy }[] } },
          unknown,
          PlacementBinding,
          unknown,
        ]
      >('policy.yaml');
    await hub.apply(docs, namespace);

    const plc = ['plc', 'policy-namespace', '-n', namespace];
    const team =
      '{.spec.policy-templates[0].objectDefinition.spec.object-templates[0].objectDefinition.metadata.labels.team}';
    expect(await hub.jsonpath(plc, team)).toBe('platform');
    expect((await hub.table(['policies', '-n', namespace]))[0]).toEqual([
      'NAME',
      'REMEDIATION ACTION',
      'COMPLIANCE STATE',
      'AGE',
    ]);
    expect(
      await hub.jsonpath(
        ['pb', 'binding-policy-namespace', '-n', namespace],
        '{.subjects[0].name}',
      ),
    ).toBe('policy-namespace');
    expect(await hub.jsonpath(['plcset', 'baseline', '-n', namespace], '{.spec.policies}')).toBe(
      '["policy-namespace"]',
    );

    await hub.patchStatus(plc, {
      compliant: 'NonCompliant',
      status: [
        { clustername: 'cluster1', clusternamespace: 'cluster1', compliant: 'NonCompliant' },
      ],
    });
    expect((await hub.table(plc))[1]?.slice(0, 3)).toEqual([
      'policy-namespace',
      'inform',
      'NonCompliant',
    ]);

    // The template's ConfigurationPolicy, applied as the framework does on a cluster, with
    // remediationAction left to its default.
    const template = docs[0].spec['policy-templates'][0]?.objectDefinition;
    await hub.apply([withField(template, 'spec.remediationAction', undefined)], namespace);
    const stored = await hub.json<ConfigurationPolicy>([
      'configurationpolicy',
      'policy-namespace-example',
      '-n',
      namespace,
    ]);
    expect(stored.spec).toMatchObject({ remediationAction: 'inform', pruneObjectBehavior: 'None' });
    expect(stored.spec['object-templates']?.[0]?.recreateOption).toBe('None');

    const badBinding = withField(
      { ...docs[2], metadata: { name: 'bad-binding' } },
      'placementRef.kind',
      'PlacementRule',
    );
    const refusal = await hub.refused([badBinding], namespace);
    expect(refusal).toContain('"placementRef" must validate one and only one schema (oneOf)');
    expect(refusal).toContain(
      'placementRef.kind: Unsupported value: "PlacementRule": supported values: "Placement"',
    );
  });
});

describe('ClusterManagementAddOn and ManagedClusterAddOn', () => {
  it('default the install strategy and namespace, and report Available through status', async () => {
    const namespace = await hub.namespace();
    const [cma, mca] = fixture<[ClusterManagementAddOn, ManagedClusterAddOn]>('addon.yaml');
    const name = unique('cluster-proxy');
    await hub.apply([{ ...cma, metadata: { ...cma.metadata, name } }]);
    hub.cleanup('clustermanagementaddon', name);
    await hub.apply([{ ...mca, metadata: { name } }], namespace);

    expect(await hub.jsonpath(['cma', name], '{.spec.installStrategy.type}')).toBe('Manual');
    expect(await hub.table(['cma', name])).toEqual([
      ['NAME', 'DISPLAY NAME', 'CRD NAME'],
      [name, 'Cluster Proxy'],
    ]);
    const mcaTarget = ['mca', name, '-n', namespace];
    expect(await hub.jsonpath(mcaTarget, '{.spec.installNamespace}')).toBe(
      'open-cluster-management-agent-addon',
    );
    await hub.patchStatus(mcaTarget, {
      conditions: [condition('Available', 'True', 'ManagedClusterAddOnLeaseUpdated')],
    } satisfies ManagedClusterAddOn['status']);
    expect(await hub.table(['managedclusteraddons', name, '-n', namespace])).toEqual([
      ['NAME', 'AVAILABLE', 'DEGRADED', 'PROGRESSING'],
      [name, 'True'],
    ]);
  });
});
