/**
 * Who may use the agent API and as whom (DESIGN §3.4): the caller must present a client
 * certificate from the hub CA with Organization `spokelink:gateways`, and every request must
 * either impersonate a prefixed identity or be a pass-through of the caller's own spoke token.
 * With the agent's token, the agent never acts as itself for the hub, never impersonates
 * `system:masters` or an unprefixed user or group, and refuses `Impersonate-Uid` and
 * `Impersonate-Extra-*` (the gateway has no reason to send them, and they would let a caller
 * shape authorization decisions beyond user and groups). A pass-through request carries the
 * caller's `Authorization` and never the agent's token, so its `Impersonate-*` headers are the
 * spoke's to judge against that token's identity. Pure; no I/O.
 */
import {
  GATEWAY_ORGANIZATION,
  PASS_THROUGH_HEADER,
  PASS_THROUGH_VALUE,
} from '../../protocol/index.ts';

/** The identity prefix used when `agentApi.identityPrefix` is not set. */
export const DEFAULT_IDENTITY_PREFIX = 'spokelink:hub:';

/** Every reason a caller or request is refused; the label of `spokelink_agent_api_refused_total`. */
export const AGENT_API_REFUSAL_REASONS = [
  /** The TLS handshake failed or timed out (before any HTTP). */
  'tls-handshake',
  /** The caller sent no client certificate. */
  'no-client-certificate',
  /** The client certificate does not chain to the hub CA (or is expired). */
  'untrusted-certificate',
  /** A hub-CA certificate without Organization `spokelink:gateways` (e.g. an agent's). */
  'not-a-gateway',
  /** No `Impersonate-User`: the agent never acts as itself for the hub. */
  'missing-user',
  /** More than one `Impersonate-User` header. */
  'repeated-user',
  /** `Impersonate-User` without the identity prefix. */
  'unprefixed-user',
  /** An `Impersonate-Group` without the identity prefix. */
  'unprefixed-group',
  /** `system:masters` as user or group. */
  'system-masters',
  /** `Impersonate-Uid`, `Impersonate-Extra-*` or another `Impersonate-*` header. */
  'forbidden-header',
  /**
   * A pass-through marker with another value or repeated, or a pass-through request without
   * exactly one non-empty `Authorization` (the caller's own spoke credential).
   */
  'invalid-pass-through',
] as const;

/** One of {@link AGENT_API_REFUSAL_REASONS}. */
export type AgentApiRefusalReason = (typeof AGENT_API_REFUSAL_REASONS)[number];

/** Why a caller or request is refused; `message` goes into the 403 Status body. */
export interface AgentApiRefusal {
  readonly reason: AgentApiRefusalReason;
  readonly message: string;
}

/** What the TLS layer says about the caller (from the TLSSocket after the handshake). */
export interface CallerCertificate {
  /** False when no client certificate was sent. */
  readonly hasCertificate: boolean;
  /** The chain verified against the hub CA. */
  readonly isAuthorized: boolean;
  /** OpenSSL's verify error code when not authorized, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  readonly authorizationError?: string | undefined;
  readonly commonName?: string | undefined;
  readonly organizations: readonly string[];
}

const SYSTEM_MASTERS = 'system:masters';
const IMPERSONATE_USER = 'impersonate-user';
const IMPERSONATE_GROUP = 'impersonate-group';
const IMPERSONATE_PREFIX = 'impersonate-';

/** Refuses a caller that is not the hub's gateway; undefined when it is. */
export function checkCaller(caller: CallerCertificate): AgentApiRefusal | undefined {
  if (!caller.hasCertificate) {
    return {
      reason: 'no-client-certificate',
      message: 'the agent API requires a client certificate issued by the hub CA',
    };
  }
  if (!caller.isAuthorized) {
    return {
      reason: 'untrusted-certificate',
      message: `client certificate is not trusted: ${caller.authorizationError ?? 'unknown error'}`,
    };
  }
  if (!caller.organizations.includes(GATEWAY_ORGANIZATION)) {
    return {
      reason: 'not-a-gateway',
      message: `client certificate ${JSON.stringify(caller.commonName ?? '')} is not in organization ${JSON.stringify(GATEWAY_ORGANIZATION)}`,
    };
  }
  return undefined;
}

/** `impersonate-extra-scopes` → `Impersonate-Extra-Scopes`, for messages. */
function canonicalHeaderName(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => {
    return `${dash}${letter.toUpperCase()}`;
  });
}

function isPrefixed(value: string, prefix: string): boolean {
  return value.length > prefix.length && value.startsWith(prefix);
}

/**
 * Checks a request's impersonation headers. `headers` maps lowercase header names to every
 * value received (Node's `IncomingMessage.headersDistinct`), so repeated `Impersonate-Group`
 * headers are seen one by one, as the API server sees them. Returns undefined when the request
 * may be forwarded as is.
 */
export function checkImpersonation(
  headers: Readonly<Record<string, readonly string[] | undefined>>,
  prefix: string,
): AgentApiRefusal | undefined {
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (
      lower.startsWith(IMPERSONATE_PREFIX) &&
      lower !== IMPERSONATE_USER &&
      lower !== IMPERSONATE_GROUP
    ) {
      return {
        reason: 'forbidden-header',
        message: `header ${canonicalHeaderName(lower)} is refused by the agent API`,
      };
    }
  }
  const users = headers[IMPERSONATE_USER] ?? [];
  const [user] = users;
  if (user === undefined) {
    return {
      reason: 'missing-user',
      message: `the agent API requires an Impersonate-User header starting with ${JSON.stringify(prefix)}`,
    };
  }
  if (users.length > 1) {
    return { reason: 'repeated-user', message: 'exactly one Impersonate-User header is allowed' };
  }
  const prefixRule = `: impersonated identities must start with ${JSON.stringify(prefix)}`;
  if (user === SYSTEM_MASTERS) {
    return { reason: 'system-masters', message: `impersonated user "system:masters" is refused` };
  }
  if (!isPrefixed(user, prefix)) {
    return {
      reason: 'unprefixed-user',
      message: `impersonated user ${JSON.stringify(user)} is refused${prefixRule}`,
    };
  }
  for (const group of headers[IMPERSONATE_GROUP] ?? []) {
    if (group === SYSTEM_MASTERS) {
      return {
        reason: 'system-masters',
        message: `impersonated group "system:masters" is refused`,
      };
    }
    if (!isPrefixed(group, prefix)) {
      return {
        reason: 'unprefixed-group',
        message: `impersonated group ${JSON.stringify(group)} is refused${prefixRule}`,
      };
    }
  }
  return undefined;
}

/**
 * Whether the gateway marked the request as a pass-through (any `Spokelink-Pass-Through`
 * header, valid or not: {@link checkPassThrough} judges it). Decide once per request and use
 * the same answer for the check and for forwarding.
 */
export function isPassThrough(
  headers: Readonly<Record<string, readonly string[] | undefined>>,
): boolean {
  return headers[PASS_THROUGH_HEADER] !== undefined;
}

/**
 * Checks a pass-through request: exactly one marker with the value `spoke-token`, and exactly
 * one non-empty `Authorization` (the caller's own credential; the agent must never send its
 * own in its place). `Impersonate-*` headers are not checked: the spoke decides them against
 * the caller's identity. Returns undefined when the request may be forwarded.
 */
export function checkPassThrough(
  headers: Readonly<Record<string, readonly string[] | undefined>>,
): AgentApiRefusal | undefined {
  const markers = headers[PASS_THROUGH_HEADER] ?? [];
  if (markers.length !== 1 || markers[0] !== PASS_THROUGH_VALUE) {
    return {
      reason: 'invalid-pass-through',
      message: `header Spokelink-Pass-Through must be sent once, as ${JSON.stringify(PASS_THROUGH_VALUE)}`,
    };
  }
  const authorizations = headers['authorization'] ?? [];
  if (authorizations.length !== 1 || authorizations[0]?.trim() === '') {
    return {
      reason: 'invalid-pass-through',
      message:
        "a pass-through request must carry exactly one Authorization header: the caller's own credential",
    };
  }
  return undefined;
}
