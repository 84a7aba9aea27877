import type { Condition } from '../api/index.ts';

/** RFC 3339 with whole seconds, as the API server writes `metav1.Time`. */
export function conditionTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `conditions` with `next` set (added, or replacing the condition of its type):
 * `lastTransitionTime` is kept while the status holds and set to `now` when it changes, and an
 * earlier `observedGeneration` is kept unless `next` brings one. Pure; the input is not changed.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === next.status
      ? previous.lastTransitionTime
      : conditionTime(now);
  const merged: Condition = { ...next, lastTransitionTime };
  if (previous?.observedGeneration !== undefined && next.observedGeneration === undefined)
    merged.observedGeneration = previous.observedGeneration;
  return previous === undefined
    ? [...conditions, merged]
    : conditions.map((c) => (c.type === next.type ? merged : c));
}
