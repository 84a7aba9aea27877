/**
 * What a spoke needs for its agent to serve the agent API (proxy-agent README "Agent API"): the
 * agent's own ServiceAccount, allowed to impersonate and nothing else, and a token for it; plus
 * the sandbox's two grants: the hub controllers' group (`spokelink:hub:system:spokelink:controllers`,
 * which only the hub's in-process controllers can carry) and the hub's `sandbox-admins` group
 * (the sandbox hub admin's certificate carries it; `spokelink:hub:sandbox-admins` through the
 * gateway) are cluster-admin on every spoke. Made with the spoke's admin credentials, which stay
 * in the sandbox: the hub reads spokes only through the agent API.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';

import { HUB_CONTROLLERS_SPOKE_GROUP, spokeIdentityName } from '../../proxy-server/index.ts';
import type { ControlPlane } from '../../sandbox/index.ts';

/** The namespace of the agent's identity on a spoke (OCM's klusterlet agent namespace). */
export const AGENT_NAMESPACE = 'open-cluster-management-agent';
/** The agent's ServiceAccount. */
export const AGENT_SERVICE_ACCOUNT = 'spokelink-agent';
/** The hub group the sandbox makes cluster-admin on spokes (unprefixed, as on the hub). */
export const SANDBOX_ADMINS_GROUP = 'sandbox-admins';
const IMPERSONATOR_ROLE = 'spokelink-agent-impersonator';
const ADMINS_BINDING = 'spokelink-hub-sandbox-admins';
/** Binds the hub controllers' group to cluster-admin (the join code makes the same grant). */
const CONTROLLERS_BINDING = 'spokelink-hub-controllers';
/** The sandbox is a local, long-lived toy: its agent token lasts a year (nothing rotates it). */
const TOKEN_SECONDS = 365 * 24 * 3600;

/** Files the agent process is started with. */
export interface SpokeAgentFiles {
  /** The agent's ServiceAccount token (`--agent-api-token-file`). */
  readonly tokenFile: string;
  /** CA of the spoke API server's serving certificate (`--kube-apiserver-ca`). */
  readonly kubeApiserverCaFile: string;
}

function isAlreadyExists(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 409;
}

async function createIgnoringExisting(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/**
 * Creates (or finds) the agent's namespace, ServiceAccount, impersonation ClusterRole and
 * binding, and the hub controllers' and sandbox admins' bindings on `spoke`; writes a fresh token and the spoke's
 * serving CA into `pkiDir`. Safe to repeat.
 */
export async function prepareSpokeAgent(
  spoke: ControlPlane,
  pkiDir: string,
): Promise<SpokeAgentFiles> {
  const config = new KubeConfig();
  config.loadFromFile(spoke.kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const rbac = config.makeApiClient(RbacAuthorizationV1Api);
  await createIgnoringExisting(() =>
    core.createNamespace({ body: { metadata: { name: AGENT_NAMESPACE } } }),
  );
  await createIgnoringExisting(() =>
    core.createNamespacedServiceAccount({
      namespace: AGENT_NAMESPACE,
      body: { metadata: { name: AGENT_SERVICE_ACCOUNT } },
    }),
  );
  await createIgnoringExisting(() =>
    rbac.createClusterRole({
      body: {
        metadata: { name: IMPERSONATOR_ROLE },
        rules: [
          {
            apiGroups: [''],
            resources: ['users', 'groups', 'serviceaccounts'],
            verbs: ['impersonate'],
          },
        ],
      },
    }),
  );
  await createIgnoringExisting(() =>
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: IMPERSONATOR_ROLE },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: IMPERSONATOR_ROLE,
        },
        subjects: [
          { kind: 'ServiceAccount', name: AGENT_SERVICE_ACCOUNT, namespace: AGENT_NAMESPACE },
        ],
      },
    }),
  );
  for (const [binding, group] of [
    [CONTROLLERS_BINDING, HUB_CONTROLLERS_SPOKE_GROUP],
    [ADMINS_BINDING, spokeIdentityName(SANDBOX_ADMINS_GROUP)],
  ] as const) {
    await createIgnoringExisting(() =>
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: binding },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'cluster-admin',
          },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
        },
      }),
    );
  }
  const answer = await core.createNamespacedServiceAccountToken({
    name: AGENT_SERVICE_ACCOUNT,
    namespace: AGENT_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS } },
  });
  const token = answer.status?.token;
  if (token === undefined || token === '')
    throw new Error(`the ${spoke.name} API server returned no token for ${AGENT_SERVICE_ACCOUNT}`);
  const tokenFile = join(pkiDir, `${spoke.name}-agent.token`);
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const kubeApiserverCaFile = join(pkiDir, `${spoke.name}-apiserver-ca.crt`);
  writeFileSync(kubeApiserverCaFile, spoke.servingCaPem, { mode: 0o600 });
  return { tokenFile, kubeApiserverCaFile };
}
