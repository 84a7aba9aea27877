// What the hub controllers' e2e tests share: on the real spoke, the agent's own identity (a
// ServiceAccount that may only impersonate, and its token) and the hub controllers' group
// bound to cluster-admin, as `spokelink join` grants them; and a tunnel rig whose proxy-server
// has the gateway options (the gateway certificate) that `spokeKubeConfig` needs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { expect, onTestFinished } from 'vitest';

import { describeError } from '../../hub/kube/index.ts';

import type { AgentApiOptions } from '../../proxy-agent/index.ts';
import { HUB_CONTROLLERS_SPOKE_GROUP } from '../../proxy-server/index.ts';
import { testPki } from '../framework/pki.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';
import { startTunnelRig, type RigCluster, type TunnelRig } from '../framework/tunnel-rig.ts';

/** The spoke side of a controller test; `remove()` deletes all of it. */
export interface SpokeGrants {
  /** For `RigCluster.agentApi`: the agent's token file and the spoke's serving CA. */
  readonly agentApi: AgentApiOptions;
  remove(): Promise<void>;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/**
 * Creates, on `spoke`, a namespace with the agent's ServiceAccount, a ClusterRole to
 * impersonate bound to it, and a binding of the hub controllers' group to cluster-admin (names
 * end in `suffix`); writes the agent's token to a temporary file.
 */
export async function grantSpoke(spoke: SharedControlPlane, suffix: string): Promise<SpokeGrants> {
  const admin = new KubeConfig();
  admin.loadFromFile(spoke.kubeconfigPath);
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const impersonator = `spokelink-agent-impersonate-${suffix}`;
  const controllers = `spokelink-hub-controllers-${suffix}`;
  const namespace =
    (await core.createNamespace({ body: { metadata: { generateName: 'controllers-' } } })).metadata
      ?.name ?? '';
  await core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: 'spokelink-agent' } },
  });
  await rbac.createClusterRole({
    body: {
      metadata: { name: impersonator },
      rules: [{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: impersonator },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: impersonator },
      subjects: [{ kind: 'ServiceAccount', name: 'spokelink-agent', namespace }],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: controllers },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: RBAC_GROUP, kind: 'Group', name: HUB_CONTROLLERS_SPOKE_GROUP }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name: 'spokelink-agent',
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const scratch = mkdtempSync(join(tmpdir(), 'spokelink-controllers-'));
  const tokenFile = join(scratch, 'token');
  writeFileSync(tokenFile, token.status?.token ?? '', { mode: 0o600 });
  return {
    agentApi: { tokenFile, kubeApiserverCaPem: spoke.servingCaPem },
    async remove() {
      await rbac.deleteClusterRoleBinding({ name: controllers }).catch(() => undefined);
      await rbac.deleteClusterRoleBinding({ name: impersonator }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: impersonator }).catch(() => undefined);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** A tunnel rig for `clusters` whose proxy-server has gateway options (cert from the test CA). */
export function controllerRig(hub: SharedControlPlane, clusters: RigCluster[]): Promise<TunnelRig> {
  const pki = testPki();
  return startTunnelRig({
    transport: 'grpc',
    clusters,
    gateway: {
      hub: {
        server: hub.server,
        caPem: hub.servingCaPem,
        clientCertPem: hub.admin.certPem,
        clientKeyPem: hub.admin.keyPem,
      },
      cert: { certPem: pki.gateway.certPem, keyPem: pki.gateway.keyPem },
    },
  });
}

/**
 * `onError` for a controller under test: reconcile failures are collected and the test fails
 * if there were any; list/watch failures (`cluster` undefined) are retried by design, e.g. 429
 * while the API server's cache of a new CRD initializes, and only logged.
 */
export function failOnReconcileErrors(): (cluster: string | undefined, err: unknown) => void {
  const errors: string[] = [];
  onTestFinished(() => expect(errors).toEqual([]));
  return (cluster, err) => {
    if (cluster === undefined) console.warn(`watch or list: ${describeError(err)}`);
    else errors.push(`${cluster}: ${describeError(err)}`);
  };
}
