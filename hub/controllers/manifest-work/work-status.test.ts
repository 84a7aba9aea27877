// Manifest and work conditions from what a reconcile saw: OCM's types, reasons and messages,
// rule conditions and their aggregation, transition times kept, the outage and deleting states.
import { describe, expect, it } from 'vitest';

import type { Condition, ManifestWork } from '../../api/index.ts';
import { aggregateRuleConditions, evaluateConditionRules } from './condition-rules.ts';
import {
  decideWorkStatus,
  deletingStatus,
  notAppliedStatus,
  unreachableStatus,
  type ManifestOutcome,
} from './work-status.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:05:00Z');
const synced = {
  values: [],
  condition: {
    status: 'True' as const,
    reason: 'NoStatusFeedbackSynced',
    message: 'No status feedback rules',
  },
};

function outcome(ordinal: number, overrides: Partial<ManifestOutcome> = {}): ManifestOutcome {
  return {
    meta: {
      ordinal,
      version: 'v1',
      kind: 'ConfigMap',
      resource: 'configmaps',
      name: `cm${ordinal}`,
      namespace: 'ns',
    },
    applied: { ok: true },
    fetch: { state: 'found', live: {} },
    feedback: synced,
    rules: [],
    ...overrides,
  };
}

const work: ManifestWork = {
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'ManifestWork',
  metadata: { name: 'w', namespace: 'c1', generation: 4 },
};

const brief = (conditions: readonly Condition[] | undefined) =>
  (conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]);

describe('decideWorkStatus', () => {
  it('all applied and present: Applied/AppliedManifestWorkComplete, Available/ResourcesAvailable', () => {
    const status = decideWorkStatus(work, [outcome(0), outcome(1)], T0);
    expect(brief(status.conditions)).toEqual([
      ['Applied', 'True', 'AppliedManifestWorkComplete', 'Apply manifest work complete'],
      ['Available', 'True', 'ResourcesAvailable', 'All resources are available'],
    ]);
    expect(status.conditions?.every((c) => c.observedGeneration === 4)).toBe(true);
    expect(brief(status.resourceStatus?.manifests?.[0]?.conditions)).toEqual([
      ['Applied', 'True', 'AppliedManifestComplete', 'Apply manifest complete'],
      ['Available', 'True', 'ResourceAvailable', 'Resource is available'],
      ['StatusFeedbackSynced', 'True', 'NoStatusFeedbackSynced', 'No status feedback rules'],
    ]);
  });

  it.each<{ name: string; outcomes: ManifestOutcome[]; applied: unknown[]; available: unknown[] }>([
    {
      name: 'one refused by the spoke, not there',
      outcomes: [
        outcome(0),
        outcome(1, { applied: { ok: false, message: 'denied' }, fetch: { state: 'missing' } }),
      ],
      applied: [
        'Applied',
        'False',
        'AppliedManifestWorkFailed',
        'Failed to apply manifest work: 1 of 2 manifests failed',
      ],
      available: [
        'Available',
        'False',
        'ResourcesNotAvailable',
        '1 of 2 resources are not available',
      ],
    },
    {
      name: 'one of an unknown kind',
      outcomes: [
        outcome(0),
        outcome(1, { applied: { ok: false, message: 'no kind' }, fetch: { state: 'incomplete' } }),
      ],
      applied: [
        'Applied',
        'False',
        'AppliedManifestWorkFailed',
        'Failed to apply manifest work: 1 of 2 manifests failed',
      ],
      available: [
        'Available',
        'Unknown',
        'ResourcesStatusUnknown',
        '1 of 2 resources have unknown status',
      ],
    },
    {
      name: 'False beats Unknown',
      outcomes: [
        outcome(0, { fetch: { state: 'failed', message: 'x' } }),
        outcome(1, { fetch: { state: 'missing' } }),
      ],
      applied: ['Applied', 'True', 'AppliedManifestWorkComplete', 'Apply manifest work complete'],
      available: [
        'Available',
        'False',
        'ResourcesNotAvailable',
        '1 of 2 resources are not available',
      ],
    },
  ])('$name', ({ outcomes, applied, available }) => {
    const status = decideWorkStatus(work, outcomes, T0);
    expect(brief(status.conditions)).toEqual([applied, available]);
  });

  it('keeps lastTransitionTime while a status holds and an unchanged world gives an equal status', () => {
    const first = decideWorkStatus(work, [outcome(0)], T0);
    const again = decideWorkStatus({ ...work, status: first }, [outcome(0)], T1);
    expect(again).toEqual(first);
    const failed = decideWorkStatus(
      { ...work, status: first },
      [outcome(0, { applied: { ok: false, message: 'x' } })],
      T1,
    );
    const applied = (s: typeof first) => s.conditions?.find((c) => c.type === 'Applied');
    expect(applied(failed)?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
    expect(failed.conditions?.find((c) => c.type === 'Available')?.lastTransitionTime).toBe(
      '2026-01-01T00:00:00Z',
    );
  });

  it('adds rule conditions per manifest and aggregated at the work level, only when rules produce them', () => {
    const complete = (status: 'True' | 'False') => ({
      type: 'Complete',
      status,
      reason: 'ConditionRuleEvaluated',
      message: '',
    });
    const status = decideWorkStatus(
      work,
      [
        outcome(0, { rules: [complete('True')] }),
        outcome(1, { rules: [complete('False')] }),
        outcome(2),
      ],
      T0,
    );
    expect(brief(status.conditions)[2]).toEqual([
      'Complete',
      'False',
      'ConditionRulesAggregated',
      '1 of 2 manifests with this condition report False',
    ]);
    expect(status.resourceStatus?.manifests?.[0]?.conditions.map((c) => c.type)).toEqual([
      'Applied',
      'Available',
      'StatusFeedbackSynced',
      'Complete',
    ]);
    expect(
      decideWorkStatus({ ...work, status }, [outcome(0)], T1).conditions?.map((c) => c.type),
    ).toEqual(['Applied', 'Available']);
  });
});

describe('condition rules', () => {
  it.each<{
    name: string;
    object: Record<string, unknown>;
    kind: { group: string; kind: string };
    status: string;
  }>([
    {
      name: 'a complete Job',
      object: { status: { conditions: [{ type: 'Complete', status: 'True' }] } },
      kind: { group: 'batch', kind: 'Job' },
      status: 'True',
    },
    {
      name: 'a running Job',
      object: { status: {} },
      kind: { group: 'batch', kind: 'Job' },
      status: 'False',
    },
    {
      name: 'a succeeded Pod',
      object: { status: { phase: 'Succeeded' } },
      kind: { group: '', kind: 'Pod' },
      status: 'True',
    },
    {
      name: 'a pending Pod',
      object: { status: { phase: 'Pending' } },
      kind: { group: '', kind: 'Pod' },
      status: 'False',
    },
  ])('WellKnownConditions: $name', ({ object, kind, status }) => {
    expect(
      evaluateConditionRules(object, kind, [{ condition: '', type: 'WellKnownConditions' }]),
    ).toEqual([
      expect.objectContaining({ type: 'Complete', status, reason: 'ConditionRuleEvaluated' }),
    ]);
  });

  it('gives no well-known condition for other kinds, evaluates CEL rules, marks unknown types invalid', () => {
    expect(
      evaluateConditionRules({}, { group: 'apps', kind: 'Deployment' }, [
        { condition: '', type: 'WellKnownConditions' },
      ]),
    ).toEqual([]);
    expect(
      evaluateConditionRules({ spec: { replicas: 1 } }, { group: 'apps', kind: 'Deployment' }, [
        { condition: 'Progressing', type: 'CEL', celExpressions: ['object.spec.replicas == 1'] },
      ]),
    ).toEqual([
      {
        type: 'Progressing',
        status: 'True',
        reason: 'ConditionRuleEvaluated',
        message: 'Manifest is Progressing',
      },
    ]);
    expect(
      evaluateConditionRules({}, { group: 'apps', kind: 'Deployment' }, [
        { condition: 'Ready', type: 'Other' as 'CEL' },
      ]),
    ).toEqual([
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'ConditionRuleInvalid',
        message: 'unrecognized condition rule type Other',
      },
    ]);
    expect(
      evaluateConditionRules({ status: { phase: 'Failed' } }, { group: '', kind: 'Pod' }, [
        {
          condition: 'Complete',
          type: 'WellKnownConditions',
          messageExpression: 'result ? "done: " + object.status.phase : ""',
        },
      ]),
    ).toEqual([expect.objectContaining({ status: 'True', message: 'done: Failed' })]);
    expect(
      evaluateConditionRules(undefined, { group: 'batch', kind: 'Job' }, [
        { condition: '', type: 'WellKnownConditions' },
      ]),
    ).toEqual([]);
  });

  it.each<{
    name: string;
    type: string;
    statuses: Array<'True' | 'False' | 'Unknown'>;
    status: string;
  }>([
    {
      name: 'Progressing: any True',
      type: 'Progressing',
      statuses: ['False', 'True', 'Unknown'],
      status: 'True',
    },
    {
      name: 'Progressing: else Unknown',
      type: 'Progressing',
      statuses: ['False', 'Unknown'],
      status: 'Unknown',
    },
    {
      name: 'Progressing: else False',
      type: 'Progressing',
      statuses: ['False', 'False'],
      status: 'False',
    },
    {
      name: 'others: False beats Unknown',
      type: 'Degraded',
      statuses: ['True', 'Unknown', 'False'],
      status: 'False',
    },
    {
      name: 'others: Unknown beats True',
      type: 'Complete',
      statuses: ['True', 'Unknown'],
      status: 'Unknown',
    },
    { name: 'others: all True', type: 'Complete', statuses: ['True', 'True'], status: 'True' },
  ])('aggregation, $name', ({ type, statuses, status }) => {
    const [aggregated] = aggregateRuleConditions(statuses.map((s) => [{ type, status: s }]));
    expect(aggregated).toMatchObject({ type, status, reason: 'ConditionRulesAggregated' });
  });
});

describe('states without a full reconcile', () => {
  const applied = decideWorkStatus(work, [outcome(0)], T0);
  const before = { ...work, status: applied };

  it('unreachable: Available Unknown, Applied and the manifests as last known', () => {
    const status = unreachableStatus(before, 'away', T1);
    expect(brief(status.conditions)).toEqual([
      ['Applied', 'True', 'AppliedManifestWorkComplete', 'Apply manifest work complete'],
      ['Available', 'Unknown', 'ResourcesStatusUnknown', 'away'],
    ]);
    expect(status.resourceStatus).toEqual(applied.resourceStatus);
  });

  it('not applied at all, and deleting', () => {
    expect(brief(notAppliedStatus(before, 'too large', T1).conditions)[0]).toEqual([
      'Applied',
      'False',
      'AppliedManifestWorkFailed',
      'too large',
    ]);
    expect(brief(deletingStatus(before, '1 of 2 left', T1).conditions)[2]).toEqual([
      'Deleting',
      'True',
      'WorkDeleting',
      '1 of 2 left',
    ]);
  });
});
