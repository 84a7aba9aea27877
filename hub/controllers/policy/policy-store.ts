/**
 * The policy controllers' writes to the hub API server (their reads come from watched caches).
 * Replacements carry the resourceVersion the controller read, so a write from a stale cache is
 * refused (409) and the controller reads again. Stateless; safe to use concurrently.
 */
import {
  CoreV1Api,
  type CoreV1Event,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import {
  POLICY_GROUP,
  type ConfigurationPolicy,
  type ConfigurationPolicyStatus,
  type Policy,
  type PolicySet,
} from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';

/** Collections the policy controllers list and watch. */
export const POLICY_RESOURCES = {
  policies: { group: POLICY_GROUP, version: 'v1', plural: 'policies' },
  bindings: { group: POLICY_GROUP, version: 'v1', plural: 'placementbindings' },
  policySets: { group: POLICY_GROUP, version: 'v1beta1', plural: 'policysets' },
  decisions: {
    group: 'cluster.open-cluster-management.io',
    version: 'v1beta1',
    plural: 'placementdecisions',
  },
  configurationPolicies: { group: POLICY_GROUP, version: 'v1', plural: 'configurationpolicies' },
} as const;

/** The field manager of the evaluator's server-side applies on the hub. */
export const POLICY_FIELD_MANAGER = 'spokelink-policy-evaluator';
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** See the module comment. Methods resolve false on a write conflict (409). */
export interface PolicyStore {
  /** Creates a replica; one of its name that exists is a conflict; a missing namespace throws. */
  createPolicy(policy: Policy): Promise<boolean>;
  /** Replaces a policy (its resourceVersion guards the write). */
  replacePolicy(policy: Policy): Promise<boolean>;
  /** Deletes a policy; a missing one is no error. */
  deletePolicy(namespace: string, name: string): Promise<void>;
  /** Replaces a policy's status (status subresource); a missing policy is no error. */
  replaceStatus(policy: Policy): Promise<boolean>;
  /** Replaces a PolicySet's status (status subresource); a missing set is no error. */
  replacePolicySetStatus(set: PolicySet): Promise<boolean>;
  /** Creates an Event; one of that name that exists already is no error. */
  createEvent(event: CoreV1Event): Promise<void>;
  /** Server-side applies a ConfigurationPolicy (as {@link POLICY_FIELD_MANAGER}, forced). */
  applyConfigurationPolicy(policy: ConfigurationPolicy): Promise<void>;
  /** Merge-patches a ConfigurationPolicy's status; a missing one is no error. */
  patchConfigurationPolicyStatus(
    namespace: string,
    name: string,
    status: ConfigurationPolicyStatus,
  ): Promise<void>;
}

function conflictOr404(err: unknown, ifMissing: boolean): boolean {
  const code = apiStatus(err);
  if (code === 409) return false;
  if (code === 404) return ifMissing;
  throw err;
}

/** A {@link PolicyStore} on the hub API server of `kubeConfig`. */
export function kubePolicyStore(kubeConfig: KubeConfig): PolicyStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const POLICIES = POLICY_RESOURCES.policies;
  const where = (o: Policy) => ({
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
  });
  return {
    async createPolicy(policy) {
      try {
        await api.createNamespacedCustomObject({
          ...POLICIES,
          namespace: where(policy).namespace,
          body: policy,
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return false;
        throw err;
      }
    },
    async replacePolicy(policy) {
      try {
        await api.replaceNamespacedCustomObject({ ...POLICIES, ...where(policy), body: policy });
        return true;
      } catch (err: unknown) {
        return conflictOr404(err, false);
      }
    },
    async deletePolicy(namespace, name) {
      try {
        await api.deleteNamespacedCustomObject({ ...POLICIES, namespace, name });
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw err;
      }
    },
    async replaceStatus(policy) {
      try {
        await api.replaceNamespacedCustomObjectStatus({
          ...POLICIES,
          ...where(policy),
          body: policy,
        });
        return true;
      } catch (err: unknown) {
        return conflictOr404(err, true);
      }
    },
    async replacePolicySetStatus(set) {
      try {
        await api.replaceNamespacedCustomObjectStatus({
          ...POLICY_RESOURCES.policySets,
          namespace: set.metadata?.namespace ?? '',
          name: set.metadata?.name ?? '',
          body: set,
        });
        return true;
      } catch (err: unknown) {
        return conflictOr404(err, true);
      }
    },
    async createEvent(event) {
      try {
        await core.createNamespacedEvent({
          namespace: event.metadata.namespace ?? '',
          body: event,
        });
      } catch (err: unknown) {
        if (apiStatus(err) !== 409) throw err;
      }
    },
    async applyConfigurationPolicy(policy) {
      await api.patchNamespacedCustomObject(
        {
          ...POLICY_RESOURCES.configurationPolicies,
          namespace: policy.metadata?.namespace ?? '',
          name: policy.metadata?.name ?? '',
          body: policy,
          fieldManager: POLICY_FIELD_MANAGER,
          force: true,
        },
        APPLY,
      );
    },
    async patchConfigurationPolicyStatus(namespace, name, status) {
      try {
        await api.patchNamespacedCustomObjectStatus(
          { ...POLICY_RESOURCES.configurationPolicies, namespace, name, body: { status } },
          MERGE_PATCH,
        );
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw err;
      }
    },
  };
}

/** The list function of an informer over `resource` in all namespaces. */
export function listAll(
  kubeConfig: KubeConfig,
  resource: (typeof POLICY_RESOURCES)[keyof typeof POLICY_RESOURCES],
  labelSelector?: string,
): () => Promise<KubernetesListObject<KubernetesObject>> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return async () =>
    (await api.listCustomObjectForAllNamespaces({
      group: resource.group,
      version: resource.version,
      resourcePlural: resource.plural,
      ...(labelSelector === undefined ? {} : { labelSelector }),
    })) as KubernetesListObject<KubernetesObject>;
}
