/**
 * Who may make a Subscription privileged, as a ValidatingAdmissionPolicy (CEL in the hub API
 * server; admissionregistration.k8s.io/v1).
 *
 * OCM marks a subscription of a "subscription-admin" with `apps.open-cluster-management.io/
 * cluster-admin: "true"`, judged from user-identity annotations its own mutating webhook writes.
 * This hub has no webhook, so the annotation itself is guarded: creating or updating a
 * Subscription that carries it set to "true" is refused unless the requesting user may do
 * everything (`*` verbs on `*` resources of `*` groups: a cluster-admin, or `system:masters`),
 * checked with the request's own authorizer. The status subresource is not matched, so the
 * controller's status writes pass. The API server answers a refusal with HTTP 403.
 */
import {
  type KubeConfig,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';

import { APPS_GROUP, AppsAnnotations } from '../../api/index.ts';
import { ensureAdmissionPolicy } from '../../kube/index.ts';

/** Name of the policy and of its binding. */
export const SUBSCRIPTION_POLICY_NAME = `subscriptions.${APPS_GROUP}`;

/** The refusal's message. */
export const PRIVILEGE_REFUSED_MESSAGE = `only a cluster-admin may set the annotation ${AppsAnnotations.ClusterAdmin}: "true" on a Subscription`;

/** The ValidatingAdmissionPolicy (pure). */
export function subscriptionAdmissionPolicy(): V1ValidatingAdmissionPolicy {
  const key = AppsAnnotations.ClusterAdmin;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: SUBSCRIPTION_POLICY_NAME },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [APPS_GROUP],
            apiVersions: ['*'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['subscriptions'],
          },
        ],
      },
      matchConditions: [
        {
          name: 'privileged',
          expression:
            `has(object.metadata.annotations) && '${key}' in object.metadata.annotations` +
            ` && object.metadata.annotations['${key}'] == 'true'`,
        },
      ],
      validations: [
        {
          expression: "authorizer.group('*').resource('*').check('*').allowed()",
          message: PRIVILEGE_REFUSED_MESSAGE,
          reason: 'Forbidden',
        },
      ],
    },
  };
}

/** Its binding: every Subscription, refusals denied. */
export function subscriptionAdmissionPolicyBinding(): V1ValidatingAdmissionPolicyBinding {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: SUBSCRIPTION_POLICY_NAME },
    spec: { policyName: SUBSCRIPTION_POLICY_NAME, validationActions: ['Deny'] },
  };
}

/**
 * Creates the policy and its binding on the hub, or replaces the policy when it differs from
 * this version's. Idempotent; safe to call at every start. Rejects on API failures.
 */
export async function ensureSubscriptionAdmissionPolicy(hub: KubeConfig): Promise<void> {
  await ensureAdmissionPolicy(
    hub,
    subscriptionAdmissionPolicy(),
    subscriptionAdmissionPolicyBinding(),
  );
}
