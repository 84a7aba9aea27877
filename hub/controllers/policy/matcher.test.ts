import { describe, expect, it } from 'vitest';

import type { ObjectTemplate } from '../../api/index.ts';
import { policyMessage, templateStatus } from './compliance-message.ts';
import {
  evaluateTemplate,
  parseTemplate,
  relatedObjects,
  templateNamespaces,
  type KindInfo,
  type ParsedTemplate,
  type PlannedAction,
} from './matcher.ts';
import { selectNamespaces, type NamespaceSelector } from './namespace-selector.ts';
import type { JsonMap } from './object-compare.ts';

const CONFIGMAPS: KindInfo = { resource: 'configmaps', namespaced: true };
const NAMESPACES: KindInfo = { resource: 'namespaces', namespaced: false };
const ROLES: KindInfo = { resource: 'roles', namespaced: true };
const PODS: KindInfo = { resource: 'pods', namespaced: true };

function cm(namespace: string, name: string, extra: JsonMap = {}): JsonMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, resourceVersion: '7', uid: `uid-${name}` },
    ...extra,
  };
}

interface Case {
  readonly name: string;
  readonly template: Partial<ObjectTemplate>;
  readonly kind?: KindInfo;
  /** Namespaces the namespaceSelector selected. */
  readonly selected?: readonly string[];
  /** Objects on the cluster by namespace ('' cluster-scoped). */
  readonly cluster: Record<string, readonly JsonMap[]>;
  readonly enforce?: boolean;
  readonly compliant: boolean;
  readonly message: string;
  readonly actions?: readonly Pick<PlannedAction, 'verb' | 'namespace' | 'name'>[];
  readonly check?: (actions: readonly PlannedAction[]) => void;
}

function run(c: Case) {
  const parsed = parseTemplate(c.template);
  if ('error' in parsed) throw new Error(parsed.error);
  const kind = c.kind ?? CONFIGMAPS;
  const namespaces = templateNamespaces(parsed, kind, c.selected ?? []);
  const evaluation = evaluateTemplate(
    parsed,
    namespaces,
    (ns) => c.cluster[ns] ?? [],
    c.enforce ?? false,
  );
  return { parsed, kind, evaluation, status: templateStatus(kind.resource, evaluation.results) };
}

const musthaveData = (data: JsonMap, name = 'cfg'): Partial<ObjectTemplate> => ({
  complianceType: 'musthave',
  objectDefinition: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data },
});

const cases: Case[] = [
  // --- musthave, named
  {
    name: 'musthave: a subset of an existing map is compliant',
    template: musthaveData({ a: '1' }),
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg', { data: { a: '1', b: '2' } })] },
    compliant: true,
    message: 'configmaps [cfg] found as specified in namespace default',
  },
  {
    name: 'musthave: a different value is found but not as specified',
    template: musthaveData({ a: '2' }),
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg', { data: { a: '1' } })] },
    compliant: false,
    message: 'configmaps [cfg] found but not as specified in namespace default',
  },
  {
    name: 'musthave: a missing object is not found',
    template: musthaveData({ a: '1' }),
    selected: ['default'],
    cluster: {},
    compliant: false,
    message: 'configmaps [cfg] not found in namespace default',
  },
  {
    name: 'musthave enforce: a missing object is created, with the namespace set and no status',
    template: {
      complianceType: 'MustHave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg' },
        data: { a: '1' },
        status: { x: 1 },
      },
    },
    selected: ['default'],
    cluster: {},
    enforce: true,
    compliant: true,
    message: 'configmaps [cfg] was created successfully in namespace default',
    actions: [{ verb: 'create', namespace: 'default', name: 'cfg' }],
    check: (actions) =>
      expect(actions[0]?.object).toEqual({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: 'default' },
        data: { a: '1' },
      }),
  },
  {
    name: 'musthave enforce: a mismatch is updated with the merge (extra keys kept)',
    template: musthaveData({ a: '2' }),
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg', { data: { a: '1', b: '2' } })] },
    enforce: true,
    compliant: true,
    message: 'configmaps [cfg] was updated successfully in namespace default',
    actions: [{ verb: 'update', namespace: 'default', name: 'cfg' }],
    check: (actions) => {
      expect(actions[0]?.object.data).toEqual({ a: '2', b: '2' });
      expect((actions[0]?.object.metadata as JsonMap).resourceVersion).toBe('7');
    },
  },
  {
    name: 'musthave: a quantity equals its other spelling',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'apps' },
        spec: { containers: [{ name: 'c', resources: { limits: { memory: '1Gi' } } }] },
      },
    },
    kind: PODS,
    cluster: {
      apps: [
        {
          metadata: { name: 'p', namespace: 'apps' },
          spec: {
            containers: [{ name: 'c', image: 'x', resources: { limits: { memory: '1024Mi' } } }],
          },
        },
      ],
    },
    compliant: true,
    message: 'pods [p] found as specified in namespace apps',
  },
  {
    name: 'musthave: an omitted field counts as its zero value',
    template: musthaveData({}, 'cfg'),
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg')] },
    compliant: true,
    message: 'configmaps [cfg] found as specified in namespace default',
  },
  // --- lists
  {
    name: 'musthave lists: a template item equal to an existing one matches, order ignored',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'r', namespace: 'apps' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
      },
    },
    kind: ROLES,
    cluster: {
      apps: [
        {
          metadata: { name: 'r', namespace: 'apps' },
          rules: [
            { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
            { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
          ],
        },
      ],
    },
    compliant: true,
    message: 'roles [r] found as specified in namespace apps',
  },
  {
    name: 'musthave lists enforce: an unmatched item is appended, existing items kept',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'r', namespace: 'apps' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
      },
    },
    kind: ROLES,
    cluster: {
      apps: [
        {
          metadata: { name: 'r', namespace: 'apps' },
          rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
        },
      ],
    },
    enforce: true,
    compliant: true,
    message: 'roles [r] was updated successfully in namespace apps',
    actions: [{ verb: 'update', namespace: 'apps', name: 'r' }],
    check: (actions) =>
      expect(actions[0]?.object.rules).toEqual([
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      ]),
  },
  {
    name: 'musthave lists: items with the same name are merged',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'apps' },
        spec: { containers: [{ name: 'web', image: 'nginx:2' }] },
      },
    },
    kind: PODS,
    cluster: {
      apps: [
        {
          metadata: { name: 'p', namespace: 'apps' },
          spec: {
            containers: [
              { name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }] },
              { name: 'side', image: 'busybox' },
            ],
          },
        },
      ],
    },
    enforce: true,
    compliant: true,
    message: 'pods [p] was updated successfully in namespace apps',
    actions: [{ verb: 'update', namespace: 'apps', name: 'p' }],
    check: (actions) =>
      expect((actions[0]?.object.spec as JsonMap).containers).toEqual([
        { name: 'web', image: 'nginx:2', ports: [{ containerPort: 80 }] },
        { name: 'side', image: 'busybox' },
      ]),
  },
  // --- mustonlyhave
  {
    name: 'mustonlyhave: an extra map key is a mismatch',
    template: { ...musthaveData({ a: '1' }), complianceType: 'mustonlyhave' },
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg', { data: { a: '1', b: '2' } })] },
    compliant: false,
    message: 'configmaps [cfg] found but not as specified in namespace default',
  },
  {
    name: 'mustonlyhave enforce: the template replaces the map',
    template: { ...musthaveData({ a: '1' }), complianceType: 'MustOnlyHave' },
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg', { data: { a: '1', b: '2' } })] },
    enforce: true,
    compliant: true,
    message: 'configmaps [cfg] was updated successfully in namespace default',
    actions: [{ verb: 'update', namespace: 'default', name: 'cfg' }],
    check: (actions) => expect(actions[0]?.object.data).toEqual({ a: '1' }),
  },
  {
    name: 'mustonlyhave: lists are equal as sets',
    template: {
      complianceType: 'mustonlyhave',
      objectDefinition: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'r', namespace: 'apps' },
        rules: [
          { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
        ],
      },
    },
    kind: ROLES,
    cluster: {
      apps: [
        {
          metadata: { name: 'r', namespace: 'apps' },
          rules: [
            { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
            { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
          ],
        },
      ],
    },
    compliant: true,
    message: 'roles [r] found as specified in namespace apps',
  },
  {
    name: 'mustonlyhave: an extra list item is a mismatch',
    template: {
      complianceType: 'mustonlyhave',
      objectDefinition: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'r', namespace: 'apps' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
      },
    },
    kind: ROLES,
    cluster: {
      apps: [
        {
          metadata: { name: 'r', namespace: 'apps' },
          rules: [
            { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
            { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
          ],
        },
      ],
    },
    compliant: false,
    message: 'roles [r] found but not as specified in namespace apps',
  },
  {
    name: 'mustonlyhave: a top-level key the template lacks is a mismatch',
    template: { ...musthaveData({ a: '1' }), complianceType: 'mustonlyhave' },
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg', { data: { a: '1' }, binaryData: { b: 'AA==' } })] },
    compliant: false,
    message: 'configmaps [cfg] found but not as specified in namespace default',
  },
  {
    name: "mustonlyhave: a ServiceAccount's secrets and imagePullSecrets are kept",
    template: {
      complianceType: 'mustonlyhave',
      objectDefinition: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' } },
    },
    kind: { resource: 'serviceaccounts', namespaced: true },
    selected: ['apps'],
    cluster: {
      apps: [
        {
          metadata: { name: 'sa', namespace: 'apps' },
          secrets: [{ name: 's' }],
          imagePullSecrets: [{ name: 'p' }],
        },
      ],
    },
    compliant: true,
    message: 'serviceaccounts [sa] found as specified in namespace apps',
  },
  // --- metadata and status
  {
    name: 'metadata: name, namespace and other fields are not compared; labels are',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod', labels: { env: 'prod' }, uid: 'other', generation: 9 },
      },
    },
    kind: NAMESPACES,
    cluster: { '': [{ metadata: { name: 'prod', labels: { env: 'prod', team: 'a' } } }] },
    compliant: true,
    message: 'namespaces [prod] found as specified',
  },
  {
    name: 'metadata: a missing label is a mismatch',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod', labels: { env: 'prod' } },
      },
    },
    kind: NAMESPACES,
    cluster: { '': [{ metadata: { name: 'prod', labels: { env: 'dev' } } }] },
    compliant: false,
    message: 'namespaces [prod] found but not as specified',
  },
  {
    name: 'metadata: last-applied-configuration is ignored under mustonlyhave',
    template: {
      complianceType: 'mustonlyhave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: 'default', annotations: { a: 'b' } },
      },
    },
    cluster: {
      default: [
        {
          metadata: {
            name: 'cfg',
            namespace: 'default',
            annotations: { a: 'b', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
          },
        },
      ],
    },
    compliant: true,
    message: 'configmaps [cfg] found as specified in namespace default',
  },
  {
    name: 'metadataComplianceType mustonlyhave: an extra label is a mismatch under musthave',
    template: {
      complianceType: 'musthave',
      metadataComplianceType: 'mustonlyhave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod', labels: { env: 'prod' } },
      },
    },
    kind: NAMESPACES,
    cluster: { '': [{ metadata: { name: 'prod', labels: { env: 'prod', team: 'a' } } }] },
    compliant: false,
    message: 'namespaces [prod] found but not as specified',
  },
  {
    name: 'status: compared, and a mismatch is never written under enforce',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod' },
        status: { phase: 'Active' },
      },
    },
    kind: NAMESPACES,
    cluster: { '': [{ metadata: { name: 'prod' }, status: { phase: 'Terminating' } }] },
    enforce: true,
    compliant: false,
    message: 'namespaces [prod] found but not as specified',
    actions: [],
  },
  // --- mustnothave
  {
    name: 'mustnothave: an existing object is found',
    template: { ...musthaveData({}), complianceType: 'mustnothave' },
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg')] },
    compliant: false,
    message: 'configmaps [cfg] found in namespace default',
  },
  {
    name: 'mustnothave: a missing object is missing as expected',
    template: { ...musthaveData({}), complianceType: 'mustnothave' },
    selected: ['default'],
    cluster: {},
    compliant: true,
    message: 'configmaps [cfg] missing as expected in namespace default',
  },
  {
    name: 'mustnothave: an object that does not match the template is missing as expected',
    template: { ...musthaveData({ a: '1' }), complianceType: 'mustnothave' },
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg', { data: { a: '2' } })] },
    compliant: true,
    message: 'configmaps [cfg] missing as expected in namespace default',
  },
  {
    name: 'mustnothave enforce: a matching object is deleted',
    template: { ...musthaveData({}), complianceType: 'MustNotHave' },
    selected: ['default'],
    cluster: { default: [cm('default', 'cfg')] },
    enforce: true,
    compliant: true,
    message: 'configmaps [cfg] was deleted successfully in namespace default',
    actions: [{ verb: 'delete', namespace: 'default', name: 'cfg' }],
  },
  // --- namespaces
  {
    name: 'several namespaces with the same outcome are merged',
    template: musthaveData({ a: '1' }),
    selected: ['n1', 'n2', 'n3'],
    cluster: {
      n1: [cm('n1', 'cfg', { data: { a: '1' } })],
      n2: [cm('n2', 'cfg', { data: { a: '1' } })],
      n3: [cm('n3', 'cfg', { data: { a: '1' } })],
    },
    compliant: true,
    message: 'configmaps [cfg] found as specified in namespaces: n1, n2, n3',
  },
  {
    name: 'one noncompliant namespace: only the violations are reported',
    template: musthaveData({ a: '1' }),
    selected: ['n1', 'n2'],
    cluster: { n1: [cm('n1', 'cfg', { data: { a: '1' } })] },
    compliant: false,
    message: 'configmaps [cfg] not found in namespace n2',
  },
  {
    name: 'enforce: created in one namespace, found in another (compliant outcomes in order)',
    template: musthaveData({ a: '1' }),
    selected: ['n1', 'n2'],
    cluster: { n2: [cm('n2', 'cfg', { data: { a: '1' } })] },
    enforce: true,
    compliant: true,
    message:
      'configmaps [cfg] found as specified in namespace n2; configmaps [cfg] was created successfully in namespace n1',
    actions: [{ verb: 'create', namespace: 'n1', name: 'cfg' }],
  },
  {
    name: "the template's own namespace wins over the selector",
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: 'own' },
      },
    },
    selected: ['n1'],
    cluster: { own: [cm('own', 'cfg')], n1: [] },
    compliant: true,
    message: 'configmaps [cfg] found as specified in namespace own',
  },
  {
    name: 'a missing namespace (no namespace in the template, none selected) is a violation',
    template: musthaveData({ a: '1' }),
    selected: [],
    cluster: {},
    compliant: false,
    message:
      'namespaced object cfg of kind ConfigMap has no namespace specified from the policy namespaceSelector nor the object metadata',
  },
  {
    name: 'cluster-scoped kinds ignore the namespaceSelector',
    template: {
      complianceType: 'musthave',
      objectDefinition: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } },
    },
    kind: NAMESPACES,
    selected: ['a', 'b'],
    cluster: { '': [{ metadata: { name: 'prod' } }] },
    compliant: true,
    message: 'namespaces [prod] found as specified',
  },
  {
    name: 'a namespace named by the template that does not exist: not found there',
    template: {
      complianceType: 'musthave',
      objectDefinition: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: 'ghost' },
      },
    },
    cluster: {},
    compliant: false,
    message: 'configmaps [cfg] not found in namespace ghost',
  },
  // --- unnamed
  {
    name: 'unnamed musthave: any matching object of the kind complies',
    template: {
      complianceType: 'musthave',
      objectDefinition: { apiVersion: 'v1', kind: 'ConfigMap', data: { role: 'db' } },
    },
    selected: ['default'],
    cluster: {
      default: [
        cm('default', 'a', { data: { role: 'web' } }),
        cm('default', 'b', { data: { role: 'db' } }),
      ],
    },
    compliant: true,
    message: 'configmaps [b] found as specified in namespace default',
  },
  {
    name: 'unnamed musthave: no matching object is not found (and never enforced)',
    template: {
      complianceType: 'musthave',
      objectDefinition: { apiVersion: 'v1', kind: 'ConfigMap', data: { role: 'db' } },
    },
    selected: ['default'],
    cluster: { default: [cm('default', 'a', { data: { role: 'web' } })] },
    enforce: true,
    compliant: false,
    message: 'configmaps not found in namespace default',
    actions: [],
  },
  {
    name: 'unnamed mustnothave: matching objects are found, by name',
    template: {
      complianceType: 'mustnothave',
      objectDefinition: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
      },
    },
    kind: ROLES,
    selected: ['apps'],
    cluster: {
      apps: [
        {
          metadata: { name: 'z-admin', namespace: 'apps' },
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        },
        {
          metadata: { name: 'a-admin', namespace: 'apps' },
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        },
        {
          metadata: { name: 'reader', namespace: 'apps' },
          rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
        },
      ],
    },
    enforce: true,
    compliant: false,
    message: 'roles [a-admin, z-admin] found in namespace apps',
    actions: [],
  },
  {
    name: 'unnamed mustnothave: none matching is missing as expected',
    template: {
      complianceType: 'mustnothave',
      objectDefinition: { apiVersion: 'v1', kind: 'ConfigMap', data: { secret: 'yes' } },
    },
    selected: ['n1', 'n2'],
    cluster: { n1: [cm('n1', 'a')] },
    compliant: true,
    message: 'configmaps missing as expected in namespaces: n1, n2',
  },
  {
    name: 'unnamed with objectSelector: each selected object must match',
    template: {
      complianceType: 'musthave',
      objectSelector: { matchLabels: { app: 'web' } },
      objectDefinition: { apiVersion: 'v1', kind: 'ConfigMap', data: { tls: 'on' } },
    },
    selected: ['default'],
    cluster: {
      default: [
        { metadata: { name: 'a', labels: { app: 'web' } }, data: { tls: 'on' } },
        { metadata: { name: 'b', labels: { app: 'web' } }, data: { tls: 'off' } },
        { metadata: { name: 'c' }, data: { tls: 'off' } },
      ],
    },
    compliant: false,
    message: 'configmaps [b] found but not as specified in namespace default',
  },
  {
    name: 'unnamed and missing namespace',
    template: {
      complianceType: 'musthave',
      objectDefinition: { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } },
    },
    selected: [],
    cluster: {},
    compliant: false,
    message:
      'namespaced object of kind ConfigMap has no namespace specified from the policy namespaceSelector nor the object metadata',
  },
];

describe('evaluateTemplate', () => {
  it.each(cases)('$name', (c) => {
    const { evaluation, status } = run(c);
    expect(status.message).toBe(c.message);
    expect(status.isCompliant).toBe(c.compliant);
    if (c.actions !== undefined) {
      expect(
        evaluation.actions.map(({ verb, namespace, name }) => ({ verb, namespace, name })),
      ).toEqual(c.actions);
    }
    if (c.enforce !== true) expect(evaluation.actions).toEqual([]);
    c.check?.(evaluation.actions);
  });

  it('reports related objects per name with their outcome, sorted', () => {
    const { parsed, kind, evaluation } = run(
      cases.find((c) => c.name.startsWith('unnamed mustnothave: matching'))!,
    );
    expect(relatedObjects(parsed, kind, evaluation.results)).toEqual([
      {
        object: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'a-admin', namespace: 'apps' },
        },
        compliant: 'NonCompliant',
        reason: 'Resource found but should not exist',
      },
      {
        object: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'z-admin', namespace: 'apps' },
        },
        compliant: 'NonCompliant',
        reason: 'Resource found but should not exist',
      },
    ]);
  });

  it('names a cluster-scoped related object without a namespace', () => {
    const { parsed, kind, evaluation } = run(
      cases.find((c) => c.name.startsWith('cluster-scoped'))!,
    );
    expect(relatedObjects(parsed, kind, evaluation.results)).toEqual([
      {
        object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } },
        compliant: 'Compliant',
        reason: 'Resource found as expected',
      },
    ]);
  });
});

describe('parseTemplate', () => {
  it.each([
    [
      'an unknown complianceType',
      { complianceType: 'mayhave', objectDefinition: {} },
      'complianceType "mayhave" is not musthave, mustonlyhave or mustnothave',
    ],
    ['no objectDefinition', { complianceType: 'musthave' }, 'objectDefinition is not an object'],
    [
      'no kind',
      { complianceType: 'musthave', objectDefinition: { apiVersion: 'v1' } },
      'objectDefinition has no kind',
    ],
    [
      'no apiVersion',
      { complianceType: 'musthave', objectDefinition: { kind: 'Pod' } },
      'objectDefinition has no apiVersion',
    ],
    [
      'a name that is not a string',
      {
        complianceType: 'musthave',
        objectDefinition: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 3 } },
      },
      'objectDefinition.metadata.name and .namespace must be strings',
    ],
  ])('refuses %s', (_what, template, error) => {
    expect(parseTemplate(template as Partial<ObjectTemplate>)).toEqual({ error });
  });

  it('folds the case of complianceType and defaults metadataComplianceType to it', () => {
    const parsed = parseTemplate({
      complianceType: 'MustOnlyHave',
      objectDefinition: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
    }) as ParsedTemplate;
    expect(parsed.compliance).toBe('mustonlyhave');
    expect(parsed.metadataCompliance).toBe('mustonlyhave');
  });
});

describe('selectNamespaces', () => {
  const all = [
    { name: 'default' },
    { name: 'kube-system' },
    { name: 'kube-public' },
    { name: 'app-1', labels: { env: 'prod' } },
    { name: 'app-2', labels: { env: 'dev' } },
  ];
  it.each<[string, NamespaceSelector | undefined, readonly string[]]>([
    ['nothing set selects nothing', {}, []],
    ['no selector selects nothing', undefined, []],
    [
      'include globs',
      { include: ['kube-*', 'default'] },
      ['default', 'kube-public', 'kube-system'],
    ],
    ['exclude removes', { include: ['*'], exclude: ['kube-*'] }, ['app-1', 'app-2', 'default']],
    ['? and classes', { include: ['app-[1]', 'defaul?'] }, ['app-1', 'default']],
    ['matchLabels alone acts as include *', { matchLabels: { env: 'prod' } }, ['app-1']],
    [
      'matchExpressions ANDed with include',
      { include: ['app-*'], matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] },
      ['app-2'],
    ],
  ])('%s', (_what, selector, expected) => {
    expect(selectNamespaces(selector, all)).toEqual({ ok: true, namespaces: expected });
  });

  it('refuses a malformed pattern', () => {
    expect(selectNamespaces({ include: ['[abc'] }, all)).toEqual({
      ok: false,
      message: 'namespaceSelector.include: "[abc" is not a valid pattern',
    });
  });
});

describe('policyMessage', () => {
  it('prefixes the overall state and labels each template', () => {
    expect(
      policyMessage([
        { isCompliant: true, reason: '', message: 'namespaces [a] found as specified' },
        { isCompliant: false, reason: '', message: 'roles [r] found in namespace b' },
      ]),
    ).toBe(
      'NonCompliant; notification - namespaces [a] found as specified; violation - roles [r] found in namespace b',
    );
    expect(policyMessage([{ isCompliant: true, reason: '', message: 'x' }])).toBe(
      'Compliant; notification - x',
    );
  });
});
