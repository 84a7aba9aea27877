/**
 * How a ConfigurationPolicy object template is compared with an object on a cluster (issue 7,
 * OCM's config-policy-controller semantics): the template value is merged into the existing
 * value, and the object matches when the merge changed nothing. `musthave` merges maps key by key
 * (extra existing keys stay) and lists item by item (each template item must equal an existing
 * item once merged into it, or share its `name` with one; unmatched existing items stay);
 * `mustonlyhave` replaces the value with the template's; comparisons ignore list order, count an
 * omitted field as its type's zero value and compare strings that are Kubernetes quantities as
 * quantities (`1Gi` equals `1024Mi`). Pure; inputs are never mutated.
 */
import { parseQuantity } from '../../kube/index.ts';

/** A JSON value as the API server returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonMap = { [key: string]: Json };

/** `musthave` or `mustonlyhave` (mustnothave matches as musthave). */
export type MergeMode = 'musthave' | 'mustonlyhave';

/** Whether `value` is a JSON object (not an array, not null). */
export function isMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stable string form: maps with sorted keys (to order list items for set comparison). */
export function canonical(value: Json | undefined): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isMap(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function quantityOf(text: string): bigint | undefined {
  try {
    return parseQuantity(text).nanos;
  } catch {
    return undefined;
  }
}

/** The zero value of `value`'s type, printed as Go prints it (`""`, `0`, `false`). */
function zeroOf(value: Json): string {
  switch (typeof value) {
    case 'string':
      return '';
    case 'number':
      return '0';
    case 'boolean':
      return 'false';
    default:
      return '';
  }
}

function scalarText(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Scalars: printed forms equal; a missing side is its type's zero value; quantities by value. */
function scalarsEqual(merged: Json | undefined, existing: Json | undefined): boolean {
  if (typeof merged === 'string') {
    const quantity = quantityOf(merged);
    if (quantity !== undefined) {
      return typeof existing === 'string' && quantityOf(existing) === quantity;
    }
  }
  if (existing === undefined || existing === null) {
    return merged === undefined || merged === null || scalarText(merged) === zeroOf(merged);
  }
  if (merged === undefined || merged === null) return scalarText(existing) === zeroOf(existing);
  return scalarText(merged) === scalarText(existing);
}

function mapsEqual(merged: JsonMap, existing: JsonMap): boolean {
  if (Object.keys(merged).length < Object.keys(existing).length) return false;
  for (const [key, value] of Object.entries(merged)) {
    const old = existing[key];
    if (isMap(value)) {
      if (!isMap(old)) {
        if (Object.keys(value).length === 0) continue;
        return false;
      }
      if (!mapsEqual(value, old)) return false;
    } else if (Array.isArray(value)) {
      if (!Array.isArray(old)) {
        if (value.length === 0) continue;
        return false;
      }
      if (!listsEqual(value, old)) return false;
    } else if (!scalarsEqual(value, old)) {
      return false;
    }
  }
  return true;
}

/** Lists as multisets: same length, and items equal pairwise once both are sorted. */
function listsEqual(merged: readonly Json[], existing: readonly Json[]): boolean {
  if (merged.length !== existing.length) return false;
  const a = [...merged].sort((x, y) => (canonical(x) < canonical(y) ? -1 : 1));
  const b = [...existing].sort((x, y) => (canonical(x) < canonical(y) ? -1 : 1));
  return a.every((item, i) => {
    const old = b[i];
    if (isMap(item)) {
      return (
        isMap(old) && Object.keys(item).length === Object.keys(old).length && mapsEqual(item, old)
      );
    }
    if (Array.isArray(item)) return Array.isArray(old) && listsEqual(item, old);
    return scalarsEqual(item, old);
  });
}

/** Whether `merged` (the template merged into `existing`) equals `existing` as OCM compares. */
export function valuesEqual(merged: Json | undefined, existing: Json | undefined): boolean {
  if (isMap(merged)) {
    if (isMap(existing)) return mapsEqual(merged, existing);
    return (existing === undefined || existing === null) && Object.keys(merged).length === 0;
  }
  if (Array.isArray(merged)) {
    if (merged.length === 0 && (existing === undefined || existing === null)) return true;
    return Array.isArray(existing) && listsEqual(merged, existing);
  }
  return scalarsEqual(merged, existing);
}

function nameOf(value: Json | undefined): string | undefined {
  return isMap(value) && typeof value.name === 'string' ? value.name : undefined;
}

/** musthave on lists: see the module comment. */
function mergeLists(template: readonly Json[], existing: readonly Json[]): Json[] {
  const result: Json[] = [...existing];
  const used = new Set<number>();
  for (const item of template) {
    let matched = false;
    for (let i = 0; i < result.length; i++) {
      if (used.has(i)) continue;
      const merged = mergeValue(item, result[i], 'musthave');
      if (valuesEqual(merged, result[i])) {
        used.add(i);
        matched = true;
        break;
      }
    }
    if (matched) continue;
    const name = nameOf(item);
    const byName =
      name === undefined ? -1 : result.findIndex((old, i) => !used.has(i) && nameOf(old) === name);
    if (byName >= 0) {
      result[byName] = mergeValue(item, result[byName], 'musthave');
      used.add(byName);
    } else {
      result.push(item);
      used.add(result.length - 1);
    }
  }
  return result;
}

/** The template value merged into the existing one under `mode` (see the module comment). */
export function mergeValue(template: Json, existing: Json | undefined, mode: MergeMode): Json {
  if (mode === 'mustonlyhave' || existing === undefined || existing === null) return template;
  if (isMap(template)) {
    if (!isMap(existing)) return template;
    const result: JsonMap = { ...existing };
    for (const [key, value] of Object.entries(template)) {
      result[key] = mergeValue(value, existing[key], mode);
    }
    return result;
  }
  if (Array.isArray(template)) {
    return Array.isArray(existing) ? mergeLists(template, existing) : template;
  }
  return template;
}

/** A shallow copy of `object` without `keys`. */
export function omitKeys<T extends object, K extends keyof T>(object: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}
