/**
 * The cluster gateway's view of the hub API server, from a hub kubeconfig: where it is, its CA,
 * the credentials for TokenReview/SubjectAccessReview, and the client CA that authenticates
 * hub users' certificates (read from `kube-system/extension-apiserver-authentication`, which
 * kube-apiserver publishes for exactly this purpose).
 */
import { readFileSync } from 'node:fs';

import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

import type { GatewayHubOptions } from '../../proxy-server/index.ts';

function pemOf(data: string | undefined, file: string | undefined): string | undefined {
  if (data !== undefined && data !== '') return Buffer.from(data, 'base64').toString('utf8');
  if (file !== undefined && file !== '') return readFileSync(file, 'utf8');
  return undefined;
}

/** Server, CA and credentials of the current context of `kubeConfig`. */
export function gatewayHubOptionsOf(kubeConfig: KubeConfig): GatewayHubOptions {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (cluster === null || user === null) {
    throw new Error('the hub kubeconfig has no current context with a cluster and a user');
  }
  const caPem = pemOf(cluster.caData, cluster.caFile);
  if (caPem === undefined) throw new Error('the hub kubeconfig has no certificate-authority');
  const clientCertPem = pemOf(user.certData, user.certFile);
  const clientKeyPem = pemOf(user.keyData, user.keyFile);
  // A token file (a projected, rotating ServiceAccount token; client-node's in-cluster config
  // uses one) is handed over as a file, so the gateway follows its rotation.
  const tokenFile =
    (user as unknown as { tokenFile?: string }).tokenFile ??
    (user.authProvider?.name === 'tokenFile'
      ? (user.authProvider.config as { tokenFile?: string } | undefined)?.tokenFile
      : undefined);
  const token = user.token;
  return {
    server: cluster.server,
    caPem,
    ...(clientCertPem !== undefined && clientKeyPem !== undefined
      ? { clientCertPem, clientKeyPem }
      : {}),
    ...(token !== undefined && token !== ''
      ? { token }
      : tokenFile !== undefined && tokenFile !== ''
        ? { tokenFile }
        : {}),
  };
}

/** The hub API server's client CA bundle, or undefined when it publishes none. */
export async function hubClientCa(kubeConfig: KubeConfig): Promise<string | undefined> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const map = await core.readNamespacedConfigMap({
    name: 'extension-apiserver-authentication',
    namespace: 'kube-system',
  });
  const ca = map.data?.['client-ca-file'];
  return ca === undefined || ca === '' ? undefined : ca;
}
