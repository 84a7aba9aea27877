/**
 * Installing a ValidatingAdmissionPolicy and its binding on the hub, as the controllers that
 * enforce OCM's webhook rules in the hub API server do (ManifestWork, Policy, Subscription).
 */
import { createHash } from 'node:crypto';

import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';

import { apiStatus } from './install-crds.ts';

/** The annotation holding a hash of the policy's spec, to see whether an installed one is current. */
export const POLICY_HASH_ANNOTATION = 'spokelink.io/policy-hash';

/**
 * Creates `policy` (named like `binding`'s policyName), or replaces it when its spec differs
 * from the installed one's (by a hash kept in {@link POLICY_HASH_ANNOTATION}); creates `binding`
 * when it is missing (an existing binding is left as it is). Idempotent; safe to call at every
 * start, also by several replicas at once (a 409 on create is fine). Rejects on API failures.
 */
export async function ensureAdmissionPolicy(
  hub: KubeConfig,
  policy: V1ValidatingAdmissionPolicy,
  binding: V1ValidatingAdmissionPolicyBinding,
): Promise<void> {
  const api = hub.makeApiClient(AdmissionregistrationV1Api);
  const hash = createHash('sha256').update(JSON.stringify(policy.spec)).digest('hex').slice(0, 16);
  const body: V1ValidatingAdmissionPolicy = {
    ...policy,
    metadata: {
      ...policy.metadata,
      annotations: { ...policy.metadata?.annotations, [POLICY_HASH_ANNOTATION]: hash },
    },
  };
  const name = body.metadata?.name ?? '';
  try {
    const existing = await api.readValidatingAdmissionPolicy({ name });
    if (existing.metadata?.annotations?.[POLICY_HASH_ANNOTATION] !== hash) {
      const resourceVersion = existing.metadata?.resourceVersion;
      if (resourceVersion !== undefined && body.metadata !== undefined) {
        body.metadata.resourceVersion = resourceVersion;
      }
      await api.replaceValidatingAdmissionPolicy({ name, body });
    }
  } catch (err: unknown) {
    if (apiStatus(err) !== 404) throw err;
    await api.createValidatingAdmissionPolicy({ body }).catch((e: unknown) => {
      if (apiStatus(e) !== 409) throw e;
    });
  }
  const bindingName = binding.metadata?.name ?? '';
  try {
    await api.readValidatingAdmissionPolicyBinding({ name: bindingName });
  } catch (err: unknown) {
    if (apiStatus(err) !== 404) throw err;
    await api.createValidatingAdmissionPolicyBinding({ body: binding }).catch((e: unknown) => {
      if (apiStatus(e) !== 409) throw e;
    });
  }
}
