// Status feedback: well-known statuses, JSONPaths within the supported subset, typed values,
// the StatusFeedbackSynced condition.
import { describe, expect, it } from 'vitest';

import type { FeedbackRule } from '../../api/index.ts';
import { normalizeFeedbackPath, readFeedbackValue, statusFeedback } from './status-feedback.ts';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', annotations: { 'example.com/a.b': 'dotted' } },
  spec: { replicas: 3, paused: false },
  status: {
    replicas: 3,
    readyReplicas: 2,
    conditions: [
      { type: 'Available', status: 'True' },
      { type: 'Progressing', status: 'False' },
    ],
  },
};
const apps = { group: 'apps', version: 'v1', kind: 'Deployment' };

describe('JSONPath subset', () => {
  it.each<{ path: string; ok: boolean }>([
    { path: '.status.readyReplicas', ok: true },
    { path: '{.status.readyReplicas}', ok: true },
    { path: '$.status.replicas', ok: true },
    { path: '.status.conditions[?(@.type=="Available")].status', ok: true },
    { path: ".status.conditions[?(@.type!='Available')].status", ok: true },
    { path: ".metadata.annotations['example.com/a.b']", ok: true },
    { path: '.status.conditions[0].type', ok: true },
    { path: '.status.conditions[*].type', ok: true },
    { path: '.status..replicas', ok: false },
    { path: '.status.conditions[?(@.type.constructor)]', ok: false },
    { path: '.a[(function(){})()]', ok: false },
    { path: '', ok: false },
  ])('$path: $ok', ({ path, ok }) => {
    expect(normalizeFeedbackPath(path) !== undefined).toBe(ok);
  });

  it.each<{ path: string; value: unknown }>([
    { path: '.spec.replicas', value: { type: 'Integer', integer: 3 } },
    { path: '.spec.paused', value: { type: 'Boolean', boolean: false } },
    {
      path: '.status.conditions[?(@.type=="Available")].status',
      value: { type: 'String', string: 'True' },
    },
    {
      path: ".metadata.annotations['example.com/a.b']",
      value: { type: 'String', string: 'dotted' },
    },
  ])('reads $path', ({ path, value }) => {
    expect(readFeedbackValue(deployment, 'v', path)).toEqual({
      value: { name: 'v', fieldValue: value },
    });
  });

  it('gives nothing for an absent field and an error for a structure', () => {
    expect(readFeedbackValue(deployment, 'v', '.status.availableReplicas')).toEqual({});
    expect(readFeedbackValue(deployment, 'v', '.status.conditions')).toEqual({
      error: 'the value of v at .status.conditions is a array, not an integer, string or boolean',
    });
  });
});

describe('statusFeedback', () => {
  it('without rules: no values, NoStatusFeedbackSynced', () => {
    expect(statusFeedback(deployment, apps, undefined)).toEqual({
      values: [],
      condition: {
        status: 'True',
        reason: 'NoStatusFeedbackSynced',
        message: 'No status feedback rules',
      },
    });
  });

  it('WellKnownStatus of a Deployment reports what is set, in OCM order, then JSONPaths', () => {
    const rules: FeedbackRule[] = [
      { type: 'WellKnownStatus' },
      {
        type: 'JSONPaths',
        jsonPaths: [
          { name: 'isAvailable', path: '.status.conditions[?(@.type=="Available")].status' },
          { name: 'other-version', version: 'v2', path: '.spec.replicas' },
        ],
      },
    ];
    expect(statusFeedback(deployment, apps, rules)).toEqual({
      values: [
        { name: 'ReadyReplicas', fieldValue: { type: 'Integer', integer: 2 } },
        { name: 'Replicas', fieldValue: { type: 'Integer', integer: 3 } },
        { name: 'isAvailable', fieldValue: { type: 'String', string: 'True' } },
      ],
      condition: {
        status: 'True',
        reason: 'StatusFeedbackSynced',
        message: 'Status feedback synced',
      },
    });
  });

  it.each<{
    name: string;
    kind: { group: string; version: string; kind: string };
    object: unknown;
    values: unknown[];
  }>([
    {
      name: 'Job',
      kind: { group: 'batch', version: 'v1', kind: 'Job' },
      object: { status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } },
      values: [
        { name: 'JobComplete', fieldValue: { type: 'String', string: 'True' } },
        { name: 'JobSucceeded', fieldValue: { type: 'Integer', integer: 1 } },
      ],
    },
    {
      name: 'Pod',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      object: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } },
      values: [
        { name: 'PodReady', fieldValue: { type: 'String', string: 'False' } },
        { name: 'PodPhase', fieldValue: { type: 'String', string: 'Running' } },
      ],
    },
    {
      name: 'DaemonSet',
      kind: { group: 'apps', version: 'v1', kind: 'DaemonSet' },
      object: { status: { numberReady: 1, desiredNumberScheduled: 2, numberAvailable: 1 } },
      values: [
        { name: 'NumberReady', fieldValue: { type: 'Integer', integer: 1 } },
        { name: 'DesiredNumberScheduled', fieldValue: { type: 'Integer', integer: 2 } },
        { name: 'NumberAvailable', fieldValue: { type: 'Integer', integer: 1 } },
      ],
    },
  ])('WellKnownStatus of a $name', ({ kind, object, values }) => {
    expect(statusFeedback(object, kind, [{ type: 'WellKnownStatus' }]).values).toEqual(values);
  });

  it('fails the sync for a kind without well-known statuses and for bad paths, keeping good values', () => {
    const result = statusFeedback(
      { data: { a: 'x' } },
      { group: '', version: 'v1', kind: 'ConfigMap' },
      [
        { type: 'WellKnownStatus' },
        {
          type: 'JSONPaths',
          jsonPaths: [
            { name: 'a', path: '.data.a' },
            { name: 'bad', path: '.data..a' },
          ],
        },
      ],
    );
    expect(result.values).toEqual([{ name: 'a', fieldValue: { type: 'String', string: 'x' } }]);
    expect(result.condition).toEqual({
      status: 'False',
      reason: 'StatusFeedbackSyncFailed',
      message:
        'Sync status feedback failed: there are no well-known statuses for ConfigMap; ' +
        'the path ".data..a" of bad is not a supported JSONPath',
    });
  });
});
