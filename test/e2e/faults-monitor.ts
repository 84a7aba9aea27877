// Monitors the fault tests run for their whole length: they record every status claim on the
// hub that was not true (what "status never claims Applied or Available while it is not" means
// in practice), and the ManagedCluster's Available history.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { expect } from 'vitest';

import { WORK_GROUP, WorkConditionTypes as T, type ManifestWork } from '../../hub/api/index.ts';
import { eventually } from '../framework/kubectl.ts';
import type { FaultsKit } from './faults-kit.ts';

const POLL_MS = 150;

/** A work of `count` ConfigMaps in `namespace` (with the Namespace first). */
export function configMapsWork(name: string, namespace: string, count: number) {
  const manifests: Record<string, unknown>[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  ];
  for (let i = 0; i < count; i++) {
    manifests.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-${i}`, namespace },
      // Some bulk, so that delivery takes long enough to be interrupted.
      data: { index: String(i), filler: 'x'.repeat(4096) },
    });
  }
  return {
    apiVersion: `${WORK_GROUP}/v1`,
    kind: 'ManifestWork',
    metadata: { name },
    spec: { workload: { manifests } },
  };
}

const isTrue = (
  conditions: readonly { type: string; status: string }[] | undefined,
  type: string,
) => conditions?.some((c) => c.type === type && c.status === 'True') === true;

/** Whether the work is Applied and Available for its current generation. */
export function isDone(work: ManifestWork | undefined): boolean {
  const ok = (type: string) =>
    work?.status?.conditions?.some(
      (c) =>
        c.type === type &&
        c.status === 'True' &&
        c.observedGeneration === work.metadata?.generation,
    ) === true;
  return ok(T.Applied) && ok(T.Available);
}

/**
 * Polls the cluster namespace's ManifestWorks until `stop()`, and checks each claim against the
 * spoke: a manifest whose own Applied/Available is True, and every manifest of a work whose
 * Applied or Available is True, must exist there. The tests never delete spoke objects while
 * monitored, so an object missing after a claim was seen means the claim was false. Reads that
 * fail (the hub API server restarting) are skipped.
 */
export function monitorWorkClaims(kit: FaultsKit, cluster: string) {
  const objects = kit.hub.makeApiClient(CustomObjectsApi);
  const seen = new Set<string>(); // objects known to exist (never deleted while monitored)
  const violations: string[] = [];
  let claims = 0;
  let isStopped = false;
  const exists = async (m: Record<string, unknown>) => {
    const meta = (m.metadata ?? {}) as { name?: string; namespace?: string };
    const key = `${String(m.apiVersion)}/${String(m.kind)}/${meta.namespace ?? ''}/${meta.name ?? ''}`;
    if (seen.has(key)) return true;
    const isThere = await kit.onSpokeExists(m);
    if (isThere) seen.add(key);
    return isThere;
  };
  const check = async () => {
    const list = (await objects.listNamespacedCustomObject({
      group: WORK_GROUP,
      version: 'v1',
      plural: 'manifestworks',
      namespace: cluster,
    })) as { items: ManifestWork[] };
    for (const work of list.items) {
      const name = work.metadata?.name ?? '';
      const manifests = (work.spec?.workload?.manifests ?? []) as Record<string, unknown>[];
      const claimed: Record<string, unknown>[] = [];
      for (const type of [T.Applied, T.Available]) {
        const c = work.status?.conditions?.find((x) => x.type === type);
        if (c?.status === 'True' && c.observedGeneration === work.metadata?.generation)
          claimed.push(...manifests);
      }
      for (const m of work.status?.resourceStatus?.manifests ?? []) {
        if (!isTrue(m.conditions, T.Applied) && !isTrue(m.conditions, T.Available)) continue;
        const r = m.resourceMeta;
        claimed.push({
          apiVersion:
            r.group === '' || r.group === undefined ? r.version : `${r.group}/${r.version}`,
          kind: r.kind,
          metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) },
        });
      }
      for (const m of claimed) {
        claims += 1;
        if (!(await exists(m))) {
          const meta = m.metadata as { name?: string; namespace?: string };
          violations.push(
            `${name}: claims ${String(m.kind)} ${meta.namespace ?? ''}/${meta.name ?? ''} applied while it is missing on the spoke`,
          );
        }
      }
    }
  };
  const loop = (async () => {
    while (!isStopped) {
      await check().catch(() => undefined);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  return {
    violations,
    /** How many claims were checked (a monitor that saw none proved nothing). */
    claims: () => claims,
    async stop(): Promise<void> {
      isStopped = true;
      await loop;
    },
  };
}

/** Polls the cluster's Available status until `stop()`: its history, one entry per change. */
export function monitorAvailable(kit: FaultsKit) {
  const history: { status: string; at: number }[] = [];
  let isStopped = false;
  const loop = (async () => {
    while (!isStopped) {
      const status = await kit.available().catch(() => undefined);
      if (status !== undefined && history.at(-1)?.status !== status)
        history.push({ status, at: Date.now() });
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  return {
    history,
    /** The statuses seen since `since` (ms), in order. */
    since: (since: number) => history.filter((h) => h.at >= since).map((h) => h.status),
    async stop(): Promise<void> {
      isStopped = true;
      await loop;
    },
  };
}

/**
 * Waits until the work made by {@link configMapsWork}(`name`, `namespace`, `count`) is Applied
 * and Available, then checks that the spoke, the work's per-manifest status and the spoke's
 * AppliedManifestWork all agree on every manifest.
 */
export async function expectConverged(
  kit: FaultsKit,
  name: string,
  namespace: string,
  count: number,
  logs: () => string = () => '',
): Promise<void> {
  await eventually(
    `${name} to converge`,
    async () => (isDone(await kit.getWork(name)) ? true : undefined),
    120_000,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${logs()}`);
  });
  const work = await kit.getWork(name);
  const statuses = work?.status?.resourceStatus?.manifests ?? [];
  expect(statuses).toHaveLength(count + 1);
  for (const m of statuses)
    expect(isTrue(m.conditions, T.Applied), `${m.resourceMeta.name ?? ''} Applied`).toBe(true);
  const listed = await kit.onSpoke(['get', 'configmaps', '-n', namespace, '-o', 'name']);
  const names = listed.stdout.split('\n').filter((l) => l.startsWith(`configmap/${name}-`));
  expect(names).toHaveLength(count);
  const applied = await eventually(
    `${name}: the AppliedManifestWork to list every resource`,
    async () => {
      const a = await kit.appliedWork(name);
      return a?.status?.appliedResources?.length === count + 1 ? a : undefined;
    },
  );
  expect(applied.status?.appliedResources?.map((r) => r.name).sort()).toEqual(
    [namespace, ...Array.from({ length: count }, (_, i) => `${name}-${i}`)].sort(),
  );
}
