import type { KubeConfig } from '@kubernetes/client-node';

import { CLUSTER_GROUP, type ClusterClaim } from '../../api/index.ts';
import { tunnelGet, type TunnelDialer } from '../../kube/index.ts';
import type { SpokeProbe } from './status-decision.ts';

const CLAIMS_PATH = `/apis/${CLUSTER_GROUP}/v1alpha1/clusterclaims`;

/**
 * Probes `cluster`'s API server through the tunnel with the spoke's own credentials: /readyz,
 * and when that answers 200 also /version, the kube-system namespace and the ClusterClaims
 * (in parallel, one tunnel stream each). Never rejects: failures to reach the spoke resolve to
 * `{ reached: false }` with the error's message (no payload bytes).
 */
export async function probeSpoke(
  dialer: TunnelDialer,
  cluster: string,
  spoke: KubeConfig,
  timeoutMs: number,
): Promise<SpokeProbe> {
  const get = (path: string) => tunnelGet(dialer, cluster, spoke, path, timeoutMs);
  try {
    const readyz = await get('/readyz');
    if (readyz.status !== 200) return { reached: true, readyz: readyz.status };
    const [version, kubeSystem, claims] = await Promise.all([
      get('/version'),
      get('/api/v1/namespaces/kube-system'),
      get(CLAIMS_PATH),
    ]);
    const probe: {
      reached: true;
      readyz: number;
      kubernetesVersion?: string;
      kubeSystemUid?: string;
      claims?: ClusterClaim[];
    } = { reached: true, readyz: 200 };
    if (version.status === 200) {
      const gitVersion = parse<{ gitVersion?: unknown }>(version.body)?.gitVersion;
      if (typeof gitVersion === 'string') probe.kubernetesVersion = gitVersion;
    }
    if (kubeSystem.status === 200) {
      const uid = parse<{ metadata?: { uid?: unknown } }>(kubeSystem.body)?.metadata?.uid;
      if (typeof uid === 'string') probe.kubeSystemUid = uid;
    }
    if (claims.status === 200)
      probe.claims = parse<{ items?: ClusterClaim[] }>(claims.body)?.items ?? [];
    else probe.claims = [];
    return probe;
  } catch (err: unknown) {
    return { reached: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function parse<T>(body: string): T | undefined {
  try {
    return JSON.parse(body) as T;
  } catch {
    return undefined;
  }
}
