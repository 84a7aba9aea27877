/**
 * The order manifests are applied in: OCM's kind ranks (research/ocm-core-apis.md §4.4), a
 * stable sort, so manifests of one rank keep their spec order. `ordinal` stays the spec index.
 */

/** Rank of each kind OCM orders; kinds not listed get {@link UNKNOWN_KIND_RANK}. */
const KIND_RANKS: Readonly<Record<string, number>> = {
  // 1: what other objects live in or are typed by.
  Namespace: 1,
  CustomResourceDefinition: 1,
  StorageClass: 1,
  PersistentVolume: 1,
  PriorityClass: 1,
  // 2: RBAC.
  ClusterRole: 2,
  ClusterRoleBinding: 2,
  Role: 2,
  RoleBinding: 2,
  // 3: identities and policies of a namespace.
  ServiceAccount: 3,
  NetworkPolicy: 3,
  ResourceQuota: 3,
  LimitRange: 3,
  PodDisruptionBudget: 3,
  // 4: configuration and storage claims.
  Secret: 4,
  ConfigMap: 4,
  PersistentVolumeClaim: 4,
  // 5: services.
  Service: 5,
  // 6: workloads (and what routes to or scales them).
  Deployment: 6,
  DaemonSet: 6,
  StatefulSet: 6,
  ReplicaSet: 6,
  ReplicationController: 6,
  Job: 6,
  CronJob: 6,
  Pod: 6,
  HorizontalPodAutoscaler: 6,
  Ingress: 6,
  IngressClass: 6,
  // 7: admission webhooks and aggregated APIs, once what serves them exists.
  MutatingWebhookConfiguration: 7,
  ValidatingWebhookConfiguration: 7,
  ValidatingAdmissionPolicy: 7,
  ValidatingAdmissionPolicyBinding: 7,
  APIService: 7,
};

/** Rank of kinds OCM does not list (custom resources among them): applied last. */
export const UNKNOWN_KIND_RANK = 8;

/** The apply rank of `kind` (1 first … {@link UNKNOWN_KIND_RANK} last). */
export function kindRank(kind: string | undefined): number {
  return (kind === undefined ? undefined : KIND_RANKS[kind]) ?? UNKNOWN_KIND_RANK;
}

/**
 * The ordinals (spec indexes) of `manifests` in apply order: by kind rank, spec order within a
 * rank. Pure; the input is not changed.
 */
export function applyOrder(manifests: ReadonlyArray<{ readonly kind?: unknown }>): number[] {
  return manifests
    .map((manifest, ordinal) => ({
      ordinal,
      rank: kindRank(typeof manifest.kind === 'string' ? manifest.kind : undefined),
    }))
    .sort((a, b) => a.rank - b.rank || a.ordinal - b.ordinal)
    .map((entry) => entry.ordinal);
}
