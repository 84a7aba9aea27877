/**
 * Who a gateway caller is on the hub, what a request asks of the hub's authorizer, and as whom
 * the agent acts on the spoke. Pure; no I/O.
 *
 * Group mapping rule (proxy-server/README.md "Cluster gateway"):
 * - the hub authorizes the caller's FULL identity (user, uid, groups, extra) — a hub
 *   `system:masters` member passes the hub's SubjectAccessReview like any hub admin;
 * - on the spoke the agent impersonates `<prefix><user>` and `<prefix><group>` for every group
 *   that does NOT start with `system:`. `system:` groups (`system:masters`,
 *   `system:authenticated`, `system:serviceaccounts[:<ns>]`, …) are assigned by the hub's own
 *   authenticators and describe standing on the hub, not on a spoke, so they are dropped:
 *   a hub admin is never a spoke admin by group membership alone. Dropping a group can only
 *   narrow what RBAC grants (RBAC has no deny rules), so the rule fails safe;
 * - the user `system:masters` is refused (403) before anything is dialled;
 * - uid and extra are not forwarded (the agent refuses Impersonate-Uid/Extra);
 * - a caller's own `Impersonate-*` headers are refused (403): impersonation on a spoke is the
 *   gateway's to decide, and the agent only sees the gateway's.
 */

/** An authenticated hub identity (TokenReview `status.user`, or a client certificate). */
export interface HubUser {
  readonly username: string;
  readonly uid?: string | undefined;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>> | undefined;
}

/** The group every authenticated hub caller has (the API server adds it to certificate users). */
export const SYSTEM_AUTHENTICATED = 'system:authenticated';
const SYSTEM_MASTERS = 'system:masters';
const SYSTEM_PREFIX = 'system:';

/** The resource a gateway request is authorized against on the hub. */
export const PROXY_RESOURCE = {
  group: 'cluster.open-cluster-management.io',
  resource: 'managedclusters',
  subresource: 'proxy',
} as const;

/** Why a caller's identity cannot be used on a spoke. */
export interface IdentityRefusal {
  readonly message: string;
}

/** The impersonation headers the gateway sends to the agent for one identity. */
export interface SpokeIdentity {
  /** `Impersonate-User`: `<prefix><username>`. */
  readonly user: string;
  /** One `Impersonate-Group` each: `<prefix><group>` for every group not starting with `system:`. */
  readonly groups: readonly string[];
}

/** Maps a hub identity to its spoke identity, or refuses it (see the module comment). */
export function spokeIdentity(user: HubUser, prefix: string): SpokeIdentity | IdentityRefusal {
  if (user.username === SYSTEM_MASTERS)
    return { message: 'the user "system:masters" cannot act on clusters through the gateway' };
  const groups = [...new Set(user.groups)]
    .filter((group) => group.length > 0 && !group.startsWith(SYSTEM_PREFIX))
    .map((group) => `${prefix}${group}`);
  return { user: `${prefix}${user.username}`, groups };
}

/** True for a refusal from {@link spokeIdentity}. */
export function isIdentityRefusal(
  value: SpokeIdentity | IdentityRefusal,
): value is IdentityRefusal {
  return 'message' in value;
}

/** Names of the `Impersonate-*` request headers a caller sent (lowercase), in order. */
export function impersonationHeaders(headers: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(headers).filter((name) => name.toLowerCase().startsWith('impersonate-'));
}

const VERB_BY_METHOD: Readonly<Record<string, string>> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/**
 * The SubjectAccessReview verb for a request on `managedclusters/proxy`: the API server's own
 * rule for connect subresources (`pods/proxy`, `services/proxy`; k8s.io/apiserver
 * RequestInfoFactory), which OCM's cluster-gateway (`clustergateways/proxy`) inherits: GET and
 * HEAD → get, POST → create, PUT → update, PATCH → patch, DELETE → delete. Neither cluster-proxy
 * (no hub SubjectAccessReview at all) nor cluster-gateway uses a fixed verb. A watch is a GET
 * (`get`); exec/attach/port-forward upgrades are POST or GET. Undefined for any other method.
 */
export function proxyVerb(method: string | undefined): string | undefined {
  return VERB_BY_METHOD[method ?? ''];
}

/**
 * The API server's wording for a denied request, as in its own 403 answers (k8s.io/apiserver
 * `forbiddenMessage` + `responsewriters.Forbidden`), with the authorizer's reason appended when
 * it gave one.
 */
export function forbiddenMessage(
  username: string,
  verb: string,
  cluster: string,
  reason?: string,
): string {
  const { group, resource, subresource } = PROXY_RESOURCE;
  const base =
    `${resource}.${group} ${JSON.stringify(cluster)} is forbidden: User ${JSON.stringify(username)} ` +
    `cannot ${verb} resource ${JSON.stringify(`${resource}/${subresource}`)} in API group ` +
    `${JSON.stringify(group)} at the cluster scope`;
  return reason === undefined || reason === '' ? base : `${base}: ${reason}`;
}
