/**
 * The compliance reason and message of one object template, with OCM's fixed phrases (issue 7):
 * results per namespace are grouped by outcome in a fixed order (found as specified, created,
 * updated, deleted, not found, found but not as specified, missing as expected, found), then by
 * object names, e.g. `configmaps [a] found as specified in namespaces: n1, n2` or
 * `namespaces [default] found as specified` (cluster-scoped: no namespace). When any result is
 * noncompliant only the noncompliant ones are reported. Pure.
 */

/** What happened to the objects of one namespace; `reason` keys the phrases below. */
export const Outcomes = {
  FoundAsExpected: 'Resource found as expected',
  Created: 'K8s creation success',
  Updated: 'K8s update success',
  Deleted: 'K8s deletion success',
  NotFoundShouldExist: 'Resource not found but should exist',
  FoundNoMatch: 'Resource found but does not match',
  NotFoundAsExpected: 'Resource not found as expected',
  FoundShouldNotExist: 'Resource found but should not exist',
} as const;
export type Outcome = (typeof Outcomes)[keyof typeof Outcomes];

/** Compliancy-details reason and message phrase of each outcome, in the order they print. */
const PHRASES: readonly (readonly [Outcome, string, string])[] = [
  [Outcomes.FoundAsExpected, 'K8s `must have` object already exists', 'found as specified'],
  [Outcomes.Created, 'K8s creation success', 'was created successfully'],
  [Outcomes.Updated, 'K8s update success', 'was updated successfully'],
  [Outcomes.Deleted, 'K8s deletion success', 'was deleted successfully'],
  [Outcomes.NotFoundShouldExist, 'K8s does not have a `must have` object', 'not found'],
  [Outcomes.FoundNoMatch, 'K8s does not have a `must have` object', 'found but not as specified'],
  [
    Outcomes.NotFoundAsExpected,
    'K8s `must not have` object already missing',
    'missing as expected',
  ],
  [Outcomes.FoundShouldNotExist, 'K8s has a `must not have` object', 'found'],
];

/**
 * The result of one template in one namespace (`''` for cluster-scoped objects). `reason` is an
 * {@link Outcome}, or another reason (an error) whose `message` is printed as it is.
 */
export interface NamespaceResult {
  readonly names: readonly string[];
  readonly isCompliant: boolean;
  readonly reason: string;
  readonly message?: string;
}

/** A template's verdict: compliant, the compliancy-details reason, and the message. */
export interface TemplateStatus {
  readonly isCompliant: boolean;
  readonly reason: string;
  readonly message: string;
}

function where(namespaces: readonly string[]): string {
  const named = namespaces.filter((ns) => ns !== '');
  if (named.length === 0) return '';
  if (named.length === 1) return ` in namespace ${named[0] ?? ''}`;
  return ` in namespaces: ${named.join(', ')}`;
}

/** See the module comment. `resource` is the plural resource name (`configmaps`). */
export function templateStatus(
  resource: string,
  results: ReadonlyMap<string, NamespaceResult>,
): TemplateStatus {
  const isCompliant = [...results.values()].every((r) => r.isCompliant);
  const kept = [...results].filter(([, r]) => r.isCompliant === isCompliant);
  const byReason = new Map<string, [string, NamespaceResult][]>();
  for (const entry of kept) {
    const list = byReason.get(entry[1].reason) ?? [];
    list.push(entry);
    byReason.set(entry[1].reason, list);
  }
  const known = new Set<string>(PHRASES.map(([outcome]) => outcome));
  const others = [...byReason.keys()].filter((r) => !known.has(r)).sort();
  const reasons: string[] = [];
  const messages: string[] = [];
  const addReason = (reason: string) => {
    if (!reasons.includes(reason)) reasons.push(reason);
  };
  for (const [outcome, detailsReason, phrase] of PHRASES) {
    const entries = byReason.get(outcome);
    if (entries === undefined) continue;
    addReason(detailsReason);
    const namespacesByNames = new Map<string, string[]>();
    for (const [ns, r] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const names = r.names.length > 0 ? ` [${[...r.names].sort().join(', ')}]` : '';
      namespacesByNames.set(names, [...(namespacesByNames.get(names) ?? []), ns]);
    }
    for (const names of [...namespacesByNames.keys()].sort()) {
      messages.push(`${resource}${names} ${phrase}${where(namespacesByNames.get(names) ?? [])}`);
    }
  }
  for (const reason of others) {
    addReason(reason);
    const entries = [...(byReason.get(reason) ?? [])].sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [, r] of entries) {
      const message = r.message ?? reason;
      if (!messages.includes(message)) messages.push(message);
    }
  }
  return { isCompliant, reason: reasons.join('; '), message: messages.join('; ') };
}

/**
 * The message of a whole ConfigurationPolicy, as OCM writes it in events and history:
 * `Compliant; notification - <m1>; notification - <m2>` or `NonCompliant; violation - <m1>;
 * notification - <m2>` (noncompliant when any template is).
 */
export function policyMessage(templates: readonly TemplateStatus[]): string {
  const isCompliant = templates.every((t) => t.isCompliant);
  const parts = templates.map(
    (t) => `${t.isCompliant ? 'notification' : 'violation'} - ${t.message}`,
  );
  return `${isCompliant ? 'Compliant' : 'NonCompliant'}; ${parts.join('; ')}`;
}
