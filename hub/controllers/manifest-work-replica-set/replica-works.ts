/**
 * The ManifestWorks a ManifestWorkReplicaSet stamps out, and how far each one is: the desired
 * work for a cluster, the template hash that tells a current work from an outdated one, and a
 * work's rollout state. Pure.
 */
import { createHash } from 'node:crypto';

import {
  Labels,
  WORK_GROUP,
  type Condition,
  type ManifestWork,
  type ManifestWorkReplicaSet,
} from '../../api/index.ts';
import type { RolloutCluster } from './rollout.ts';

/** On OCM's ManifestWorkReplicaSet: its works are deleted before it goes. */
export const MWRS_FINALIZER = 'work.open-cluster-management.io/manifest-work-cleanup';
/** On each stamped work: the hash of the template it carries (current or outdated). */
export const TEMPLATE_HASH_ANNOTATION = 'spokelink.io/manifestworkreplicaset-template-hash';
/** On each stamped work: when the template was last written to it (RFC 3339). */
export const ROLLOUT_TIME_ANNOTATION = 'spokelink.io/manifestworkreplicaset-rollout-time';

/** The `work.open-cluster-management.io/manifestworkreplicaset` value: `<namespace>.<name>`. */
export function replicaSetKeyLabel(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

/** `<namespace>.<name>` back to its parts (namespaces hold no dots); undefined if malformed. */
export function parseReplicaSetKeyLabel(
  value: string,
): { namespace: string; name: string } | undefined {
  const dot = value.indexOf('.');
  if (dot <= 0 || dot === value.length - 1) return undefined;
  return { namespace: value.slice(0, dot), name: value.slice(dot + 1) };
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** sha256 (hex, 16 chars) of the template with keys sorted. */
export function templateHash(mwrs: ManifestWorkReplicaSet): string {
  const json = JSON.stringify(canonical(mwrs.spec?.manifestWorkTemplate ?? {}));
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/**
 * The work for `cluster`: named after the replica set, in the cluster's namespace, labelled
 * with the replica set (`<namespace>.<name>`) and the placement that chose the cluster,
 * carrying the template, its hash and `now` (when this rollout step began). No owner reference: owners cannot cross namespaces, so
 * the replica set's finalizer deletes the works instead (as in OCM).
 */
export function desiredWork(
  mwrs: ManifestWorkReplicaSet,
  cluster: string,
  placement: string,
  now: Date,
): ManifestWork {
  const namespace = mwrs.metadata?.namespace ?? '';
  const name = mwrs.metadata?.name ?? '';
  return {
    apiVersion: `${WORK_GROUP}/v1`,
    kind: 'ManifestWork',
    metadata: {
      name,
      namespace: cluster,
      labels: {
        [Labels.ManifestWorkReplicaSet]: replicaSetKeyLabel(namespace, name),
        [Labels.ManifestWorkReplicaSetPlacement]: placement,
      },
      annotations: {
        [TEMPLATE_HASH_ANNOTATION]: templateHash(mwrs),
        [ROLLOUT_TIME_ANNOTATION]: now.toISOString(),
      },
    },
    spec: structuredClone(mwrs.spec?.manifestWorkTemplate ?? {}),
  };
}

/** `existing` updated to `desired`: its labels, annotations and spec, other metadata kept. */
export function updatedWork(existing: ManifestWork, desired: ManifestWork): ManifestWork {
  return {
    ...existing,
    metadata: {
      ...existing.metadata,
      labels: { ...existing.metadata?.labels, ...desired.metadata?.labels },
      annotations: { ...existing.metadata?.annotations, ...desired.metadata?.annotations },
    },
    spec: structuredClone(desired.spec ?? {}),
  };
}

/** The work carries `hash` and the placement label of `placement`. */
export function isCurrent(work: ManifestWork, hash: string, placement: string): boolean {
  return (
    work.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION] === hash &&
    work.metadata.labels?.[Labels.ManifestWorkReplicaSetPlacement] === placement
  );
}

function find(work: ManifestWork, type: string): Condition | undefined {
  return work.status?.conditions?.find((c) => c.type === type);
}

/** The condition, if it speaks of the work's current generation. */
function current(work: ManifestWork, type: string): Condition | undefined {
  const c = find(work, type);
  const generation = work.metadata?.generation;
  if (c === undefined) return undefined;
  if (generation !== undefined && c.observedGeneration !== undefined)
    return c.observedGeneration === generation ? c : undefined;
  return c;
}

function timeOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The rollout state of a cluster given its work (undefined: none) and the current template
 * hash: ToApply without a current work; Failed when Applied is False or Degraded True;
 * Succeeded when Applied and Available are True (OCM's Succeeded), since the later of their
 * transitions; otherwise Progressing, since the template was written to it (for the deadline).
 */
export function clusterRollout(
  name: string,
  groupIndex: number,
  groupName: string,
  work: ManifestWork | undefined,
  hash: string,
  placement: string,
): RolloutCluster {
  const base = { name, groupIndex, groupName };
  if (work === undefined || !isCurrent(work, hash, placement)) return { ...base, state: 'ToApply' };
  const applied = current(work, 'Applied');
  const available = current(work, 'Available');
  const degraded = current(work, 'Degraded');
  const created = timeOf(work.metadata?.creationTimestamp as string | undefined);
  if (applied?.status === 'False' || degraded?.status === 'True') {
    const since = timeOf((degraded?.status === 'True' ? degraded : applied)?.lastTransitionTime);
    return { ...base, state: 'Failed', ...(since === undefined ? {} : { sinceMs: since }) };
  }
  if (applied?.status === 'True' && available?.status === 'True') {
    const since = Math.max(
      timeOf(applied.lastTransitionTime) ?? 0,
      timeOf(available.lastTransitionTime) ?? 0,
    );
    return { ...base, state: 'Succeeded', ...(since === 0 ? {} : { sinceMs: since }) };
  }
  const since = timeOf(work.metadata?.annotations?.[ROLLOUT_TIME_ANNOTATION]) ?? created;
  return { ...base, state: 'Progressing', ...(since === undefined ? {} : { sinceMs: since }) };
}
