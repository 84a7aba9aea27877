/**
 * The sandbox's one grant to hub users on its spokes: the hub group `sandbox-admins` (the
 * sandbox hub admin's certificate carries it) is cluster-admin on every spoke, as
 * `spokelink:hub:sandbox-admins` through the gateway. Everything the agent itself needs comes
 * from `spokelink join` (hub/join/), as on any spoke. Made with the spoke's admin credentials,
 * which stay in the sandbox.
 */
import { type KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';

import { DEFAULT_GATEWAY_IDENTITY_PREFIX } from '../../proxy-server/index.ts';
import { apiStatus } from '../kube/index.ts';

/** The hub group the sandbox makes cluster-admin on spokes (unprefixed, as on the hub). */
export const SANDBOX_ADMINS_GROUP = 'sandbox-admins';
const ADMINS_BINDING = 'spokelink-hub-sandbox-admins';

/** Binds `spokelink:hub:sandbox-admins` to cluster-admin on `spoke`. Safe to repeat. */
export async function grantSandboxAdmins(spoke: KubeConfig): Promise<void> {
  try {
    await spoke.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: ADMINS_BINDING },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'cluster-admin',
        },
        subjects: [
          {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Group',
            name: `${DEFAULT_GATEWAY_IDENTITY_PREFIX}${SANDBOX_ADMINS_GROUP}`,
          },
        ],
      },
    });
  } catch (err: unknown) {
    if (apiStatus(err) !== 409) throw err;
  }
}
