/**
 * metav1.LabelSelector evaluated the way the API machinery evaluates it (`matchLabels` and
 * `matchExpressions` ANDed; `In`, `NotIn`, `Exists`, `DoesNotExist`), and checked the way it
 * checks one: an unknown operator, a value list that the operator forbids or needs, or a key or
 * value that is not a valid label is refused with a message saying which. OCM builds its cluster
 * set, predicate, claim and decision-group selectors on this, so a bad one makes a placement
 * Misconfigured rather than silently matching nothing. Pure.
 */
import type { LabelSelector, LabelSelectorRequirement } from '../../api/index.ts';

/** A checked selector. `matches` is pure and cheap; safe to call concurrently. */
export interface CompiledSelector {
  matches(labels: Readonly<Record<string, string>>): boolean;
}

/** The outcome of {@link compileLabelSelector}: a selector, or why the input is not one. */
export type SelectorResult =
  | { readonly ok: true; readonly selector: CompiledSelector }
  | { readonly ok: false; readonly message: string };

/** Matches every label set (an empty LabelSelector). */
export const EVERYTHING: CompiledSelector = { matches: () => true };
/** Matches no label set (a nil LabelSelector where the API says "nothing"). */
export const NOTHING: CompiledSelector = { matches: () => false };

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME_PART = 63;
const MAX_PREFIX = 253;

/** Why `key` is not a label key (an optional DNS-subdomain prefix and `/`, then a name), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > MAX_PREFIX || !DNS_SUBDOMAIN.test(prefix)))
    return `key ${JSON.stringify(key)}: the prefix must be a DNS subdomain of at most ${MAX_PREFIX} characters`;
  if (name.length === 0 || name.length > MAX_NAME_PART || !NAME_PART.test(name))
    return `key ${JSON.stringify(key)}: the name must be 1-${MAX_NAME_PART} alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  return undefined;
}

/** Why `value` is not a label value (empty, or at most 63 characters like a key's name), or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > MAX_NAME_PART || !NAME_PART.test(value))
    return `value ${JSON.stringify(value)}: must be empty or at most ${MAX_NAME_PART} alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  return undefined;
}

type Check = (labels: Readonly<Record<string, string>>) => boolean;

function has(labels: Readonly<Record<string, string>>, key: string): boolean {
  return Object.hasOwn(labels, key);
}

function requirement(expr: LabelSelectorRequirement): Check | string {
  const keyProblem = labelKeyProblem(expr.key);
  if (keyProblem !== undefined) return keyProblem;
  const values = expr.values ?? [];
  for (const value of values) {
    const problem = labelValueProblem(value);
    if (problem !== undefined) return `${expr.key}: ${problem}`;
  }
  const set = new Set(values);
  switch (expr.operator) {
    case 'In':
    case 'NotIn': {
      if (values.length === 0)
        return `${expr.key}: operator ${expr.operator} needs at least one value`;
      const isIn = expr.operator === 'In';
      return (labels) => {
        const present = has(labels, expr.key) && set.has(labels[expr.key] ?? '');
        return isIn ? present : !present;
      };
    }
    case 'Exists':
    case 'DoesNotExist': {
      if (values.length > 0) return `${expr.key}: operator ${expr.operator} takes no values`;
      const wanted = expr.operator === 'Exists';
      return (labels) => has(labels, expr.key) === wanted;
    }
    default:
      return `${expr.key}: ${JSON.stringify(expr.operator)} is not a label selector operator (In, NotIn, Exists, DoesNotExist)`;
  }
}

/**
 * Checks and compiles `selector`. An empty selector (no `matchLabels`, no `matchExpressions`)
 * matches everything; callers decide what an absent one means.
 */
export function compileLabelSelector(selector: LabelSelector): SelectorResult {
  const checks: Check[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem !== undefined) return { ok: false, message: `matchLabels: ${problem}` };
    checks.push((labels) => has(labels, key) && labels[key] === value);
  }
  for (const expr of selector.matchExpressions ?? []) {
    const check = requirement(expr);
    if (typeof check === 'string') return { ok: false, message: `matchExpressions: ${check}` };
    checks.push(check);
  }
  if (checks.length === 0) return { ok: true, selector: EVERYTHING };
  return { ok: true, selector: { matches: (labels) => checks.every((check) => check(labels)) } };
}
