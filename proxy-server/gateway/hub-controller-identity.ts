/**
 * The identity the hub's own controllers act as on spokes, and how an in-process identity
 * becomes the impersonation headers the agent API enforces. Pure; no I/O.
 *
 * Hub controllers reach a spoke the way the gateway does (the agent API, prefixed
 * impersonation) but are trusted in-process code: nothing authenticates or authorizes them on
 * the hub, and their `system:` names are kept (prefixed). The gateway drops every `system:`
 * group of a hub user, so no hub user can ever hold `<prefix>system:spokelink:controllers` on a
 * spoke: binding that group on a spoke grants the hub controllers, and only them.
 */
import { DEFAULT_GATEWAY_IDENTITY_PREFIX } from './gateway-options.ts';
import type { SpokeIdentity } from './hub-identity.ts';

/** The user the hub controllers are on a spoke, before the prefix. */
export const HUB_CONTROLLER_USER = 'system:spokelink:hub-controller';
/** The group of the hub controllers on a spoke, before the prefix. */
export const HUB_CONTROLLERS_GROUP = 'system:spokelink:controllers';

/** An identity for `ProxyServer.spokeKubeConfig`: names as on the hub, without the prefix. */
export interface InProcessIdentity {
  readonly user: string;
  readonly groups?: readonly string[];
}

/** The hub controllers' identity: {@link HUB_CONTROLLER_USER} in {@link HUB_CONTROLLERS_GROUP}. */
export const HUB_CONTROLLER_IDENTITY: InProcessIdentity = Object.freeze({
  user: HUB_CONTROLLER_USER,
  groups: Object.freeze([HUB_CONTROLLERS_GROUP]),
});

/**
 * `name` as the agent impersonates it on a spoke: `<prefix><name>`, with the gateway's default
 * prefix unless the proxy-server runs with another `gateway.identityPrefix`.
 */
export function spokeIdentityName(
  name: string,
  prefix: string = DEFAULT_GATEWAY_IDENTITY_PREFIX,
): string {
  return `${prefix}${name}`;
}

/**
 * The hub controllers' group as spokes see it with the default prefix,
 * `spokelink:hub:system:spokelink:controllers`: what a spoke binds (e.g. to cluster-admin) to
 * let the hub controllers act there.
 */
export const HUB_CONTROLLERS_SPOKE_GROUP = spokeIdentityName(HUB_CONTROLLERS_GROUP);

/** Printable ASCII without spaces: what an HTTP header value and an RBAC subject can carry. */
const NAME_PATTERN = /^[\x21-\x7e]+$/;

/**
 * The impersonation headers for an in-process identity: `<prefix><user>` and `<prefix><group>`
 * for each distinct group (none dropped). Throws TypeError naming the bad value for an empty
 * or non-printable user or group, or `system:masters` (which no spoke identity may carry, even
 * prefixed, so that a typo can never look like a grant of it).
 */
export function inProcessSpokeIdentity(identity: InProcessIdentity, prefix: string): SpokeIdentity {
  const check = (what: string, value: unknown): string => {
    if (typeof value !== 'string' || !NAME_PATTERN.test(value))
      throw new TypeError(
        `${what} must be a non-empty printable ASCII string without spaces, got ${JSON.stringify(value)}`,
      );
    if (value === 'system:masters') throw new TypeError(`${what} "system:masters" is refused`);
    return value;
  };
  const user = check('user', identity.user);
  const groups = [...new Set(identity.groups ?? [])].map((group) => check('group', group));
  return {
    user: spokeIdentityName(user, prefix),
    groups: groups.map((group) => spokeIdentityName(group, prefix)),
  };
}
