/**
 * The package filters and overrides of a Subscription applied to resources read from a Git
 * channel, as OCM's Git subscriber does: `spec.name` keeps only resources of that
 * `metadata.name` (only when `packageFilter` is set too, an upstream quirk kept for
 * compatibility), `packageFilter.labelSelector` and `packageFilter.annotations` match the
 * resources' labels and annotations, and `packageOverrides` whose `packageName` is a resource's
 * name set `{path, value}` pairs on it (dotted paths). Pure functions.
 */
import type { LabelSelector, PackageOverrides, SubscriptionSpec } from '../../api/index.ts';
import { SubscriptionError } from './errors.ts';

/** A Kubernetes object read from a source. */
export interface SourceObject {
  apiVersion: string;
  kind: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Whether `labels` satisfy `selector` (matchLabels AND matchExpressions); empty matches all. */
export function matchesLabelSelector(
  labels: Readonly<Record<string, string>>,
  selector: LabelSelector | undefined,
): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(labels[req.key] ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[req.key] ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new SubscriptionError(
          'HUB_ERR_SUB_INVALID',
          `packageFilter.labelSelector has the unknown operator "${req.operator}"`,
        );
    }
  }
  return true;
}

/** Keeps the resources the Subscription's name and package filter select. */
export function filterResources(
  objects: readonly SourceObject[],
  spec: Pick<SubscriptionSpec, 'name' | 'packageFilter'>,
): SourceObject[] {
  const filter = spec.packageFilter;
  if (filter === undefined) return [...objects];
  return objects.filter((o) => {
    const meta = o.metadata ?? {};
    if (spec.name !== undefined && spec.name !== '' && meta.name !== spec.name) return false;
    if (!matchesLabelSelector(meta.labels ?? {}, filter.labelSelector)) return false;
    for (const [k, v] of Object.entries(filter.annotations ?? {}))
      if (meta.annotations?.[k] !== v) return false;
    return true;
  });
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Sets `value` at the dotted `path` of `target` (creating maps on the way); returns target. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => FORBIDDEN_SEGMENTS.has(s))) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_INVALID',
      `packageOverrides path "${path}" is not valid`,
    );
  }
  let at: Record<string, unknown> = target;
  for (const segment of segments.slice(0, -1)) {
    const next = at[segment];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      const made: Record<string, unknown> = {};
      at[segment] = made;
      at = made;
    } else {
      at = next as Record<string, unknown>;
    }
  }
  at[segments[segments.length - 1] as string] = structuredClone(value);
}

/** One `{path, value}` override, checked. */
export function overridePair(raw: Record<string, unknown>, packageName: string) {
  const path = raw['path'];
  if (typeof path !== 'string' || path === '') {
    throw new SubscriptionError(
      'HUB_ERR_SUB_INVALID',
      `packageOverrides of "${packageName}" has an entry without a path`,
    );
  }
  return { path, value: raw['value'] };
}

/**
 * Applies `packageOverrides` to Git resources: each entry whose `packageName` equals a resource's
 * `metadata.name` sets its `{path, value}` pairs on that resource (a copy; inputs are unchanged).
 */
export function applyPackageOverrides(
  objects: readonly SourceObject[],
  overrides: readonly PackageOverrides[] | undefined,
): SourceObject[] {
  if (overrides === undefined || overrides.length === 0) return [...objects];
  return objects.map((o) => {
    const mine = overrides.filter((p) => p.packageName === o.metadata?.name);
    if (mine.length === 0) return o;
    const copy = structuredClone(o) as SourceObject & Record<string, unknown>;
    for (const entry of mine)
      for (const raw of entry.packageOverrides ?? []) {
        const { path, value } = overridePair(raw, entry.packageName);
        setPath(copy, path, value);
      }
    return copy;
  });
}
