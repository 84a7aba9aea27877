/**
 * A ConfigurationPolicy's `namespaceSelector` (OCM semantics): `include` and `exclude` are shell
 * globs (Go `filepath.Match`: `*`, `?`, `[a-z]`, `[^a]`, `\` escapes), `matchLabels` and
 * `matchExpressions` a label selector on the namespace; every rule that is set must hold. A
 * label selector without `include` acts as `include: ["*"]`; a selector with nothing set selects
 * nothing. Pure.
 */
import type { ConfigurationPolicySpec } from '../../api/index.ts';
import { compileLabelSelector } from '../cluster-set/label-selector.ts';

/** The selector as the spec holds it. */
export type NamespaceSelector = NonNullable<ConfigurationPolicySpec['namespaceSelector']>;

/** A namespace on the cluster: its name and labels. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The outcome: the selected names (sorted), or why the selector is malformed. */
export type NamespaceSelection =
  | { readonly ok: true; readonly namespaces: readonly string[] }
  | { readonly ok: false; readonly message: string };

function classToRegex(body: string): string {
  const negate = body.startsWith('^');
  const inner = (negate ? body.slice(1) : body).replace(/[\]\\]/g, (c) => `\\${c}`);
  return `[${negate ? '^' : ''}${inner}]`;
}

/** Compiles a Go `filepath.Match` pattern; undefined when it is malformed (ErrBadPattern). */
export function compileGlob(pattern: string): RegExp | undefined {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) return undefined;
      out += pattern.charAt(i).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return undefined;
      out += classToRegex(pattern.slice(i + 1, end));
      i = end;
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  try {
    return new RegExp(`^${out}$`);
  } catch {
    return undefined;
  }
}

function compileAll(patterns: readonly string[], field: string): RegExp[] | string {
  const out: RegExp[] = [];
  for (const p of patterns) {
    const re = compileGlob(p);
    if (re === undefined)
      return `namespaceSelector.${field}: ${JSON.stringify(p)} is not a valid pattern`;
    out.push(re);
  }
  return out;
}

/** The namespaces of `all` that `selector` selects (see the module comment). */
export function selectNamespaces(
  selector: NamespaceSelector | undefined,
  all: readonly NamespaceInfo[],
): NamespaceSelection {
  if (selector === undefined) return { ok: true, namespaces: [] };
  const hasLabels =
    Object.keys(selector.matchLabels ?? {}).length > 0 ||
    (selector.matchExpressions ?? []).length > 0;
  const includePatterns = selector.include ?? (hasLabels ? ['*'] : []);
  if (includePatterns.length === 0) return { ok: true, namespaces: [] };
  const include = compileAll(includePatterns, 'include');
  if (typeof include === 'string') return { ok: false, message: include };
  const exclude = compileAll(selector.exclude ?? [], 'exclude');
  if (typeof exclude === 'string') return { ok: false, message: exclude };
  let matchesLabels: (labels: Readonly<Record<string, string>>) => boolean = () => true;
  if (hasLabels) {
    const compiled = compileLabelSelector({
      ...(selector.matchLabels === undefined ? {} : { matchLabels: selector.matchLabels }),
      ...(selector.matchExpressions === undefined
        ? {}
        : { matchExpressions: selector.matchExpressions }),
    });
    if (!compiled.ok) return { ok: false, message: `namespaceSelector: ${compiled.message}` };
    matchesLabels = (labels) => compiled.selector.matches(labels);
  }
  const namespaces = all
    .filter(
      (ns) =>
        include.some((re) => re.test(ns.name)) &&
        !exclude.some((re) => re.test(ns.name)) &&
        matchesLabels(ns.labels ?? {}),
    )
    .map((ns) => ns.name)
    .sort();
  return { ok: true, namespaces };
}
