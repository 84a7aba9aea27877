/**
 * The hub admin's decisions on a cluster, shared by `spokelink accept|deny` and the sandbox:
 * accept sets `spec.hubAcceptsClient: true` (the registration controller then approves and
 * signs its agents' CSRs, and the proxy-server admits them); deny sets it false, denies the
 * cluster's pending agent CSRs, and the proxy-server ends its tunnels.
 */
import {
  CertificatesV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import { CLUSTER_GROUP } from '../api/index.ts';
import { AGENT_SIGNER_NAME, CLUSTER_NAME_LABEL } from './constants.ts';

async function patchAccept(hub: KubeConfig, cluster: string, accept: boolean): Promise<void> {
  await hub.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
    {
      group: CLUSTER_GROUP,
      version: 'v1',
      plural: 'managedclusters',
      name: cluster,
      body: { spec: { hubAcceptsClient: accept } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Accepts `cluster` (its ManagedCluster must exist: a 404 rejects). */
export async function acceptCluster(hub: KubeConfig, cluster: string): Promise<void> {
  await patchAccept(hub, cluster, true);
}

/** Denies `cluster`; resolves with the names of the CSRs it denied. */
export async function denyCluster(hub: KubeConfig, cluster: string): Promise<string[]> {
  await patchAccept(hub, cluster, false);
  const api = hub.makeApiClient(CertificatesV1Api);
  const list = await api.listCertificateSigningRequest({
    labelSelector: `${CLUSTER_NAME_LABEL}=${cluster}`,
  });
  const denied: string[] = [];
  for (const csr of list.items) {
    if (csr.spec.signerName !== AGENT_SIGNER_NAME) continue;
    const conditions = csr.status?.conditions ?? [];
    if (conditions.length > 0 || (csr.status?.certificate ?? '') !== '') continue;
    await api.replaceCertificateSigningRequestApproval({
      name: csr.metadata?.name ?? '',
      body: {
        ...csr,
        status: {
          ...csr.status,
          conditions: [
            {
              type: 'Denied',
              status: 'True',
              reason: 'DeniedByHubAdmin',
              message: `The hub admin denied cluster ${cluster}.`,
              lastUpdateTime: new Date(),
            },
          ],
        },
      },
    });
    denied.push(csr.metadata?.name ?? '');
  }
  return denied;
}
