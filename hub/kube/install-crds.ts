import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

import { crdName, renderCrd, type CrdDefinition } from '../api/index.ts';

/** HTTP status of an error thrown by @kubernetes/client-node, if it carries one. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Creates the CRDs `defs` on the cluster of `kubeConfig` (those that exist are left as they
 * are) and waits until each is Established, or rejects after `timeoutMs`. Resolves to the
 * names of the CRDs this call created. Safe to call concurrently and repeatedly.
 */
export async function installCrds(
  kubeConfig: KubeConfig,
  defs: readonly CrdDefinition[],
  timeoutMs = 60_000,
): Promise<string[]> {
  // The generic client sends the rendered CRD as is; the typed one would drop the `x-kubernetes-*`
  // keys, which its models spell in camelCase.
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const crds = {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
  };
  const created: string[] = [];
  for (const def of defs) {
    try {
      await api.createClusterCustomObject({ ...crds, body: renderCrd(def) });
      created.push(crdName(def));
    } catch (err: unknown) {
      if (apiStatus(err) !== 409) throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const def of defs) {
    const name = crdName(def);
    for (;;) {
      const crd = (await api.getClusterCustomObject({ ...crds, name })) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      const established = crd.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return created;
}
