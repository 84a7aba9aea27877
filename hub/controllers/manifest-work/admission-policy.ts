/**
 * The ManifestWork rules OCM's hub webhook enforces, as a ValidatingAdmissionPolicy (CEL in the
 * hub API server; admissionregistration.k8s.io/v1): the manifests are not empty, each has a
 * name and no generateName, and together they are at most {@link MANIFEST_LIMIT_BYTES}.
 *
 * CEL cannot serialise an object, but the Kubernetes `format` library's `%s` renders lists and
 * maps as JSON-like text (`{"a":1, "b":[2, 3]}`: compact JSON plus one space after each comma),
 * so its length is the size, overestimated by one byte per separator (a few per cent). It is
 * checked on create and whenever the spec changes (never on metadata-only updates, so removing a
 * finalizer from an older, larger work is not refused). The API server answers a refusal with
 * HTTP 413 and the message below.
 */
import {
  type KubeConfig,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';

import { WORK_GROUP } from '../../api/index.ts';
import { ensureAdmissionPolicy } from '../../kube/index.ts';

/** OCM's default `--manifestLimit`: 500 KiB. */
export const MANIFEST_LIMIT_BYTES = 500 * 1024;

/** Name of the policy and of its binding. */
export const MANIFEST_WORK_POLICY_NAME = 'manifestworks.work.open-cluster-management.io';

const MANIFESTS =
  'has(object.spec) && has(object.spec.workload) && has(object.spec.workload.manifests)' +
  ' ? object.spec.workload.manifests : []';

/** The ValidatingAdmissionPolicy (pure). */
export function manifestWorkAdmissionPolicy(): V1ValidatingAdmissionPolicy {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: MANIFEST_WORK_POLICY_NAME },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [WORK_GROUP],
            apiVersions: ['*'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['manifestworks'],
          },
        ],
      },
      matchConditions: [
        {
          name: 'spec-changed',
          expression:
            "request.operation == 'CREATE' || !has(oldObject.spec) || !has(object.spec)" +
            ' || oldObject.spec != object.spec',
        },
      ],
      variables: [
        { name: 'manifests', expression: MANIFESTS },
        { name: 'size', expression: '"%s".format([variables.manifests]).size()' },
      ],
      validations: [
        {
          expression: 'variables.manifests.size() > 0',
          message: 'workload manifests should not be empty',
          reason: 'Invalid',
        },
        {
          expression: `variables.size <= ${MANIFEST_LIMIT_BYTES}`,
          messageExpression:
            `"the size of manifests is " + string(variables.size) + ` +
            `" bytes which exceeds the ${MANIFEST_LIMIT_BYTES} byte (500 KiB) limit"`,
          reason: 'RequestEntityTooLarge',
        },
        {
          expression:
            "variables.manifests.all(m, has(m.metadata) && has(m.metadata.name) && m.metadata.name != '')",
          message: 'name must be set in every manifest',
          reason: 'Invalid',
        },
        {
          expression:
            "variables.manifests.all(m, !has(m.metadata) || !has(m.metadata.generateName) || m.metadata.generateName == '')",
          message: 'generateName must not be set in a manifest',
          reason: 'Invalid',
        },
      ],
    },
  };
}

/** Its binding: every ManifestWork, refusals denied. */
export function manifestWorkAdmissionPolicyBinding(): V1ValidatingAdmissionPolicyBinding {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: MANIFEST_WORK_POLICY_NAME },
    spec: { policyName: MANIFEST_WORK_POLICY_NAME, validationActions: ['Deny'] },
  };
}

/**
 * Creates the policy and its binding on the hub, or replaces them when they differ from this
 * version's. Idempotent; safe to call at every start. Rejects on API failures.
 */
export async function ensureManifestWorkAdmissionPolicy(hub: KubeConfig): Promise<void> {
  await ensureAdmissionPolicy(
    hub,
    manifestWorkAdmissionPolicy(),
    manifestWorkAdmissionPolicyBinding(),
  );
}
