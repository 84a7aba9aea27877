import type { KubeConfig } from '@kubernetes/client-node';

import { CLUSTER_GROUP, type ClusterClaim } from '../../api/index.ts';
import { describeError, kubeGet } from '../../kube/index.ts';
import { sumNodeResources, type NodeResources, type NodeSummary } from './node-resources.ts';
import type { SpokeProbe } from './status-decision.ts';

const CLAIMS_PATH = `/apis/${CLUSTER_GROUP}/v1alpha1/clusterclaims`;
/** Nodes per page: a node object with its image list is several KiB. */
const NODES_PAGE_SIZE = 100;
/** Pages read at most (10 000 nodes); a larger cluster reports no resources. */
const MAX_NODE_PAGES = 100;

function parse<T>(body: string): T | undefined {
  try {
    return JSON.parse(body) as T;
  } catch {
    return undefined;
  }
}

/**
 * Every node, page by page, summed; undefined when the spoke has no nodes or they cannot all be
 * read (e.g. the controllers' group is not bound yet): resources are then left as they are.
 */
async function nodeResources(spoke: KubeConfig, timeoutMs: number) {
  const nodes: NodeSummary[] = [];
  let next: string | undefined = '';
  for (let page = 0; next !== undefined; page++) {
    if (page === MAX_NODE_PAGES) return undefined;
    const query = `?limit=${NODES_PAGE_SIZE}${next === '' ? '' : `&continue=${encodeURIComponent(next)}`}`;
    const answer = await kubeGet(spoke, `/api/v1/nodes${query}`, { timeoutMs });
    if (answer.status !== 200) return undefined;
    const list = parse<{ items?: NodeSummary[]; metadata?: { continue?: string } }>(answer.body);
    if (list === undefined) return undefined;
    nodes.push(...(list.items ?? []));
    next = list.metadata?.continue || undefined;
  }
  return sumNodeResources(nodes);
}

/** The parts of a probe that rarely change, read by a full probe only. */
export type SpokeDetails = Pick<
  SpokeProbe & { reached: true },
  'kubernetesVersion' | 'kubeSystemUid' | 'resources'
>;

/**
 * Probes a spoke's API server through `spoke` (the hub controllers' `SpokeKubeConfig`: the
 * tunnel, the agent API, the controllers' identity): /readyz, and when that answers 200 also the
 * ClusterClaims, and with `details` (a full probe) the /version, the kube-system namespace and
 * the nodes (in parallel; each request bounded by `timeoutMs`). A light probe (`details` false)
 * leaves those three out; the caller keeps what its last full probe found. Never rejects:
 * failing to reach the spoke resolves to `{ reached: false }` with the cause's message (no
 * payload bytes); a read the spoke refuses (e.g. 403 before the controllers' group is bound)
 * only leaves its part out.
 */
export async function probeSpoke(
  spoke: KubeConfig,
  timeoutMs: number,
  details = true,
): Promise<SpokeProbe> {
  const get = (path: string) => kubeGet(spoke, path, { timeoutMs });
  try {
    const readyz = await get('/readyz');
    if (readyz.status !== 200) return { reached: true, readyz: readyz.status };
    const [claims, version, kubeSystem, resources] = await Promise.all([
      get(CLAIMS_PATH),
      details ? get('/version') : undefined,
      details ? get('/api/v1/namespaces/kube-system') : undefined,
      details ? nodeResources(spoke, timeoutMs).catch(() => undefined) : undefined,
    ]);
    const probe: {
      reached: true;
      readyz: number;
      kubernetesVersion?: string;
      kubeSystemUid?: string;
      claims?: ClusterClaim[];
      resources?: NodeResources;
    } = { reached: true, readyz: 200 };
    if (version?.status === 200) {
      const gitVersion = parse<{ gitVersion?: unknown }>(version.body)?.gitVersion;
      if (typeof gitVersion === 'string') probe.kubernetesVersion = gitVersion;
    }
    if (kubeSystem?.status === 200) {
      const uid = parse<{ metadata?: { uid?: unknown } }>(kubeSystem.body)?.metadata?.uid;
      if (typeof uid === 'string') probe.kubeSystemUid = uid;
    }
    probe.claims =
      claims.status === 200 ? (parse<{ items?: ClusterClaim[] }>(claims.body)?.items ?? []) : [];
    if (resources !== undefined) probe.resources = resources;
    return probe;
  } catch (err: unknown) {
    return { reached: false, error: describeError(err) };
  }
}
