import { describe, expect, it } from 'vitest';

import type { Subscription } from '../../api/index.ts';
import { desiredWork, hostingLabelValue, prepareObjects, scopeKey, workName } from './delivery.ts';
import type { SourceObject } from './package-filter.ts';
import type { KindScope } from './resource-scopes.ts';

const sub = (annotations: Record<string, string> = {}): Subscription => ({
  apiVersion: 'apps.open-cluster-management.io/v1',
  kind: 'Subscription',
  metadata: { name: 'web', namespace: 'team-a', uid: 'u1', annotations },
  spec: { channel: 'ch/git' },
});
const PRIVILEGED = { 'apps.open-cluster-management.io/cluster-admin': 'true' };
const scopes = new Map<string, KindScope | undefined>([
  [scopeKey('v1', 'ConfigMap'), { namespaced: true, resource: 'configmaps' }],
  [scopeKey('v1', 'Namespace'), { namespaced: false, resource: 'namespaces' }],
  [
    scopeKey('rbac.authorization.k8s.io/v1', 'ClusterRole'),
    { namespaced: false, resource: 'clusterroles' },
  ],
  [scopeKey('example.com/v1', 'Widget'), undefined],
]);
const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
  annotations?: Record<string, string>,
): SourceObject => ({
  apiVersion,
  kind,
  metadata: {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(annotations === undefined ? {} : { annotations }),
  },
});
const HOSTING = { 'apps.open-cluster-management.io/hosting-subscription': 'team-a/web' };

describe('prepareObjects', () => {
  it('forces namespaced objects of an unprivileged subscription into its namespace and annotates them', () => {
    const out = prepareObjects(
      sub(),
      [obj('v1', 'ConfigMap', 'a', 'kube-system'), obj('v1', 'ConfigMap', 'b')],
      scopes,
    );
    expect(out.map((o) => o.manifest.metadata)).toEqual([
      { name: 'a', namespace: 'team-a', annotations: HOSTING },
      { name: 'b', namespace: 'team-a', annotations: HOSTING },
    ]);
  });

  it('leaves Namespace objects out of an unprivileged subscription', () => {
    expect(prepareObjects(sub(), [obj('v1', 'Namespace', 'other')], scopes)).toEqual([]);
  });

  it.each([
    {
      name: 'a cluster-scoped kind',
      object: obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'admin-ish'),
      message:
        'ClusterRole "admin-ish" (rbac.authorization.k8s.io/v1) is cluster-scoped; only a subscription annotated apps.open-cluster-management.io/cluster-admin: "true" by a cluster-admin may deliver cluster-scoped objects',
    },
    {
      name: 'a kind the hub does not serve',
      object: obj('example.com/v1', 'Widget', 'w'),
      message:
        'Widget "w" (example.com/v1): the hub does not serve this kind, so its scope cannot be checked; only a subscription annotated apps.open-cluster-management.io/cluster-admin: "true" by a cluster-admin may deliver it',
    },
    {
      name: 'an object without a name',
      object: obj('v1', 'ConfigMap', ''),
      message: 'a ConfigMap (v1) has no metadata.name',
    },
  ])('refuses $name to an unprivileged subscription', ({ object, message }) => {
    expect(() => prepareObjects(sub(), [object], scopes)).toThrow(message);
  });

  it('lets a privileged subscription keep namespaces and deliver cluster-scoped and unknown kinds', () => {
    const out = prepareObjects(
      sub(PRIVILEGED),
      [
        obj('v1', 'ConfigMap', 'a', 'kube-system'),
        obj('v1', 'ConfigMap', 'b'),
        obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'r', 'ignored'),
        obj('v1', 'Namespace', 'other'),
        obj('example.com/v1', 'Widget', 'w', 'x'),
      ],
      scopes,
    );
    expect(
      out.map((o) => [o.manifest.kind, o.manifest.metadata?.name, o.manifest.metadata?.namespace]),
    ).toEqual([
      ['ConfigMap', 'a', 'kube-system'],
      ['ConfigMap', 'b', 'team-a'],
      ['ClusterRole', 'r', undefined],
      ['Namespace', 'other', undefined],
      ['Widget', 'w', 'x'],
    ]);
  });

  it('keeps the last of duplicate documents and orphans do-not-delete objects', () => {
    const keep = { 'apps.open-cluster-management.io/do-not-delete': 'true' };
    const out = prepareObjects(
      sub(),
      [
        obj('v1', 'ConfigMap', 'a'),
        { ...obj('v1', 'ConfigMap', 'a', undefined, keep), data: { v: '2' } },
      ],
      scopes,
    );
    expect(out).toHaveLength(1);
    expect(out[0]?.manifest['data']).toEqual({ v: '2' });
    expect(out[0]?.orphan).toEqual({
      group: '',
      resource: 'configmaps',
      name: 'a',
      namespace: 'team-a',
    });
  });
});

describe('desiredWork', () => {
  it('is OCM-named and labelled, brings the namespace and orphans it', () => {
    const objects = prepareObjects(sub(), [obj('v1', 'ConfigMap', 'a')], scopes);
    const work = desiredWork(sub(), 'cluster1', objects);
    expect(work.metadata).toEqual({
      name: 'team-a-web',
      namespace: 'cluster1',
      labels: { 'apps.open-cluster-management.io/hosting-subscription': 'team-a.web' },
      annotations: HOSTING,
    });
    expect(work.spec?.workload?.manifests?.map((m) => `${m.kind}/${m.metadata?.name}`)).toEqual([
      'Namespace/team-a',
      'ConfigMap/a',
    ]);
    expect(work.spec?.deleteOption).toEqual({
      propagationPolicy: 'SelectivelyOrphan',
      selectivelyOrphans: {
        orphaningRules: [{ group: '', resource: 'namespaces', name: 'team-a' }],
      },
    });
  });

  it('cuts long names to valid label values and object names', () => {
    const long = 'n'.repeat(60);
    expect(hostingLabelValue(long, 'abc')).toBe(`${long}.ab`);
    expect(hostingLabelValue('a'.repeat(62), 'b')).toBe('a'.repeat(62));
    expect(workName('ns', 'x'.repeat(300))).toHaveLength(253);
  });
});
