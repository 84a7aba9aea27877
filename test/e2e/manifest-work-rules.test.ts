// ManifestWork options against the real hub and spoke2 through a tunnel rig, OCM-shaped YAML
// applied with the real kubectl: CEL condition rules (`object`, `result`, messageExpression, an
// expression error), an executor ServiceAccount checked with SubjectAccessReviews on the spoke,
// serverSideApply.ignoreFields (OnSpokePresent, OnSpokeChange) against edits made with kubectl
// on the spoke, and ttlSecondsAfterFinished deleting a completed work.
import { isDeepStrictEqual } from 'node:util';

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

import {
  WorkConditionTypes as T,
  WorkReasons as R,
  type ManifestWork,
} from '../../hub/api/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { conditionOf, configMap, isCondition, manifestWork, workKit } from './manifest-work-kit.ts';

const suffix = Date.now().toString(36);
const CLUSTER = `rules-${suffix}`;
const NS = `rules-${suffix}`;
const NS_DENIED = `rules-denied-${suffix}`;
const kit = workKit({
  hubPlane: inject('hub'),
  spokePlane: inject('spoke2'),
  cluster: CLUSTER,
  spokeNamespaces: [NS, NS_DENIED],
});
const { onSpoke, applyWork, workWhere, spokeJson } = kit;

beforeAll(() => kit.prepare());
afterAll(() => kit.cleanup());

async function spoke(args: string[], input?: string): Promise<void> {
  const res = await onSpoke(args, input);
  expect(res.code, `kubectl ${args.join(' ')}: ${res.stderr}`).toBe(0);
}

const manifestsOf = (w: ManifestWork) => w.status?.resourceStatus?.manifests ?? [];

describe('ManifestWork rules, executor, ignoreFields and TTL', () => {
  it('evaluates CEL condition rules on the live object, with messages and expression errors', async () => {
    await kit.startDelivery();
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: { containers: [{ name: 'api', image: 'registry.k8s.io/pause:3.10' }] },
        },
      },
    };
    await applyWork(
      manifestWork('cel', {
        workload: { manifests: [deployment] },
        manifestConfigs: [
          {
            resourceIdentifier: {
              group: 'apps',
              resource: 'deployments',
              namespace: NS,
              name: 'api',
            },
            conditionRules: [
              {
                condition: 'Ready',
                type: 'CEL',
                celExpressions: [
                  'has(object.status.readyReplicas)',
                  'object.status.readyReplicas == object.spec.replicas',
                ],
                messageExpression:
                  "result ? 'all ' + string(object.spec.replicas) + ' ready' : 'waiting for replicas'",
              },
              { condition: 'Broken', type: 'CEL', celExpressions: ['object.spec.nope == 1'] },
            ],
          },
        ],
      }),
    );
    const waiting = await workWhere('cel', 'Ready False', (w) => isCondition(w, 'Ready', 'False'));
    const [api] = manifestsOf(waiting);
    expect(conditionOf(api, 'Ready')).toMatchObject({
      status: 'False',
      reason: R.ConditionRuleEvaluated,
      message: 'waiting for replicas',
    });
    expect(conditionOf(api, 'Broken')).toMatchObject({
      status: 'False',
      reason: R.ConditionRuleExpressionError,
      message: 'No such key: nope',
    });
    expect(conditionOf(waiting.status, 'Ready')?.reason).toBe(R.ConditionRulesAggregated);
    expect(isCondition(waiting, T.Applied, 'True')).toBe(true);

    // The sandbox runs no deployment controller: its status is written as that controller would.
    await spoke([
      'patch',
      'deployment',
      'api',
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { replicas: 2, readyReplicas: 2, observedGeneration: 1 } }),
    ]);
    const ready = await workWhere('cel', 'Ready True', (w) => isCondition(w, 'Ready', 'True'));
    expect(conditionOf(manifestsOf(ready)[0], 'Ready')).toMatchObject({
      status: 'True',
      reason: R.ConditionRuleEvaluated,
      message: 'all 2 ready',
    });
  });

  it('applies only what the executor ServiceAccount may write, and the rest once it may', async () => {
    await kit.startDelivery();
    const role = (namespace: string) =>
      stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'deployer', namespace },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }],
      }) +
      '---\n' +
      stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'deployer', namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: NS }],
      });
    await spoke(['create', 'serviceaccount', 'deployer', '-n', NS]);
    await spoke(['apply', '-f', '-'], role(NS));
    await applyWork(
      manifestWork('exec', {
        executor: {
          subject: { type: 'ServiceAccount', serviceAccount: { namespace: NS, name: 'deployer' } },
        },
        workload: {
          manifests: [
            configMap('allowed', NS, { a: '1' }),
            configMap('denied', NS_DENIED, { a: '1' }),
          ],
        },
      }),
    );
    const partial = await workWhere('exec', 'one manifest refused', (w) =>
      isCondition(w, T.Applied, 'False', R.AppliedManifestWorkFailed),
    );
    const [allowed, denied] = manifestsOf(partial);
    expect(conditionOf(allowed, T.Applied)?.status).toBe('True');
    expect(conditionOf(denied, T.Applied)).toMatchObject({
      status: 'False',
      reason: R.AppliedManifestFailed,
      message:
        `not allowed to apply the resource  configmaps, ${NS_DENIED} denied: ` +
        `the executor system:serviceaccount:${NS}:deployer may not create it`,
    });
    expect(await spokeJson(['configmap', 'allowed', '-n', NS])).toBeDefined();
    expect(await spokeJson(['configmap', 'denied', '-n', NS_DENIED])).toBeUndefined();

    // Granted on the spoke: the refused manifest is applied at its next retry.
    await spoke(['apply', '-f', '-'], role(NS_DENIED));
    await workWhere('exec', 'Applied', (w) => isCondition(w, T.Applied, 'True'), 45_000);
    expect(await spokeJson(['configmap', 'denied', '-n', NS_DENIED])).toBeDefined();
  });

  it('leaves ignoreFields to the spoke: OnSpokePresent always, OnSpokeChange until the manifest changes', async () => {
    await kit.startDelivery();
    const work = (value: string) =>
      manifestWork('ignore', {
        workload: {
          manifests: [configMap('tuned', NS, { present: value, change: value, other: value })],
        },
        manifestConfigs: [
          {
            resourceIdentifier: { resource: 'configmaps', namespace: NS, name: 'tuned' },
            updateStrategy: {
              type: 'ServerSideApply',
              serverSideApply: {
                force: true,
                ignoreFields: [
                  { condition: 'OnSpokePresent', jsonPaths: ['.data.present'] },
                  { condition: 'OnSpokeChange', jsonPaths: ['.data.change'] },
                ],
              },
            },
          },
        ],
      });
    const dataOnSpoke = async () =>
      ((await spokeJson(['configmap', 'tuned', '-n', NS])) as { data?: object } | undefined)?.data;
    await applyWork(work('hub'));
    await workWhere('ignore', 'Applied', (w) => isCondition(w, T.Applied, 'True'));
    expect(await dataOnSpoke()).toEqual({ present: 'hub', change: 'hub', other: 'hub' });

    await spoke([
      'patch',
      'configmap',
      'tuned',
      '-n',
      NS,
      '--type=merge',
      '-p',
      '{"data":{"present":"spoke","change":"spoke","other":"spoke"}}',
    ]);
    const expected = { present: 'spoke', change: 'spoke', other: 'hub' };
    let last: unknown;
    await eventually(
      'only the not-ignored field put back',
      async () => {
        last = await dataOnSpoke();
        return isDeepStrictEqual(last, expected) ? true : undefined;
      },
      15_000,
      100,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last: ${JSON.stringify(last)}`);
    });

    await applyWork(work('hub2'));
    const expectedAfter = { present: 'spoke', change: 'hub2', other: 'hub2' };
    await eventually(
      'the changed manifest written, except OnSpokePresent',
      async () => (isDeepStrictEqual(await dataOnSpoke(), expectedAfter) ? true : undefined),
      15_000,
      100,
    );
  });

  it('deletes a work ttlSecondsAfterFinished after its Complete rules hold, cleaning the spoke', async () => {
    await kit.startDelivery();
    await applyWork(
      manifestWork('once', {
        deleteOption: { ttlSecondsAfterFinished: 2 },
        workload: { manifests: [configMap('result', NS, { state: 'finished' })] },
        manifestConfigs: [
          {
            resourceIdentifier: { resource: 'configmaps', namespace: NS, name: 'result' },
            conditionRules: [
              {
                condition: 'Complete',
                type: 'CEL',
                celExpressions: ["object.data.state == 'finished'"],
              },
            ],
          },
        ],
      }),
    );
    const complete = await workWhere('once', 'Complete', (w) =>
      isCondition(w, T.Complete, 'True', R.ConditionRulesAggregated),
    );
    const since = Date.parse(conditionOf(complete.status, T.Complete)?.lastTransitionTime ?? '');
    await eventually(
      'the work to be gone',
      async () => ((await kit.getWork('once')) === undefined ? true : undefined),
      30_000,
      200,
    );
    // Not before its TTL (whole seconds, as the condition's time is).
    expect(Date.now()).toBeGreaterThanOrEqual(since + 2_000);
    expect(await spokeJson(['configmap', 'result', '-n', NS])).toBeUndefined();
  });
});
