/**
 * Which kinds are namespaced, learned from the hub API server's discovery (`/api/v1`,
 * `/apis/<group>/<version>`): the hub runs the same Kubernetes release as the spokes, so the
 * built-in kinds answer alike there. A kind the hub does not serve (a CRD installed only on
 * spokes) has no known scope; the delivery rules treat it as possibly cluster-scoped.
 *
 * Answers are cached per group/version for {@link SCOPE_CACHE_MS}; concurrent lookups of one
 * group/version share one request. Safe to use concurrently; no cleanup needed.
 */
import type { KubeConfig } from '@kubernetes/client-node';

import { kubeGet } from '../../kube/index.ts';

/** How long a discovery answer is reused, ms. */
export const SCOPE_CACHE_MS = 5 * 60_000;

/** What discovery says of one kind. */
export interface KindScope {
  readonly namespaced: boolean;
  /** The plural resource name (for ManifestWork orphaning rules). */
  readonly resource: string;
}

/** Resolves `apiVersion` + `kind` to its scope, or undefined when the hub does not serve it. */
export type ScopeResolver = (apiVersion: string, kind: string) => Promise<KindScope | undefined>;

/** A {@link ScopeResolver} over the hub's discovery. Rejects on API failures other than 404. */
export function hubScopeResolver(hub: KubeConfig, now: () => number = Date.now): ScopeResolver {
  const cache = new Map<string, { at: number; kinds: Promise<Map<string, KindScope>> }>();
  const load = async (apiVersion: string): Promise<Map<string, KindScope>> => {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const answer = await kubeGet(hub, path, { timeoutMs: 10_000, maxBytes: 8 * 1024 * 1024 });
    const kinds = new Map<string, KindScope>();
    if (answer.status === 404) return kinds;
    if (answer.status !== 200) throw new Error(`discovery ${path} answered HTTP ${answer.status}`);
    const list = JSON.parse(answer.body) as {
      resources?: { name?: string; kind?: string; namespaced?: boolean }[];
    };
    for (const r of list.resources ?? []) {
      if (r.name === undefined || r.kind === undefined || r.name.includes('/')) continue;
      kinds.set(r.kind, { namespaced: r.namespaced === true, resource: r.name });
    }
    return kinds;
  };
  return async (apiVersion, kind) => {
    if (!/^[a-z0-9.-]+(\/[a-z0-9.-]+)?$/i.test(apiVersion)) return undefined;
    let entry = cache.get(apiVersion);
    if (entry === undefined || now() - entry.at > SCOPE_CACHE_MS) {
      entry = { at: now(), kinds: load(apiVersion) };
      cache.set(apiVersion, entry);
      entry.kinds.catch(() => cache.delete(apiVersion));
    }
    return (await entry.kinds).get(kind);
  };
}
