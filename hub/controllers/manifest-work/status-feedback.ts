/**
 * Status feedback (pure): the values a manifest's `feedbackRules` read from the live object,
 * for `status.resourceStatus.manifests[].statusFeedback.values`, and the `StatusFeedbackSynced`
 * condition, with OCM's well-known statuses and reasons.
 *
 * JSONPaths are evaluated by `jsonpath-plus` after a check that the path stays within the subset
 * OCM users write (see {@link FEEDBACK_PATH_SUBSET}): nothing in a path is ever run as code.
 */
import { JSONPath } from 'jsonpath-plus';

import { WorkReasons, type FeedbackRule, type FeedbackValue } from '../../api/index.ts';

/** A well-known status: a value name and the path it is read from. */
interface WellKnownPath {
  readonly name: string;
  readonly path: string;
}

/** OCM's built-in WellKnownStatus paths, by `group/Kind`. */
const WELL_KNOWN_STATUS: Readonly<Record<string, readonly WellKnownPath[]>> = {
  'apps/Deployment': [
    { name: 'ReadyReplicas', path: '.status.readyReplicas' },
    { name: 'Replicas', path: '.status.replicas' },
    { name: 'AvailableReplicas', path: '.status.availableReplicas' },
  ],
  'apps/DaemonSet': [
    { name: 'NumberReady', path: '.status.numberReady' },
    { name: 'DesiredNumberScheduled', path: '.status.desiredNumberScheduled' },
    { name: 'NumberAvailable', path: '.status.numberAvailable' },
  ],
  'batch/Job': [
    { name: 'JobComplete', path: '.status.conditions[?(@.type=="Complete")].status' },
    { name: 'JobSucceeded', path: '.status.succeeded' },
  ],
  '/Pod': [
    { name: 'PodReady', path: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'PodPhase', path: '.status.phase' },
  ],
};

/**
 * The JSONPath forms accepted, one segment after another: `.field`, `['any.key/with-dots']`,
 * `[0]`, `[*]`, and filters `[?(@.a.b=="x")]` / `[?(@.a!="x")]` (a string, number or boolean
 * literal). A leading `$` and k8s-style `{…}` braces are accepted and dropped. The first match is
 * the value, as in OCM.
 */
export const FEEDBACK_PATH_SUBSET =
  '.field, [\'key\'], [n], [*], [?(@.field=="value")], [?(@.field!="value")]';

const SEGMENT =
  /^(?:\.[A-Za-z0-9_-]+|\[\d+\]|\[\*\]|\['[^'\]]*'\]|\[\?\(@(?:\.[A-Za-z0-9_-]+)+\s*(?:==|!=)\s*(?:"[^"\\]*"|'[^'\\]*'|-?\d+(?:\.\d+)?|true|false)\s*\)\])/;

/** `path` normalised to start with `.` or `[`, or undefined when it is outside the subset. */
export function normalizeFeedbackPath(path: string): string | undefined {
  let rest = path.trim();
  if (rest.startsWith('{') && rest.endsWith('}')) rest = rest.slice(1, -1).trim();
  if (rest.startsWith('$')) rest = rest.slice(1);
  if (rest === '') return undefined;
  const normalized = rest;
  while (rest !== '') {
    const match = SEGMENT.exec(rest);
    if (match === null) return undefined;
    rest = rest.slice(match[0].length);
  }
  return normalized;
}

/** A feedback value read from `object` at `path`: a value, nothing (absent), or an error. */
export function readFeedbackValue(
  object: unknown,
  name: string,
  path: string,
): { value?: FeedbackValue; error?: string } {
  const normalized = normalizeFeedbackPath(path);
  if (normalized === undefined) {
    return { error: `the path ${JSON.stringify(path)} of ${name} is not a supported JSONPath` };
  }
  const results = JSONPath({
    path: `$${normalized}`,
    json: object as object,
    wrap: true,
    eval: 'safe',
  }) as unknown[];
  const found = results[0];
  if (found === undefined || found === null) return {};
  if (typeof found === 'number' && Number.isInteger(found)) {
    return { value: { name, fieldValue: { type: 'Integer', integer: found } } };
  }
  if (typeof found === 'string')
    return { value: { name, fieldValue: { type: 'String', string: found } } };
  if (typeof found === 'boolean') {
    return { value: { name, fieldValue: { type: 'Boolean', boolean: found } } };
  }
  const type = Array.isArray(found) ? 'array' : typeof found === 'number' ? 'float' : typeof found;
  return {
    error: `the value of ${name} at ${path} is a ${type}, not an integer, string or boolean`,
  };
}

/** What the feedback rules read and the `StatusFeedbackSynced` condition that goes with it. */
export interface FeedbackResult {
  readonly values: FeedbackValue[];
  readonly condition: { status: 'True' | 'False'; reason: string; message: string };
}

/**
 * Evaluates `rules` on the live `object` of kind `group`/`kind` at `version`. No rules:
 * `NoStatusFeedbackSynced` (True). Any rule error (a kind without well-known statuses, a path
 * outside the subset, a value of another type): `StatusFeedbackSyncFailed` (False) with the
 * values that could be read. Else `StatusFeedbackSynced` (True); absent fields give no value.
 */
export function statusFeedback(
  object: unknown,
  resource: { readonly group: string; readonly version: string; readonly kind: string },
  rules: readonly FeedbackRule[] | undefined,
): FeedbackResult {
  if (rules === undefined || rules.length === 0) {
    return {
      values: [],
      condition: {
        status: 'True',
        reason: WorkReasons.NoStatusFeedbackSynced,
        message: 'No status feedback rules',
      },
    };
  }
  const values: FeedbackValue[] = [];
  const errors: string[] = [];
  const add = (name: string, path: string): void => {
    const { value, error } = readFeedbackValue(object, name, path);
    if (error !== undefined) errors.push(error);
    if (value !== undefined && !values.some((v) => v.name === value.name)) values.push(value);
  };
  for (const rule of rules) {
    if (rule.type === 'WellKnownStatus') {
      const paths = WELL_KNOWN_STATUS[`${resource.group}/${resource.kind}`];
      if (paths === undefined) {
        errors.push(`there are no well-known statuses for ${resource.kind}`);
        continue;
      }
      for (const { name, path } of paths) add(name, path);
    } else {
      for (const { name, path, version } of rule.jsonPaths ?? []) {
        if (version !== undefined && version !== '' && version !== resource.version) continue;
        add(name, path);
      }
    }
  }
  return errors.length > 0
    ? {
        values,
        condition: {
          status: 'False',
          reason: WorkReasons.StatusFeedbackSyncFailed,
          message: `Sync status feedback failed: ${errors.join('; ')}`,
        },
      }
    : {
        values,
        condition: {
          status: 'True',
          reason: WorkReasons.StatusFeedbackSynced,
          message: 'Status feedback synced',
        },
      };
}
