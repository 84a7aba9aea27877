// The executor check: the reviews asked (user, groups, attributes), the verbs by strategy and
// delete option, the refusal naming the verb and the object, the bad-subject messages.
import { describe, expect, it } from 'vitest';

import { accessReview, checkExecutor, executorVerbs } from './executor-check.ts';
import { FakeSpoke } from './testing/fake-spoke.ts';

const ref = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  namespace: 'web',
  name: 'api',
};
const sa = { namespace: 'ops', name: 'deployer' };
const executor = { subject: { type: 'ServiceAccount' as const, serviceAccount: sa } };

describe('executorVerbs', () => {
  it.each([
    { isReadOnly: false, isOrphaned: false, verbs: ['create', 'update', 'patch', 'get', 'delete'] },
    { isReadOnly: false, isOrphaned: true, verbs: ['create', 'update', 'patch', 'get'] },
    { isReadOnly: true, isOrphaned: false, verbs: ['get'] },
  ])('readOnly=$isReadOnly orphaned=$isOrphaned', ({ isReadOnly, isOrphaned, verbs }) => {
    expect(executorVerbs({ isReadOnly, isOrphaned })).toEqual(verbs);
  });
});

describe('checkExecutor', () => {
  it('asks as the ServiceAccount with its groups, for the object', () => {
    expect(accessReview(sa, ref, 'patch')).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: 'system:serviceaccount:ops:deployer',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ops', 'system:authenticated'],
        resourceAttributes: {
          group: 'apps',
          version: 'v1',
          resource: 'deployments',
          namespace: 'web',
          name: 'api',
          verb: 'patch',
        },
      },
    });
  });

  it('does nothing without an executor', async () => {
    const spoke = new FakeSpoke();
    await checkExecutor(spoke, undefined, ref, ['create']);
    expect(spoke.reviews).toEqual([]);
  });

  it('refuses on the first verb denied, naming it; remembers allowed answers until they expire', async () => {
    const spoke = new FakeSpoke();
    spoke.allow = (spec) => (spec.resourceAttributes as { verb: string }).verb !== 'update';
    let now = 1_000;
    await expect(
      checkExecutor(spoke, executor, ref, ['create', 'update', 'get'], () => now),
    ).rejects.toMatchObject({
      code: 'HUB_ERR_WORK_EXECUTOR_DENIED',
      message:
        'not allowed to apply the resource apps deployments, web api: ' +
        'the executor system:serviceaccount:ops:deployer may not update it',
    });
    expect(spoke.reviews).toEqual([
      'create apps/deployments/web/api',
      'update apps/deployments/web/api',
    ]);
    spoke.reviews.length = 0;
    spoke.allow = () => true;
    await checkExecutor(spoke, executor, ref, ['create', 'update', 'get'], () => now);
    expect(spoke.reviews).toEqual([
      'update apps/deployments/web/api',
      'get apps/deployments/web/api',
    ]);
    spoke.reviews.length = 0;
    now += 60_000;
    await checkExecutor(spoke, executor, ref, ['create'], () => now);
    expect(spoke.reviews).toEqual(['create apps/deployments/web/api']);
  });

  it.each([
    {
      subject: { type: 'User' as 'ServiceAccount' },
      message: 'only support ServiceAccount type for the executor',
    },
    {
      subject: { type: 'ServiceAccount' as const },
      message: 'the executor service account is nil',
    },
  ])('refuses a bad subject: $message', async ({ subject, message }) => {
    await expect(checkExecutor(new FakeSpoke(), { subject }, ref, ['get'])).rejects.toMatchObject({
      code: 'HUB_ERR_WORK_EXECUTOR_DENIED',
      message,
    });
  });
});
