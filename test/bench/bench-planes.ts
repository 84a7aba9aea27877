// The hub and spoke set-up the soak and work benchmarks share: the hub's CRDs, namespace and PKI
// (serving 127.0.0.1), and the spoke side of `join` once — the agent ServiceAccount, its
// impersonation rights, the hub controllers' binding, the spoke CRDs — with a local token for
// every agent the benchmark starts.
import type { KubeConfig } from '@kubernetes/client-node';

import { hubCrds } from '../../hub/api/index.ts';
import { applyJoin, prepareLocalAgent } from '../../hub/join/join-cluster.ts';
import { installCrds } from '../../hub/kube/index.ts';
import { ensureHubNamespace, ensureHubPki } from '../../hub/registration/hub-pki.ts';

export async function prepareBenchPlanes(
  hub: KubeConfig,
  spoke: KubeConfig,
  options: { readonly clusterName: string; readonly agentDir: string },
) {
  await installCrds(hub, hubCrds());
  await ensureHubNamespace(hub);
  const pki = await ensureHubPki(hub, { serverNames: ['127.0.0.1'] });
  await applyJoin(spoke, {
    hub: 'https://127.0.0.1:1',
    token: 'abcdef.0123456789abcdef',
    clusterName: options.clusterName,
    agentName: 'agent',
    transport: 'grpc',
    image: 'unused',
    replicas: 0,
  });
  const local = await prepareLocalAgent(spoke, options.agentDir);
  return { pki, local };
}
