/**
 * From rendered source objects to the ManifestWork of one cluster (pure functions).
 *
 * Security rules (issue 8; OCM's downstream fixes for non-admin subscriptions): a Subscription
 * is *privileged* only when it carries `apps.open-cluster-management.io/cluster-admin: "true"`,
 * which the admission policy (admission-policy.ts) lets only a cluster-admin of the hub set.
 * - Namespaced objects of an unprivileged subscription go to the subscription's namespace,
 *   whatever they declare; a privileged one keeps the declared namespace (default: its own).
 * - Cluster-scoped objects, and kinds the hub does not serve (whose scope it cannot check), are
 *   refused for an unprivileged subscription (`HUB_ERR_SUB_FORBIDDEN`, naming the object);
 *   Namespace objects are left out instead (the work brings the subscription's namespace), as
 *   OCM's hub does.
 * Every object is annotated `apps.open-cluster-management.io/hosting-subscription: <ns>/<name>`.
 */
import {
  AppsAnnotations,
  WORK_GROUP,
  type ManifestWork,
  type ResourceIdentifier,
  type Subscription,
} from '../../api/index.ts';
import { SubscriptionError } from './errors.ts';
import type { SourceObject } from './package-filter.ts';
import type { KindScope } from './resource-scopes.ts';

/** On the works: `<namespace>.<name>` of the subscription (cut to a valid label value). */
export const HOSTING_SUBSCRIPTION_LABEL = AppsAnnotations.HostingSubscription;

/** `<namespace>.<name>` as a label value: at most 63 characters, ending alphanumeric. */
export function hostingLabelValue(namespace: string, name: string): string {
  return `${namespace}.${name}`.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
}

/** The work of a subscription in every cluster: `<namespace>-<name>`, as OCM names it. */
export function workName(namespace: string, name: string): string {
  return `${namespace}-${name}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}

/** Whether the subscription may deliver cluster-scoped objects and choose namespaces. */
export function isPrivileged(sub: Subscription): boolean {
  return sub.metadata?.annotations?.[AppsAnnotations.ClusterAdmin] === 'true';
}

/** `apiVersion` + `kind` key of the scope map. */
export const scopeKey = (apiVersion: string, kind: string) => `${apiVersion}|${kind}`;

/** An object ready for the work, with what the orphaning rules need. */
export interface DeliveredObject {
  readonly manifest: SourceObject;
  /** Set when the object carries `do-not-delete: "true"`. */
  readonly orphan?: ResourceIdentifier;
}

/** Applies the module's rules; `scopes` holds every kind of `objects` (see scopeKey). */
export function prepareObjects(
  sub: Subscription,
  objects: readonly SourceObject[],
  scopes: ReadonlyMap<string, KindScope | undefined>,
): DeliveredObject[] {
  const namespace = sub.metadata?.namespace ?? '';
  const hosting = `${namespace}/${sub.metadata?.name ?? ''}`;
  const privileged = isPrivileged(sub);
  const seen = new Map<string, DeliveredObject>();
  for (const o of objects) {
    const name = o.metadata?.name;
    const what = `${o.kind} "${name ?? ''}" (${o.apiVersion})`;
    if (typeof name !== 'string' || name === '') {
      throw new SubscriptionError(
        'HUB_ERR_SUB_RENDER_FAILED',
        `a ${o.kind} (${o.apiVersion}) has no metadata.name`,
      );
    }
    const scope = scopes.get(scopeKey(o.apiVersion, o.kind));
    const isNamespaceKind = o.apiVersion === 'v1' && o.kind === 'Namespace';
    if (!privileged && isNamespaceKind) continue;
    if (!privileged && scope === undefined) {
      throw new SubscriptionError(
        'HUB_ERR_SUB_FORBIDDEN',
        `${what}: the hub does not serve this kind, so its scope cannot be checked; only a subscription annotated ${AppsAnnotations.ClusterAdmin}: "true" by a cluster-admin may deliver it`,
      );
    }
    if (!privileged && scope?.namespaced === false) {
      throw new SubscriptionError(
        'HUB_ERR_SUB_FORBIDDEN',
        `${what} is cluster-scoped; only a subscription annotated ${AppsAnnotations.ClusterAdmin}: "true" by a cluster-admin may deliver cluster-scoped objects`,
      );
    }
    const metadata = { ...o.metadata, name };
    if (scope?.namespaced === true) {
      metadata.namespace = privileged ? o.metadata?.namespace || namespace : namespace;
    } else if (scope?.namespaced === false) {
      delete metadata.namespace;
    }
    metadata.annotations = {
      ...o.metadata?.annotations,
      [AppsAnnotations.HostingSubscription]: hosting,
    };
    const manifest: SourceObject = { ...o, metadata };
    const group = o.apiVersion.includes('/')
      ? o.apiVersion.slice(0, o.apiVersion.indexOf('/'))
      : '';
    const isKept = o.metadata?.annotations?.[AppsAnnotations.DoNotDelete] === 'true';
    const orphan: ResourceIdentifier | undefined =
      isKept && scope !== undefined
        ? {
            group,
            resource: scope.resource,
            name,
            ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
          }
        : undefined;
    const key = `${group}|${o.kind}|${metadata.namespace ?? ''}|${name}`;
    seen.delete(key); // a later document of the same object wins, and moves to the end
    seen.set(key, orphan === undefined ? { manifest } : { manifest, orphan });
  }
  return [...seen.values()];
}

/**
 * The ManifestWork of `sub` in `cluster`: the subscription's Namespace (kept on the spoke when
 * the work goes: `SelectivelyOrphan`, as OCM does) and the delivered objects; objects annotated
 * `do-not-delete: "true"` are orphaned too.
 */
export function desiredWork(
  sub: Subscription,
  cluster: string,
  objects: readonly DeliveredObject[],
): ManifestWork {
  const namespace = sub.metadata?.namespace ?? '';
  const name = sub.metadata?.name ?? '';
  const namespaceManifest = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      annotations: { [AppsAnnotations.HostingSubscription]: `${namespace}/${name}` },
    },
  };
  const orphaningRules: ResourceIdentifier[] = [
    { group: '', resource: 'namespaces', name: namespace },
    ...objects.flatMap((o) => (o.orphan === undefined ? [] : [o.orphan])),
  ];
  return {
    apiVersion: `${WORK_GROUP}/v1`,
    kind: 'ManifestWork',
    metadata: {
      name: workName(namespace, name),
      namespace: cluster,
      labels: { [HOSTING_SUBSCRIPTION_LABEL]: hostingLabelValue(namespace, name) },
      annotations: { [AppsAnnotations.HostingSubscription]: `${namespace}/${name}` },
    },
    spec: {
      workload: { manifests: [namespaceManifest, ...objects.map((o) => o.manifest)] },
      deleteOption: {
        propagationPolicy: 'SelectivelyOrphan',
        selectivelyOrphans: { orphaningRules },
      },
    },
  };
}
