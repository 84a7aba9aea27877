/**
 * The core/v1 Events that record a replica's compliance (issue 7). In OCM the template
 * controller on the managed cluster records each evaluation as an Event on the parent Policy in
 * the cluster namespace, and the framework add-on's status-sync records on the hub replica that
 * its status changed. The hub evaluates here, so both land on the hub, in the cluster namespace,
 * on the replica. Pure.
 *
 * - A **compliance event** per template whose history gained an entry: named after that entry
 *   (`<replica>.<hex unix nanoseconds>`, so `status.details[].history[].eventName` names a real
 *   Event), reason `policy: <cluster namespace>/<template name>`, the entry's message
 *   (`Compliant; …` / `NonCompliant; …`), type Normal when the template is Compliant and Warning
 *   otherwise.
 * - A **status-sync event** when the replica's `compliant` changed or a template's history
 *   gained an entry: reason `PolicyStatusSync`,
 *   message `Policy <replica> status was updated to <compliant> in cluster namespace <cluster>`,
 *   type Normal, named as the next compliance event after this evaluation's would be.
 */
import type { CoreV1Event } from '@kubernetes/client-node';

import { POLICY_GROUP, type Policy, type PolicyStatus } from '../../api/index.ts';
import { eventName } from './policy-status.ts';

/** The reason of the status-sync event. */
export const POLICY_STATUS_SYNC_REASON = 'PolicyStatusSync';
/** `source.component` and `reportingComponent` of the events. */
export const POLICY_EVENT_COMPONENT = 'spokelink-policy-evaluator';

/** The compliance reason of a template's events: `policy: <namespace>/<template name>`. */
export function complianceReason(namespace: string, template: string): string {
  return `policy: ${namespace}/${template}`;
}

/**
 * The Events to record now that `replica`'s status went from `previous` to `next` at `at` (both
 * from `replicaStatus()`); none when nothing changed. Creating one twice is a conflict the
 * caller ignores (the names are fixed).
 */
export function complianceEvents(
  replica: Policy,
  previous: PolicyStatus | undefined,
  next: PolicyStatus,
  at: Date,
): CoreV1Event[] {
  const name = replica.metadata?.name ?? '';
  const namespace = replica.metadata?.namespace ?? '';
  const involvedObject = {
    apiVersion: `${POLICY_GROUP}/v1`,
    kind: 'Policy',
    name,
    namespace,
    ...(replica.metadata?.uid === undefined ? {} : { uid: replica.metadata.uid }),
  };
  const event = (
    eventNameOf: string,
    reason: string,
    message: string,
    type: 'Normal' | 'Warning',
  ): CoreV1Event => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: eventNameOf, namespace },
    involvedObject,
    reason,
    message,
    type,
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
    source: { component: POLICY_EVENT_COMPONENT },
    reportingComponent: POLICY_EVENT_COMPONENT,
    reportingInstance: POLICY_EVENT_COMPONENT,
  });
  const before = new Map<string, string | undefined>();
  for (const d of previous?.details ?? []) {
    const template = (d.templateMeta as { name?: unknown } | undefined)?.name;
    if (typeof template === 'string') before.set(template, d.history?.[0]?.eventName);
  }
  const events: CoreV1Event[] = [];
  const details = next.details ?? [];
  for (const d of details) {
    const template = (d.templateMeta as { name?: unknown } | undefined)?.name;
    const newest = d.history?.[0];
    if (typeof template !== 'string' || newest?.eventName === undefined) continue;
    if (before.get(template) === newest.eventName) continue;
    events.push(
      event(
        newest.eventName,
        complianceReason(namespace, template),
        newest.message ?? '',
        d.compliant === 'Compliant' ? 'Normal' : 'Warning',
      ),
    );
  }
  const isChanged = previous?.compliant !== next.compliant || events.length > 0;
  if (isChanged) {
    events.push(
      event(
        eventName(name, at, details.length),
        POLICY_STATUS_SYNC_REASON,
        `Policy ${name} status was updated to ${next.compliant ?? ''} in cluster namespace ${namespace}`,
        'Normal',
      ),
    );
  }
  return events;
}
