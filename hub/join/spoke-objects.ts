/**
 * The objects `spokelink join` applies to a spoke — what the agent needs there, and nothing
 * else: its namespace and ServiceAccount; a ClusterRole to impersonate (the agent API acts for
 * hub identities, prefixed) and nothing more cluster-wide; a Role over its own Secrets (the
 * bootstrap Secret and the hub certificate it keeps); the binding that lets the hub's
 * controllers act on the spoke (as `spokelink:hub:system:spokelink:controllers`, an identity
 * no hub user can take through the gateway); the bootstrap Secret; and the agent Deployment.
 * Pure: the caller applies them (server-side apply) and deletes them on unjoin.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

import {
  SPOKE_AGENT_NAMESPACE,
  SPOKE_AGENT_SERVICE_ACCOUNT,
  SPOKE_BOOTSTRAP_SECRET,
  SPOKE_HUB_CLIENT_SECRET,
} from '../../protocol/index.ts';
import { HUB_CONTROLLERS_SPOKE_GROUP } from '../../proxy-server/index.ts';

/** ClusterRole (and its binding) that lets the agent impersonate, and do nothing else. */
export const AGENT_IMPERSONATOR_ROLE = 'spokelink-agent-impersonator';
/** ClusterRoleBinding of the hub controllers' group to cluster-admin. */
export const HUB_CONTROLLERS_BINDING = 'spokelink-hub-controllers';
/** Role (and binding) over the agent's own Secrets. */
export const AGENT_SECRETS_ROLE = 'spokelink-agent-secrets';
/** The agent Deployment. */
export const AGENT_DEPLOYMENT = 'spokelink-agent';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'spokelink' };

/** What join was told. */
export interface JoinSpec {
  /** `https://host:port` of the hub's registration API. */
  readonly hub: string;
  readonly token: string;
  readonly clusterName: string;
  readonly agentName: string;
  readonly caHash?: string;
  readonly transport: 'grpc' | 'websocket';
  /** The agent image for the Deployment. */
  readonly image: string;
  /** Deployment replicas: 1, or 0 when the agent runs as a local process instead. */
  readonly replicas: number;
}

/** The objects, in apply order (namespace first). */
export function spokeObjects(spec: JoinSpec): KubernetesObject[] {
  const ns = SPOKE_AGENT_NAMESPACE;
  const sa = { kind: 'ServiceAccount', name: SPOKE_AGENT_SERVICE_ACCOUNT, namespace: ns };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: MANAGED_BY } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: SPOKE_AGENT_SERVICE_ACCOUNT, namespace: ns, labels: MANAGED_BY },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: AGENT_IMPERSONATOR_ROLE, labels: MANAGED_BY },
      rules: [
        {
          apiGroups: [''],
          resources: ['users', 'groups', 'serviceaccounts'],
          verbs: ['impersonate'],
        },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: AGENT_IMPERSONATOR_ROLE, labels: MANAGED_BY },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: AGENT_IMPERSONATOR_ROLE,
      },
      subjects: [sa],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: AGENT_SECRETS_ROLE, namespace: ns, labels: MANAGED_BY },
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [SPOKE_BOOTSTRAP_SECRET, SPOKE_HUB_CLIENT_SECRET],
          verbs: ['get', 'update', 'patch'],
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: AGENT_SECRETS_ROLE, namespace: ns, labels: MANAGED_BY },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: AGENT_SECRETS_ROLE },
      subjects: [sa],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: HUB_CONTROLLERS_BINDING, labels: MANAGED_BY },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'cluster-admin',
      },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: HUB_CONTROLLERS_SPOKE_GROUP },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SPOKE_BOOTSTRAP_SECRET, namespace: ns, labels: MANAGED_BY },
      type: 'Opaque',
      stringData: {
        hub: spec.hub,
        token: spec.token,
        'cluster-name': spec.clusterName,
        'agent-name': spec.agentName,
        transport: spec.transport,
        ...(spec.caHash === undefined ? {} : { 'ca-hash': spec.caHash }),
      },
    } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: AGENT_DEPLOYMENT, namespace: ns, labels: MANAGED_BY },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: { app: AGENT_DEPLOYMENT } },
        template: {
          metadata: { labels: { app: AGENT_DEPLOYMENT } },
          spec: {
            serviceAccountName: SPOKE_AGENT_SERVICE_ACCOUNT,
            terminationGracePeriodSeconds: 30,
            // Pod Security "restricted" on the spoke admits it.
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'agent',
                image: spec.image,
                args: ['agent', '--registration', '--namespace', ns],
                ports: [{ name: 'health', containerPort: 8093 }],
                readinessProbe: { httpGet: { path: '/readyz', port: 'health' } },
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'health' },
                  initialDelaySeconds: 10,
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    } as KubernetesObject,
  ];
}

/** What unjoin deletes (cluster-scoped last; the namespace takes its contents with it). */
export function spokeObjectRefs(): KubernetesObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SPOKE_AGENT_NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: AGENT_IMPERSONATOR_ROLE },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: AGENT_IMPERSONATOR_ROLE },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: HUB_CONTROLLERS_BINDING },
    },
  ];
}
