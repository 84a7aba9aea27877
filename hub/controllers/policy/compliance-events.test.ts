import { describe, expect, it } from 'vitest';

import type { Policy } from '../../api/index.ts';
import {
  complianceEvents,
  POLICY_EVENT_COMPONENT,
  POLICY_STATUS_SYNC_REASON,
} from './compliance-events.ts';
import { eventName, replicaStatus, type TemplateOutcome } from './policy-status.ts';

const T0 = new Date('2026-01-02T03:04:05.678Z');
const T1 = new Date(T0.getTime() + 1000);
const REPLICA: Policy = {
  apiVersion: 'policy.open-cluster-management.io/v1',
  kind: 'Policy',
  metadata: { name: 'policies.p1', namespace: 'cluster1', uid: 'u-1' },
  spec: { disabled: false, 'policy-templates': [] },
};
const INVOLVED = {
  apiVersion: 'policy.open-cluster-management.io/v1',
  kind: 'Policy',
  name: 'policies.p1',
  namespace: 'cluster1',
  uid: 'u-1',
};
const bad = (name: string, m = 'x'): TemplateOutcome => ({
  name,
  compliant: 'NonCompliant',
  message: `NonCompliant; violation - ${m}`,
});
const good = (name: string): TemplateOutcome => ({
  name,
  compliant: 'Compliant',
  message: 'Compliant; notification - y',
});

describe('complianceEvents', () => {
  it('records one event per new history entry, named after it, and a status-sync event', () => {
    const status = replicaStatus('policies.p1', undefined, [bad('a'), good('b')], T0);
    const events = complianceEvents(REPLICA, undefined, status, T0);
    expect(events.map((e) => [e.metadata.name, e.reason, e.message, e.type])).toEqual([
      [
        eventName('policies.p1', T0, 0),
        'policy: cluster1/a',
        'NonCompliant; violation - x',
        'Warning',
      ],
      [
        eventName('policies.p1', T0, 1),
        'policy: cluster1/b',
        'Compliant; notification - y',
        'Normal',
      ],
      [
        eventName('policies.p1', T0, 2),
        POLICY_STATUS_SYNC_REASON,
        'Policy policies.p1 status was updated to NonCompliant in cluster namespace cluster1',
        'Normal',
      ],
    ]);
    expect(status.details?.map((d) => d.history?.[0]?.eventName)).toEqual([
      eventName('policies.p1', T0, 0),
      eventName('policies.p1', T0, 1),
    ]);
    expect(events[0]).toMatchObject({
      metadata: { namespace: 'cluster1' },
      involvedObject: INVOLVED,
      count: 1,
      firstTimestamp: T0,
      lastTimestamp: T0,
      source: { component: POLICY_EVENT_COMPONENT },
    });
  });

  it('records only templates whose history moved; nothing when nothing did', () => {
    const first = replicaStatus('policies.p1', undefined, [bad('a'), good('b')], T0);
    const same = replicaStatus('policies.p1', first, [bad('a'), good('b')], T1);
    expect(complianceEvents(REPLICA, first, same, T1)).toEqual([]);
    const moved = replicaStatus('policies.p1', first, [bad('a', 'z'), good('b')], T1);
    expect(complianceEvents(REPLICA, first, moved, T1).map((e) => e.reason)).toEqual([
      'policy: cluster1/a',
      POLICY_STATUS_SYNC_REASON,
    ]);
  });
});
