/**
 * The Policy rules OCM's governance-policy-propagator webhook enforces (issue 7), as a
 * ValidatingAdmissionPolicy (CEL in the hub API server; admissionregistration.k8s.io/v1):
 *
 * - on create, a **root** Policy (one without the `policy.open-cluster-management.io/root-policy`
 *   label) needs its namespace and name to fit in 62 characters together, since each replica is
 *   named `<namespace>.<name>` and object names stop at 63; CEL's `size()` counts characters as
 *   the webhook's rune count does;
 * - on create and update, a Policy without `spec.remediationAction` needs one in every
 *   ConfigurationPolicy template.
 *
 * The rest of OCM's validation is in the CRDs (hub/api/policy.ts): `remediationAction` is one of
 * `Inform`, `inform`, `Enforce`, `enforce` when set; a PlacementBinding's `placementRef` pairs
 * `cluster.open-cluster-management.io` with `Placement` (or the apps group with
 * `PlacementRule`), its `subjects` (at least one) name a `Policy` or `PolicySet` of the policy
 * group, and `bindingOverrides.remediationAction` is only `Enforce`/`enforce`.
 *
 * The webhook's failure policy is Ignore, and so is this one's: an expression that cannot be
 * evaluated lets the request through. The API server answers a refusal with HTTP 422 and the
 * message below.
 */
import {
  type KubeConfig,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';

import { Labels, POLICY_GROUP } from '../../api/index.ts';
import { ensureAdmissionPolicy } from '../../kube/index.ts';

/** Name of the admission policy and of its binding. */
export const POLICY_ADMISSION_POLICY_NAME = 'policies.policy.open-cluster-management.io';

/** OCM's message when a root Policy's namespace and name are too long together. */
export const POLICY_NAME_TOO_LONG_MESSAGE =
  'the combined length of the policy namespace and name cannot exceed 62 characters';
/** OCM's message when neither the Policy nor a ConfigurationPolicy template says what to do. */
export const POLICY_REMEDIATION_UNSET_MESSAGE =
  'RemediationAction field of the policy and policy template cannot both be unset';

/** Longest `<namespace><name>` of a root Policy (the replica adds a dot: 63). */
export const MAX_POLICY_NAMESPACE_AND_NAME = 62;

/**
 * A template that is no ConfigurationPolicy, or one that sets its own `remediationAction` (even
 * empty, as the webhook's "found" test). The API server hands admission policies the object as
 * plain JSON, so the free-form `objectDefinition` can be selected into.
 */
const TEMPLATE_HAS_ACTION =
  "!has(t.objectDefinition.kind) || t.objectDefinition.kind != 'ConfigurationPolicy'" +
  ' || (has(t.objectDefinition.spec) && has(t.objectDefinition.spec.remediationAction))';

/** The ValidatingAdmissionPolicy (pure). */
export function policyAdmissionPolicy(): V1ValidatingAdmissionPolicy {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: POLICY_ADMISSION_POLICY_NAME },
    spec: {
      failurePolicy: 'Ignore',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [POLICY_GROUP],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['policies'],
          },
        ],
      },
      validations: [
        {
          expression:
            "request.operation != 'CREATE'" +
            ` || (has(object.metadata.labels) && '${Labels.RootPolicy}' in object.metadata.labels)` +
            ` || size(request.namespace) + size(object.metadata.name) <= ${MAX_POLICY_NAMESPACE_AND_NAME}`,
          message: POLICY_NAME_TOO_LONG_MESSAGE,
          reason: 'Invalid',
        },
        {
          expression:
            "(has(object.spec.remediationAction) && object.spec.remediationAction != '')" +
            ` || object.spec['policy-templates'].all(t, ${TEMPLATE_HAS_ACTION})`,
          message: POLICY_REMEDIATION_UNSET_MESSAGE,
          reason: 'Invalid',
        },
      ],
    },
  };
}

/** Its binding: every Policy, refusals denied. */
export function policyAdmissionPolicyBinding(): V1ValidatingAdmissionPolicyBinding {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: POLICY_ADMISSION_POLICY_NAME },
    spec: { policyName: POLICY_ADMISSION_POLICY_NAME, validationActions: ['Deny'] },
  };
}

/**
 * Creates the admission policy and its binding on the hub, or replaces the policy when it
 * differs from this version's. Idempotent and safe to call concurrently (a lost create race is
 * no error); rejects on other API failures. Needs rights on validatingadmissionpolicies and their
 * bindings, which the hub process does not hold: `spokelink init` calls it.
 */
export async function ensurePolicyAdmissionPolicy(hub: KubeConfig): Promise<void> {
  await ensureAdmissionPolicy(hub, policyAdmissionPolicy(), policyAdmissionPolicyBinding());
}
