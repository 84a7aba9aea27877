/**
 * `spec.executor.subject`: before a manifest is written, the spoke's API server is asked, with one
 * SubjectAccessReview per verb, whether the executor ServiceAccount may write that object, as
 * OCM's work agent asks (its basic executor authorizer): `create`, `update`, `patch` and `get`,
 * plus `delete` unless the delete option orphans the object (a work that will delete an object
 * must be allowed to). A ReadOnly manifest needs only `get`. The user is
 * `system:serviceaccount:<namespace>:<name>` in the groups `system:serviceaccounts`,
 * `system:serviceaccounts:<namespace>` and `system:authenticated`.
 *
 * The reviews go through the tunnel as the hub controllers, and the write itself is then made as
 * the hub controllers too: the agent API impersonates only prefixed hub identities and refuses
 * unprefixed ones such as `system:serviceaccount:…` (DESIGN §3.4), so that nothing on the hub
 * can act as a spoke-local identity. The executor check is a gate on what the hub controllers
 * write, as in OCM, where the work agent's own ServiceAccount writes after the same reviews.
 *
 * An allowed answer is remembered per spoke client for {@link EXECUTOR_ALLOWED_CACHE_MS} (a
 * revoked permission is noticed after at most that long); a refusal is never remembered, so a
 * permission granted later is used at the manifest's next retry.
 */
import type { ManifestWorkSpec } from '../../api/index.ts';
import type { JsonObject } from './apply-decision.ts';
import { WorkError } from './errors.ts';
import { identityKey, type ResourceRef } from './resource-ref.ts';
import type { SpokeApi } from './spoke-client.ts';

/** How long an allowed review is reused, in ms. */
export const EXECUTOR_ALLOWED_CACHE_MS = 30_000;

const SAR_REF: ResourceRef = {
  group: 'authorization.k8s.io',
  version: 'v1',
  resource: 'subjectaccessreviews',
  name: '',
};

/** Allowed reviews by spoke client: key → until when (epoch ms). */
const allowedCache = new WeakMap<SpokeApi, Map<string, number>>();

type Executor = ManifestWorkSpec['executor'];

/** The verbs the executor needs on one object (see the file comment). */
export function executorVerbs(options: {
  readonly isReadOnly: boolean;
  readonly isOrphaned: boolean;
}): string[] {
  if (options.isReadOnly) return ['get'];
  return ['create', 'update', 'patch', 'get', ...(options.isOrphaned ? [] : ['delete'])];
}

/** The SubjectAccessReview asking whether `user` may `verb` the object `ref`. */
export function accessReview(
  serviceAccount: { readonly namespace: string; readonly name: string },
  ref: ResourceRef,
  verb: string,
): JsonObject {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
      groups: [
        'system:serviceaccounts',
        `system:serviceaccounts:${serviceAccount.namespace}`,
        'system:authenticated',
      ],
      resourceAttributes: {
        group: ref.group,
        version: ref.version,
        resource: ref.resource,
        ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
        name: ref.name,
        verb,
      },
    },
  };
}

function denied(message: string): WorkError {
  return new WorkError('HUB_ERR_WORK_EXECUTOR_DENIED', message);
}

/**
 * Resolves when `executor` (absent: nothing to check) may `verbs` on `ref`; rejects with
 * `HUB_ERR_WORK_EXECUTOR_DENIED` naming the first verb refused, or with the client's
 * `HUB_ERR_WORK_SPOKE_*` errors. Safe to call concurrently.
 */
export async function checkExecutor(
  client: SpokeApi,
  executor: Executor,
  ref: ResourceRef,
  verbs: readonly string[],
  now: () => number = Date.now,
): Promise<void> {
  const subject = executor?.subject;
  if (subject === undefined) return;
  if (subject.type !== 'ServiceAccount') {
    throw denied('only support ServiceAccount type for the executor');
  }
  const sa = subject.serviceAccount;
  if (sa === undefined) throw denied('the executor service account is nil');
  let cache = allowedCache.get(client);
  if (cache === undefined) {
    cache = new Map();
    allowedCache.set(client, cache);
  }
  for (const verb of verbs) {
    const key = `${sa.namespace}/${sa.name}|${verb}|${ref.version}|${identityKey(ref)}`;
    if ((cache.get(key) ?? 0) > now()) continue;
    const answer = await client.create(SAR_REF, accessReview(sa, ref, verb));
    const status = (answer.status ?? {}) as { allowed?: unknown };
    if (status.allowed !== true) {
      cache.delete(key);
      const where = ref.namespace === undefined ? ref.name : `${ref.namespace} ${ref.name}`;
      throw denied(
        `not allowed to apply the resource ${ref.group} ${ref.resource}, ${where}: ` +
          `the executor system:serviceaccount:${sa.namespace}:${sa.name} may not ${verb} it`,
      );
    }
    cache.set(key, now() + EXECUTOR_ALLOWED_CACHE_MS);
  }
}
