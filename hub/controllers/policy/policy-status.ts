/**
 * The status a replicated Policy carries (issue 7, OCM's status-sync): one `details[]` entry per
 * policy template with its `compliant`, `templateMeta.name` and `history` (newest first, at most
 * {@link MAX_HISTORY}, a message equal to the newest one is not added again; the event name is
 * `<replica name>.<hex unix nanoseconds>` as OCM's compliance events are named), and the
 * replica's `compliant` (NonCompliant > Pending > Compliant over the details). Also the
 * `evaluationInterval` rules. Pure.
 */
import type { ComplianceState, PolicyStatus } from '../../api/index.ts';
import { omitKeys } from './object-compare.ts';
import { aggregateCompliance } from './propagation.ts';

/** History entries kept per template. */
export const MAX_HISTORY = 10;

type Detail = NonNullable<PolicyStatus['details']>[number];

/** One template's outcome in this evaluation. */
export interface TemplateOutcome {
  readonly name: string;
  readonly compliant: ComplianceState;
  /** The full message, e.g. `Compliant; notification - namespaces [a] found as specified`. */
  readonly message: string;
}

/**
 * The event name of a compliance event at `at`: `<replica>.<hex unix nanoseconds>`. `offsetNs`
 * (the template's index) keeps the names of one evaluation's events apart: a Date holds only
 * milliseconds, and each name is also a core/v1 Event's (compliance-events.ts).
 */
export function eventName(replica: string, at: Date, offsetNs = 0): string {
  return `${replica}.${(BigInt(at.getTime()) * 1_000_000n + BigInt(offsetNs)).toString(16)}`;
}

function timestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The replica's new status from `previous` and this evaluation's `outcomes` (in template order);
 * a template's history is carried over by name.
 */
export function replicaStatus(
  replica: string,
  previous: PolicyStatus | undefined,
  outcomes: readonly TemplateOutcome[],
  at: Date,
): PolicyStatus {
  const before = new Map<string, Detail>();
  for (const d of previous?.details ?? []) {
    const name = (d.templateMeta as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string') before.set(name, d);
  }
  const details: Detail[] = outcomes.map((o, i) => {
    const old = before.get(o.name)?.history ?? [];
    const history =
      old[0]?.message === o.message
        ? old
        : [
            {
              eventName: eventName(replica, at, i),
              lastTimestamp: timestamp(at),
              message: o.message,
            },
            ...old,
          ].slice(0, MAX_HISTORY);
    return { compliant: o.compliant, templateMeta: { name: o.name }, history };
  });
  const compliant = aggregateCompliance(details.map((d) => d.compliant));
  const rest = omitKeys(previous ?? {}, 'compliant');
  return { ...rest, ...(compliant === undefined ? {} : { compliant }), details };
}

/** `watch` (re-evaluate on every change), `never`, or a minimum interval in ms. */
export type EvaluationInterval = 'watch' | 'never' | number;

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses `watch`, `never` or a Go duration (`1h30m`, `45s`); undefined when malformed. */
export function parseInterval(text: string | undefined): EvaluationInterval | undefined {
  if (text === undefined || text === '' || text === 'watch') return 'watch';
  if (text === 'never') return 'never';
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = part.exec(text); m !== null; m = part.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
    at = part.lastIndex;
  }
  return at === text.length && at > 0 ? total : undefined;
}

/**
 * Whether a policy evaluated at `lastAt` (ms) with outcome `wasCompliant` is due at `now`:
 * always for `watch`; never for `never`; after the interval otherwise. `waitMs` says when it
 * becomes due.
 */
export function isDue(
  interval: EvaluationInterval,
  lastAt: number,
  now: number,
): { readonly isDue: boolean; readonly waitMs?: number } {
  if (interval === 'watch') return { isDue: true };
  if (interval === 'never') return { isDue: false };
  const waitMs = lastAt + interval - now;
  return waitMs <= 0 ? { isDue: true, waitMs: interval } : { isDue: false, waitMs };
}
